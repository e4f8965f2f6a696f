// Subcommands that live in their own files (harness/cli_*.cpp) register themselves with the
// ptbench command line through this small seam, so main.cpp stays a list.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace ptbench {

struct CliCommand {
  CLI::App* app = nullptr;       // the parsed subcommand
  std::function<int()> run;      // runs it after parsing; returns the exit status
};

CliCommand add_sweep_command(CLI::App& app);  // harness/cli_sweep.cpp: `ptbench sweep FILE`
CliCommand add_cost_command(CLI::App& app);   // harness/cli_cost.cpp: `ptbench cost`
CliCommand add_pretrain_command(CLI::App& app);  // harness/cli_pretrain.cpp: `ptbench pretrain`
CliCommand add_report_command(CLI::App& app);  // harness/cli_report.cpp: `ptbench report RESULTS`

}  // namespace ptbench
