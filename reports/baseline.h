// Score regression checks against a baseline file (results/baselines/*.json): per cell the
// expected primary score and a tolerance in points, plus the trainable parameter count. CI runs
// `ptbench report DIR --check BASELINE`; `ptbench report DIR --write-baseline BASELINE` rewrites
// the file from the records in DIR.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/report.h"

namespace ptbench::reports {

struct BaselineOptions {
  double min_tolerance = 1.0;     // points; the tolerance of a cell is at least this
  double std_multiplier = 2.0;    // … and at least this many standard deviations over seeds
  // Relative tolerance of the final training loss, checked in both directions: on CPU with the
  // same thread count a run is deterministic, so a drift beyond float noise across machines means
  // the pipeline computes something else, even when a degenerate score does not move.
  double loss_relative_tolerance = 0.005;
  std::string rewrite_command;    // the command that rewrites the file, recorded in it
};

// {"schema": "ptbench-baseline/1", "rewrite": …, "cells": [{"cell", "label", "key", "metric",
//   "expected", "tolerance", "n", "trainable_parameters", "train_loss": {"expected",
//   "relative_tolerance"}}]} for every cell with a score.
nlohmann::json make_baseline(const Report& report, const BaselineOptions& options);

struct CheckFinding {
  std::string cell;     // the baseline cell's label and id
  std::string message;  // one line
  bool fails = false;   // regression, missing cell, parameter change, loss drift; false for notes (improvements, new cells)
};

// Compares the report's cells with the baseline. A baseline cell matches the report cell whose
// group key contains its key (extra keys in the records are spec keys added since the baseline
// was written). `baseline_name` names the file in messages. Malformed baselines are Errors.
std::vector<CheckFinding> check_baseline(const Report& report, const nlohmann::json& baseline, const std::string& baseline_name);

}  // namespace ptbench::reports
