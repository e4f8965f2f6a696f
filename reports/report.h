// A report (DESIGN.md "Report"): the cells aggregated from a results folder, their comparison
// with reference tables and claims, and the tables both writers (markdown, HTML) print. The
// writers only format; every number is computed here or in aggregate/reference.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reports/aggregate.h"
#include "reports/reference.h"

namespace ptbench::reports {

struct Report {
  std::filesystem::path results_dir;
  double confidence = 0.95;
  RecordSet records;
  std::vector<Cell> cells;
  std::vector<Reference> references;          // comparisons and claims point into these
  std::vector<TableComparison> comparisons;   // one per reference table
  std::vector<ClaimResult> claims;

  Report() = default;
  Report(const Report&) = delete;  // comparisons hold pointers into `references`
  Report& operator=(const Report&) = delete;
  Report(Report&&) = default;
  Report& operator=(Report&&) = default;
};

Report build_report(const std::filesystem::path& results_dir, const std::vector<std::filesystem::path>& reference_files,
                    double confidence = 0.95);

// A table as both writers print it: plain text cells, no markup.
struct TextTable {
  std::string id;       // anchor (HTML id), e.g. "results"
  std::string title;
  std::string caption;  // sources and how to read the table
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Summary lines (records read, cells, statuses, ignored files).
std::vector<std::string> summary_lines(const Report& report);

// Results, one table per reference table, claims, costs, runs needing attention (tables without
// rows are left out).
std::vector<TextTable> report_tables(const Report& report);

// Number formatting shared by the writers: fixed decimals, "—" for NaN.
std::string format_fixed(double value, int decimals);
// 1234567 → "1.23M", 20480 → "20.5k".
std::string format_count(double value);
// Bytes in B/KiB/MiB/GiB.
std::string format_bytes(double value);

}  // namespace ptbench::reports
