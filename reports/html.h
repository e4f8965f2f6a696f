// The report as one self-contained HTML page: the tables of report_tables() and the gnuplot
// charts inlined as SVG (no scripts, no external files).
#pragma once

#include <string>
#include <vector>

#include "reports/charts.h"
#include "reports/report.h"

namespace ptbench::reports {

// With the charts already drawn (draw_charts), so the page itself needs no gnuplot.
std::string render_html(const Report& report, const std::vector<Chart>& charts);

// Text for HTML element content and attribute values.
std::string html_escape(const std::string& text);

}  // namespace ptbench::reports
