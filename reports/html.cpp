#include "reports/html.h"

#include <sstream>

namespace ptbench::reports {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
p.caption { color: #555; font-size: 0.9em; max-width: 70em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafafa; }
td.verdict-yes { background: #e3f4e1 !important; } td.verdict-no { background: #fbe3e3 !important; }
figure.chart { display: inline-block; margin: 0.5em 1em 1.5em 0; vertical-align: top; }
figure.chart figcaption { font-size: 0.85em; color: #555; max-width: 760px; }
nav a { margin-right: 1em; }
)";

}  // namespace

std::string render_html(const Report& report, const std::vector<Chart>& charts) {
  const std::vector<TextTable> tables = report_tables(report);
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ptbench report: "
      << html_escape(report.results_dir.string()) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
      << "<h1>ptbench report</h1>\n";
  for (const std::string& line : summary_lines(report)) out << "<p>" << html_escape(line) << "</p>\n";
  out << "<nav>";
  for (const TextTable& table : tables) out << "<a href=\"#" << html_escape(table.id) << "\">" << html_escape(table.title) << "</a>";
  if (!charts.empty()) out << "<a href=\"#charts\">Charts</a>";
  out << "</nav>\n";
  for (const TextTable& table : tables) {
    out << "<section id=\"" << html_escape(table.id) << "\">\n<h2>" << html_escape(table.title) << "</h2>\n<p class=\"caption\">"
        << html_escape(table.caption) << "</p>\n<table>\n<thead><tr>";
    std::size_t verdict_column = table.header.size();
    for (std::size_t c = 0; c < table.header.size(); ++c) {
      if (table.header[c] == "in CI") verdict_column = c;
      out << "<th>" << html_escape(table.header[c]) << "</th>";
    }
    out << "</tr></thead>\n<tbody>\n";
    for (const auto& row : table.rows) {
      out << "<tr>";
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c == verdict_column && (row[c] == "yes" || row[c] == "no")) {
          out << "<td class=\"verdict-" << row[c] << "\">" << row[c] << "</td>";
        } else {
          out << "<td>" << html_escape(row[c]) << "</td>";
        }
      }
      out << "</tr>\n";
    }
    out << "</tbody>\n</table>\n</section>\n";
  }
  if (!charts.empty()) {
    out << "<section id=\"charts\">\n<h2>Charts</h2>\n";
    for (const Chart& chart : charts) {
      out << "<figure class=\"chart\" id=\"" << html_escape(chart.id) << "\">\n" << chart.svg << "\n<figcaption><b>"
          << html_escape(chart.title) << "</b>. " << html_escape(chart.caption) << "</figcaption>\n</figure>\n";
    }
    out << "</section>\n";
  }
  out << "<footer><p class=\"caption\">Written by ptbench report; charts drawn by gnuplot.</p></footer>\n</body>\n</html>\n";
  return out.str();
}

}  // namespace ptbench::reports
