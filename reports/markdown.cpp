#include "reports/markdown.h"

#include <sstream>

namespace ptbench::reports {
namespace {

// A table cell: pipes would end the cell, newlines the row.
std::string cell_text(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '|') escaped += "\\|";
    else if (c == '\n') escaped += ' ';
    else escaped += c;
  }
  return escaped;
}

}  // namespace

std::string render_markdown(const Report& report) {
  std::ostringstream out;
  out << "# ptbench report\n\n";
  for (const std::string& line : summary_lines(report)) out << line << "\n";
  for (const TextTable& table : report_tables(report)) {
    out << "\n## " << table.title << "\n\n" << table.caption << "\n\n|";
    for (const std::string& column : table.header) out << " " << cell_text(column) << " |";
    out << "\n|";
    for (std::size_t i = 0; i < table.header.size(); ++i) out << "---|";
    out << "\n";
    for (const auto& row : table.rows) {
      out << "|";
      for (const std::string& value : row) out << " " << cell_text(value) << " |";
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace ptbench::reports
