// Experiment files (experiments/*.json, schema in experiments/README.md): a base run spec, named
// axes crossed as a grid and/or listed as explicit cells, per-cell overrides applied by JSON
// merge-patch, and seeds. Expanding one gives the list of distinct RunSpecs a sweep executes
// (DESIGN.md section 2: "A sweep is a list of RunSpecs (grid × seeds) handed to an executor").
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run_spec.h"

namespace ptbench {

// One run of a sweep.
struct PlannedRun {
  std::size_t index = 0;    // position in the expanded sweep (0-based, stable for a given file)
  RunSpec spec;             // resolved and validated
  std::string run_id;       // spec.run_id(): the record's file stem
  std::string label;        // what sets this run apart: "method=prompt lr=0.3 seed=2"
};

struct Experiment {
  std::string name;                  // "name", else the file stem
  std::string description;           // "description" (free text)
  std::filesystem::path file;        // where it was read from ("" when built from JSON)
  std::string out;                   // "out": default output folder ("" = results/runs/<name>)
  std::vector<PlannedRun> runs;      // distinct runs in expansion order
  std::vector<std::string> notes;    // e.g. cells that resolved to the same run as an earlier one
};

// Shorthand axis names and the spec key each stands for ("lr" → "train.lr"); any other axis
// needs a dotted key path, a top-level spec key as its name, or patch values.
const std::vector<std::pair<std::string, std::string>>& axis_key_aliases();

// Expands an experiment document. `where` names it in errors (the file path). `patches` (from
// `ptbench sweep --set`) are merged last into every run.
Experiment expand_experiment(const nlohmann::ordered_json& document, const std::string& where,
                             const std::vector<nlohmann::json>& patches = {});

// Reads and expands an experiment file; errors name the file and the key or run at fault.
Experiment load_experiment(const std::filesystem::path& file, const std::vector<nlohmann::json>& patches = {});

}  // namespace ptbench
