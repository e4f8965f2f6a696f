// The report as GitHub-flavoured markdown: summary, then every table of report_tables().
#pragma once

#include <string>

#include "reports/report.h"

namespace ptbench::reports {

std::string render_markdown(const Report& report);

}  // namespace ptbench::reports
