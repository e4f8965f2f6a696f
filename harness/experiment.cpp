#include "harness/experiment.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "harness/config.h"

namespace ptbench {
namespace {

using ordered_json = nlohmann::ordered_json;

nlohmann::json plain(const ordered_json& value) { return nlohmann::json::parse(value.dump()); }

// A spec may name its method by a string; patches address method.name, so keep the object form.
void normalize_method(nlohmann::json& patch) {
  if (patch.is_object() && patch.contains("method") && patch["method"].is_string()) {
    patch["method"] = nlohmann::json{{"name", patch["method"]}};
  }
}

std::string compact(const nlohmann::json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.size() > 48) text = text.substr(0, 45) + "...";
  return text;
}

// {"train": {"lr": value}} for "train.lr".
nlohmann::json patch_at(const std::string& key, const nlohmann::json& value) {
  nlohmann::json patch = value;
  std::string rest = key;
  while (!rest.empty()) {
    const auto dot = rest.rfind('.');
    const std::string part = dot == std::string::npos ? rest : rest.substr(dot + 1);
    patch = nlohmann::json{{part, patch}};
    rest = dot == std::string::npos ? std::string() : rest.substr(0, dot);
  }
  return patch;
}

const nlohmann::json* value_at(const nlohmann::json& root, const std::string& key) {
  const nlohmann::json* node = &root;
  std::size_t start = 0;
  while (start <= key.size()) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

// The spec key an axis or `when` name stands for: an alias, a dotted path, or a top-level spec
// key; "" when it is none of these.
std::string key_for(const std::string& name) {
  for (const auto& [alias, key] : axis_key_aliases())
    if (name == alias) return key;
  if (name.find('.') != std::string::npos) return name;
  if (run_spec_defaults().contains(name)) return name;
  return "";
}

std::string known_aliases() {
  std::string text;
  for (const auto& [alias, key] : axis_key_aliases()) text += (text.empty() ? "" : ", ") + alias + " → " + key;
  return text;
}

struct Axis {
  std::string name;
  std::string key;                     // dotted spec path; "" when the values are merge-patches
  std::vector<nlohmann::json> values;
  std::vector<std::string> labels;     // per value (given, else the compact value)
};

// One coordinate of a cell: an axis (or key) and its value.
struct Coordinate {
  std::string name;
  std::string key;
  nlohmann::json value;
  std::string label;
};

nlohmann::json patch_of(const Coordinate& c) {
  nlohmann::json patch = c.key.empty() ? c.value : patch_at(c.key, c.value);
  normalize_method(patch);
  return patch;
}

struct Override {
  std::vector<std::pair<std::string, nlohmann::json>> when;  // name → value or any-of list
  nlohmann::json patch;
};

void check_keys(const ordered_json& object, const std::vector<std::string>& known, const std::string& where) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      fail(where, ": unknown key '", item.key(), "'", suggestion_suffix(item.key(), known), " (known: ", join(known, ", "),
           ")");
    }
  }
}

Axis parse_axis(const std::string& name, const ordered_json& json, const std::string& where) {
  Axis axis;
  axis.name = name;
  const std::string at = where + ": axes." + name;
  const ordered_json* values = &json;
  if (json.is_object()) {
    check_keys(json, {"key", "values", "labels"}, at);
    if (!json.contains("values")) fail(at, ": an axis object needs \"values\": [...]");
    values = &json["values"];
    if (json.contains("key")) {
      if (!json["key"].is_string() || json["key"].get<std::string>().empty()) fail(at, ".key must be a spec key path such as \"train.lr\"");
      axis.key = json["key"].get<std::string>();
    }
  } else {
    axis.key = key_for(name);
  }
  if (!values->is_array() || values->empty()) fail(at, ": values must be a non-empty list");
  for (const ordered_json& value : *values) axis.values.push_back(plain(value));
  if (axis.key.empty()) {
    for (const nlohmann::json& value : axis.values) {
      if (!value.is_object()) {
        fail(at, ": '", name, "' is not a spec key (shorthands: ", known_aliases(),
             "); give \"key\": \"path.in.spec\", or make every value a merge-patch object");
      }
    }
  }
  if (json.is_object() && json.contains("labels")) {
    const ordered_json& labels = json["labels"];
    if (!labels.is_array() || labels.size() != axis.values.size()) fail(at, ".labels must be a list as long as values");
    for (const ordered_json& label : labels) {
      if (!label.is_string()) fail(at, ".labels must be strings");
      axis.labels.push_back(label.get<std::string>());
    }
  } else {
    for (const nlohmann::json& value : axis.values) axis.labels.push_back(compact(value));
  }
  return axis;
}

