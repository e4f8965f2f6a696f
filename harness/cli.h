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

}  // namespace ptbench
