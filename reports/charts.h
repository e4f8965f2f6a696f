// The report's charts, drawn by gnuplot (Debian gnuplot-nox) with its SVG terminal: score vs
// trainable parameters (log x) per task, seed spread per cell, cost bars per method. One gnuplot
// process draws them all; the SVGs are returned for inlining into the HTML page.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reports/report.h"

namespace ptbench::reports {

struct Chart {
  std::string id;       // HTML anchor, unique in the page ("score-rte")
  std::string title;
  std::string caption;  // how to read it
  std::string svg;      // "<svg …>…</svg>", ids prefixed with the chart id so charts can share a page
};

// The gnuplot program for the report's charts, writing chart i to `output_dir / (id + ".svg")`.
// `charts` receives the charts in order, without their SVG.
std::string gnuplot_program(const Report& report, const std::filesystem::path& output_dir, std::vector<Chart>& charts);

// Runs gnuplot (found on PATH) on the program and returns the charts with their SVG. No
// gnuplot is an Error naming the Debian package; a gnuplot error is an Error with its message.
std::vector<Chart> draw_charts(const Report& report);

// Makes a gnuplot SVG fit for inlining: drops the XML prolog and prefixes every id and local
// reference (id='gpPt0', href='#gpPt0', url(#…)) with `prefix`.
std::string inline_svg(const std::string& svg, const std::string& prefix);

}  // namespace ptbench::reports