bool equals_or_any_of(const nlohmann::json& actual, const nlohmann::json& expected) {
  if (actual == expected) return true;
  if (expected.is_array()) {
    for (const nlohmann::json& option : expected)
      if (actual == option) return true;
  }
  return false;
}

bool matches(const Override& rule, const std::vector<Coordinate>& cell, const nlohmann::json& view) {
  for (const auto& [name, expected] : rule.when) {
    const auto coordinate = std::find_if(cell.begin(), cell.end(), [&](const Coordinate& c) { return c.name == name; });
    if (coordinate != cell.end()) {
      const bool label_match = expected.is_string() ? coordinate->label == expected.get<std::string>()
                                                    : expected.is_array() && std::any_of(expected.begin(), expected.end(), [&](const nlohmann::json& e) {
                                                        return e.is_string() && e.get<std::string>() == coordinate->label;
                                                      });
      if (!equals_or_any_of(coordinate->value, expected) && !label_match) return false;
      continue;
    }
    const std::string key = key_for(name);
    const nlohmann::json* actual = key.empty() ? nullptr : value_at(view, key);
    if (!actual || !equals_or_any_of(*actual, expected)) return false;
  }
  return true;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& axis_key_aliases() {
  static const std::vector<std::pair<std::string, std::string>> aliases = {
      {"method", "method.name"},         {"lr", "train.lr"},
      {"seed", "train.seed"},            {"epochs", "train.epochs"},
      {"max_steps", "train.max_steps"},  {"batch_size", "train.batch_size"},
      {"optimizer", "train.optimizer"},  {"weight_decay", "train.weight_decay"},
      {"warmup_ratio", "train.warmup_ratio"}, {"max_seq_length", "train.max_seq_length"},
  };
  return aliases;
}

Experiment expand_experiment(const ordered_json& document, const std::string& where,
                             const std::vector<nlohmann::json>& patches) {
  if (!document.is_object()) fail(where, ": an experiment file is a JSON object (see experiments/README.md)");
  check_keys(document, {"name", "description", "out", "base", "axes", "grid", "cells", "overrides", "seeds"}, where);
  Experiment experiment;
  auto string_field = [&](const char* key) {
    if (!document.contains(key)) return std::string();
    if (!document[key].is_string()) fail(where, ": \"", key, "\" must be a string");
    return document[key].get<std::string>();
  };
  experiment.name = string_field("name");
  experiment.description = string_field("description");
  experiment.out = string_field("out");

  nlohmann::json base = nlohmann::json::object();
  if (document.contains("base")) {
    if (!document["base"].is_object()) fail(where, ": \"base\" must be a run spec object");
    base = plain(document["base"]);
    normalize_method(base);
  }

  std::vector<Axis> axes;
  if (document.contains("axes")) {
    if (!document["axes"].is_object()) fail(where, ": \"axes\" must be an object of named axes");
    for (const auto& item : document["axes"].items()) axes.push_back(parse_axis(item.key(), item.value(), where));
  }
  auto find_axis = [&](const std::string& name) -> const Axis* {
    for (const Axis& axis : axes)
      if (axis.name == name) return &axis;
    return nullptr;
  };
  std::vector<std::string> axis_names;
  for (const Axis& axis : axes) axis_names.push_back(axis.name);

  // The grid: the axes crossed (default: every axis, unless explicit cells are given).
  std::vector<const Axis*> grid;
  if (document.contains("grid")) {
    if (!document["grid"].is_array()) fail(where, ": \"grid\" must be a list of axis names");
    for (const ordered_json& name : document["grid"]) {
      const Axis* axis = name.is_string() ? find_axis(name.get<std::string>()) : nullptr;
      if (!axis) {
        const std::string text = name.is_string() ? name.get<std::string>() : name.dump();
        fail(where, ": grid names '", text, "', which is not an axis", suggestion_suffix(text, axis_names));
      }
      if (std::find(grid.begin(), grid.end(), axis) != grid.end()) fail(where, ": grid names axis '", axis->name, "' twice");
      grid.push_back(axis);
    }
  } else if (!document.contains("cells")) {
    for (const Axis& axis : axes) grid.push_back(&axis);
  }

  std::vector<std::vector<Coordinate>> cells;
  std::set<std::string> used_axes;
  if (!grid.empty()) {
    std::vector<std::size_t> position(grid.size(), 0);
    while (true) {
      std::vector<Coordinate> cell;
      for (std::size_t a = 0; a < grid.size(); ++a) {
        const Axis& axis = *grid[a];
        cell.push_back({axis.name, axis.key, axis.values[position[a]], axis.labels[position[a]]});
        used_axes.insert(axis.name);
      }
      cells.push_back(std::move(cell));
      // Odometer with the last axis fastest, so the first axis is the outermost loop.
      std::size_t a = grid.size();
      while (a > 0 && ++position[a - 1] == grid[a - 1]->values.size()) position[--a] = 0;
      if (a == 0) break;
    }
  }
  if (document.contains("cells")) {
    if (!document["cells"].is_array()) fail(where, ": \"cells\" must be a list of objects");
    std::size_t n = 0;
    for (const ordered_json& entry : document["cells"]) {
      const std::string at = where + ": cells[" + std::to_string(n++) + "]";
      if (!entry.is_object()) fail(at, " must be an object mapping axis names or spec keys to values");
      std::vector<Coordinate> cell;
      for (const auto& item : entry.items()) {
        const nlohmann::json value = plain(item.value());
        if (const Axis* axis = find_axis(item.key())) {
          used_axes.insert(axis->name);
          nlohmann::json chosen = value;
          std::string label = compact(value);
          if (axis->key.empty()) {
            // A patch axis: the value is a patch, or the label of one of the axis's values.
            const auto labelled = std::find(axis->labels.begin(), axis->labels.end(), label);
            if (value.is_string() && labelled != axis->labels.end()) {
              chosen = axis->values[static_cast<std::size_t>(labelled - axis->labels.begin())];
            } else if (!value.is_object()) {
              fail(at, ".", item.key(), ": axis '", axis->name, "' takes merge-patch objects or one of its labels (",
                   join(axis->labels, ", "), ")");
            }
          } else {
            const auto known = std::find(axis->values.begin(), axis->values.end(), value);
            if (known != axis->values.end()) label = axis->labels[static_cast<std::size_t>(known - axis->values.begin())];
          }
          cell.push_back({axis->name, axis->key, chosen, label});
        } else {
          const std::string key = key_for(item.key());
          if (key.empty()) {
            fail(at, ": '", item.key(), "' is neither an axis", suggestion_suffix(item.key(), axis_names),
                 " nor a spec key (shorthands: ", known_aliases(), ")");
          }
          cell.push_back({item.key(), key, value, compact(value)});
        }
      }
      cells.push_back(std::move(cell));
    }
  }
  for (const Axis& axis : axes) {
    if (!used_axes.count(axis.name)) {
      fail(where, ": axis '", axis.name, "' is used neither by \"grid\" nor by any of \"cells\"");
    }
  }
  if (cells.empty()) cells.emplace_back();  // no axes: the base alone

  std::vector<Override> overrides;
  if (document.contains("overrides")) {
    if (!document["overrides"].is_array()) fail(where, ": \"overrides\" must be a list of {\"when\": …, \"patch\": …}");
    std::size_t n = 0;
    for (const ordered_json& entry : document["overrides"]) {
      const std::string at = where + ": overrides[" + std::to_string(n++) + "]";
      if (!entry.is_object()) fail(at, " must be an object {\"when\": {...}, \"patch\": {...}}");
      check_keys(entry, {"when", "patch"}, at);
      if (!entry.contains("patch") || !entry["patch"].is_object()) fail(at, ": \"patch\" must be a merge-patch object");
      Override rule;
      rule.patch = plain(entry["patch"]);
      normalize_method(rule.patch);
      if (entry.contains("when")) {
        if (!entry["when"].is_object()) fail(at, ": \"when\" must be an object of axis names or spec keys");
        for (const auto& item : entry["when"].items()) {
          if (!find_axis(item.key()) && key_for(item.key()).empty()) {
            fail(at, ".when: '", item.key(), "' is neither an axis", suggestion_suffix(item.key(), axis_names),
                 " nor a spec key");
          }
          rule.when.emplace_back(item.key(), plain(item.value()));
        }
      }
      overrides.push_back(std::move(rule));
    }
  }

  std::vector<std::int64_t> seeds;
  if (document.contains("seeds")) {
    const ordered_json& list = document["seeds"];
    if (!list.is_array() || list.empty()) fail(where, ": \"seeds\" must be a non-empty list of integers");
    for (const ordered_json& seed : list) {
      if (!seed.is_number_integer()) fail(where, ": \"seeds\" must hold integers, got ", seed.dump());
      seeds.push_back(seed.get<std::int64_t>());
    }
    for (const Axis& axis : axes)
      if (axis.key == "train.seed") fail(where, ": give seeds either as \"seeds\" or as axis '", axis.name, "', not both");
  }

  std::map<std::string, std::size_t> seen;  // run id → index
  auto add_run = [&](const std::vector<Coordinate>& cell, const std::optional<std::int64_t>& seed) {
    nlohmann::json merged = base;
    std::string label;
    for (const Coordinate& c : cell) {
      apply_merge_patch(merged, patch_of(c));
      label += (label.empty() ? "" : " ") + c.name + "=" + c.label;
    }
    nlohmann::json view = RunSpec{}.to_json();  // defaults visible to `when`
    apply_merge_patch(view, merged);
    for (const Override& rule : overrides)
      if (matches(rule, cell, view)) apply_merge_patch(merged, rule.patch);
    if (seed) {
      apply_merge_patch(merged, {{"train", {{"seed", *seed}}}});
      label += (label.empty() ? "" : " ") + std::string("seed=") + std::to_string(*seed);
    }
    if (label.empty()) label = "base";
    PlannedRun run;
    try {
      run.spec = resolve_run_spec(merged, patches);
    } catch (const Error& e) {
      fail(where, ": run '", label, "': ", e.what());
    }
    run.run_id = run.spec.run_id();
    run.label = label;
    if (const auto found = seen.find(run.run_id); found != seen.end()) {
      experiment.notes.push_back("run '" + label + "' is the same run as #" + std::to_string(found->second) + " ('" +
                                 experiment.runs[found->second].label + "'): listed once");
      return;
    }
    run.index = experiment.runs.size();
    seen.emplace(run.run_id, run.index);
    experiment.runs.push_back(std::move(run));
  };
  for (const std::vector<Coordinate>& cell : cells) {
    if (seeds.empty()) {
      add_run(cell, std::nullopt);
    } else {
      for (std::int64_t seed : seeds) add_run(cell, seed);
    }
  }
  return experiment;
}

Experiment load_experiment(const std::filesystem::path& file, const std::vector<nlohmann::json>& patches) {
  ordered_json document;
  try {
    document = ordered_json::parse(read_text_file(file));
  } catch (const ordered_json::parse_error& e) {
    fail(file.string(), ": not valid JSON (", e.what(), ")");
  }
  Experiment experiment = expand_experiment(document, file.string(), patches);
  experiment.file = file;
  if (experiment.name.empty()) experiment.name = file.stem().string();
  return experiment;
}

}  // namespace ptbench
