#include "reports/aggregate.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"

namespace ptbench::reports {
namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& execution_only_keys() {
  static const std::vector<std::string> keys = {"/train/seed",          "/train/threads",         "/train/log_every",
                                                "/train/save_trainable", "/train/eval_batch_size", "/data_dir"};
  return keys;
}

double points_scale(const std::string& task) { return task == "squad" || task == "squad_v2" ? 1.0 : 100.0; }

bool RunSummary::scored() const { return (status == "ok" || status == "degenerate") && points(primary_metric).has_value(); }

std::optional<double> RunSummary::points(const std::string& metric) const {
  if (!metrics.is_object()) return std::nullopt;
  auto it = metrics.find(metric);
  if (it == metrics.end() || !it->is_number()) return std::nullopt;
  return it->get<double>() * points_scale(task);
}

std::string scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "null";
  return value.dump();
}

bool json_subset(const json& pattern, const json& value) {
  if (pattern.is_null()) return true;
  if (pattern.is_object()) {
    if (!value.is_object()) return false;
    for (const auto& [key, expected] : pattern.items()) {
      auto it = value.find(key);
      if (it == value.end() || !json_subset(expected, *it)) return false;
    }
    return true;
  }
  if (pattern.is_number() && value.is_number()) return pattern.get<double>() == value.get<double>();
  return pattern == value;
}

int method_rank(const std::string& method) {
  static const std::vector<std::string> order = {"full", "prompt", "ptuning", "prefix", "smop"};
  auto it = std::find(order.begin(), order.end(), method);
  return it == order.end() ? static_cast<int>(order.size()) : static_cast<int>(it - order.begin());
}

std::string Cell::label() const {
  std::string text = backbone + " / " + task + " / " + method;
  if (!variant.empty()) text += " [" + variant + "]";
  return text;
}

namespace {

// The value at a JSON pointer, or an Error naming the file and the key.
const json& required(const json& record, const std::string& pointer, const fs::path& file) {
  const json::json_pointer where(pointer);
  if (!record.contains(where)) fail(file.string(), ": run record has no ", pointer.substr(1), " (not written by ptbench train?)");
  return record.at(where);
}

std::string required_string(const json& record, const std::string& pointer, const fs::path& file) {
  const json& value = required(record, pointer, file);
  if (!value.is_string()) fail(file.string(), ": ", pointer.substr(1), " must be a string, got ", value.dump());
  return value.get<std::string>();
}

std::optional<double> number_at(const json& record, const std::string& pointer) {
  const json::json_pointer where(pointer);
  if (!record.contains(where) || !record.at(where).is_number()) return std::nullopt;
  return record.at(where).get<double>();
}

// A model folder's name ("../models/bert-large/" → "bert-large"): records from machines with
// different folder layouts then group together.
std::string folder_name(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

void erase_pointer(json& value, const std::string& pointer) {
  const json::json_pointer where(pointer);
  if (!value.contains(where)) return;
  value.at(where.parent_pointer()).erase(where.back());
}

RunCosts read_costs(const json& record) {
  RunCosts costs;
  costs.total_parameters = number_at(record, "/parameters/total");
  costs.trainable_parameters = number_at(record, "/parameters/trainable");
  costs.trainable_percent = number_at(record, "/parameters/trainable_percent");
  costs.stored_bytes = number_at(record, "/parameters/stored_bytes");
  costs.step_ms = number_at(record, "/costs/step_time/median_ms");
  costs.train_examples_per_s = number_at(record, "/costs/train_examples_per_s");
  costs.peak_rss_mb = number_at(record, "/costs/peak_rss_mb");
  costs.train_flops_per_example = number_at(record, "/costs/train_flops_per_example");
  const auto forward = number_at(record, "/costs/train_flops_forward");
  const auto backward = number_at(record, "/costs/train_flops_backward");
  if (costs.train_flops_per_example && forward && backward && *forward + *backward > 0) {
    costs.forward_flops_per_example = *costs.train_flops_per_example * *forward / (*forward + *backward);
  }
  return costs;
}

// The cost fields by name, for averaging and ratios without repeating the list.
std::vector<std::pair<std::string, std::optional<double> RunCosts::*>> cost_fields() {
  return {{"total_parameters", &RunCosts::total_parameters},
          {"trainable_parameters", &RunCosts::trainable_parameters},
          {"trainable_percent", &RunCosts::trainable_percent},
          {"stored_bytes", &RunCosts::stored_bytes},
          {"step_ms", &RunCosts::step_ms},
          {"train_examples_per_s", &RunCosts::train_examples_per_s},
          {"peak_rss_mb", &RunCosts::peak_rss_mb},
          {"train_flops_per_example", &RunCosts::train_flops_per_example},
          {"forward_flops_per_example", &RunCosts::forward_flops_per_example}};
}

std::size_t differing_leaves(const json& a, const json& b, const std::string& skip_prefix) {
  const json fa = a.flatten(), fb = b.flatten();
  std::set<std::string> paths;
  for (const auto& item : fa.items()) paths.insert(item.key());
  for (const auto& item : fb.items()) paths.insert(item.key());
  std::size_t count = 0;
  for (const std::string& path : paths) {
    if (path.rfind(skip_prefix, 0) == 0) continue;
    if (!fa.contains(path) || !fb.contains(path) || fa[path] != fb[path]) ++count;
  }
  return count;
}

// "/method/length" → "length", "/train/lr" → "train.lr".
std::string variant_key(const std::string& pointer) {
  std::string name = pointer.substr(1);
  std::replace(name.begin(), name.end(), '/', '.');
  if (name.rfind("method.", 0) == 0) name = name.substr(7);
  return name;
}

void assign_variants(std::vector<Cell>& cells) {
  std::map<std::string, std::vector<std::size_t>> families;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    families[cells[i].backbone + "\n" + cells[i].task + "\n" + cells[i].method].push_back(i);
  }
  for (const auto& [name, members] : families) {
    if (members.size() < 2) continue;
    std::vector<json> flat;
    std::set<std::string> paths;
    for (std::size_t i : members) {
      flat.push_back(cells[i].key.flatten());
      for (const auto& item : flat.back().items()) paths.insert(item.key());
    }
    std::vector<std::string> differing;
    for (const std::string& path : paths) {
      const json* first = flat[0].contains(path) ? &flat[0][path] : nullptr;
      for (const json& f : flat) {
        const json* here = f.contains(path) ? &f[path] : nullptr;
        if ((first == nullptr) != (here == nullptr) || (first && *first != *here)) {
          differing.push_back(path);
          break;
        }
      }
    }
    for (std::size_t m = 0; m < members.size(); ++m) {
      std::string text;
      for (const std::string& path : differing) {
        if (!text.empty()) text += ", ";
        text += variant_key(path) + "=" + (flat[m].contains(path) ? scalar_text(flat[m][path]) : std::string("—"));
      }
      cells[members[m]].variant = text;
    }
  }
}

void assign_full_ratios(std::vector<Cell>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    Cell& cell = cells[i];
    std::optional<std::size_t> best;
    std::size_t best_distance = 0;
    for (std::size_t j = 0; j < cells.size(); ++j) {
      const Cell& full = cells[j];
      if (full.method != "full" || full.backbone != cell.backbone || full.task != cell.task ||
          full.task_version != cell.task_version || full.scored.empty()) {
        continue;
      }
      const std::size_t distance = differing_leaves(full.key, cell.key, "/method");
      if (!best || distance < best_distance) {
        best = j;
        best_distance = distance;
      }
    }
    cell.costs.full_cell = best;
    if (!best) continue;
    const RunCosts& full = cells[*best].costs.mean;
    for (const auto& [name, field] : cost_fields()) {
      const auto& mine = cell.costs.mean.*field;
      const auto& theirs = full.*field;
      if (mine && theirs && *theirs > 0) cell.costs.ratio_to_full[name] = *mine / *theirs;
    }
  }
}

}  // namespace

namespace {

BenchRun read_bench_run(const json& run, const fs::path& file) {
  auto number = [&](const char* pointer) {
    const auto value = number_at(run, pointer);
    if (!value) fail(file.string(), ": bench output without a number at ", pointer, " (rerun ptbench bench)");
    return *value;
  };
  BenchRun bench;
  bench.file = file;
  bench.backbone = folder_name(required_string(run, "/backbone", file));
  bench.geometry = required(run, "/geometry", file);
  bench.method = required_string(run, "/method", file);
  bench.method_block = run.value("method_options", json::object());
  bench.method_block["name"] = bench.method;
  bench.variant = run.value("variant", bench.method);
  bench.batch = static_cast<std::int64_t>(number("/batch"));
  bench.seq = static_cast<std::int64_t>(number("/seq"));
  bench.target_seq = static_cast<std::int64_t>(number_at(run, "/target_seq").value_or(0));
  RunCosts& costs = bench.costs;
  costs.total_parameters = number("/parameters/total");
  costs.trainable_parameters = number("/parameters/trainable");
  costs.trainable_percent = number("/parameters/trainable_percent");
  costs.stored_bytes = number_at(run, "/parameters/stored_bytes");
  costs.step_ms = number("/step_ms_median");
  costs.train_examples_per_s = 1000.0 * static_cast<double>(bench.batch) / *costs.step_ms;
  costs.peak_rss_mb = number("/peak_rss_mb");
  costs.train_flops_per_example = number("/train_flops_per_step") / static_cast<double>(bench.batch);
  costs.forward_flops_per_example = number("/infer_flops_per_example");
  return bench;
}

bool is_bench_run(const json& run) {
  return run.is_object() && run.contains("step_ms_median") && run.contains("infer_flops_per_example") && run.contains("method");
}

}  // namespace

std::optional<std::vector<BenchRun>> read_bench_document(const json& document, const fs::path& file) {
  std::vector<BenchRun> runs;
  if (is_bench_run(document)) {
    runs.push_back(read_bench_run(document, file));
  } else if (document.is_object() && document.contains("runs") && document["runs"].is_array() && !document["runs"].empty() &&
             std::all_of(document["runs"].begin(), document["runs"].end(), is_bench_run)) {
    for (const json& run : document["runs"]) runs.push_back(read_bench_run(run, file));
  } else {
    return std::nullopt;
  }
  return runs;
}

std::optional<RunSummary> read_run_record(const fs::path& file) {
  const json record = read_json_file(file);
  if (!record.is_object() || !record.contains("run_id") || !record.contains("spec") || !record.contains("schema_version")) {
    return std::nullopt;
  }
  const json& schema = record["schema_version"];
  if (!schema.is_number_integer()) fail(file.string(), ": schema_version must be an integer, got ", schema.dump());
  if (schema.get<int>() > kMaxRecordSchemaVersion) {
    fail(file.string(), ": run record schema_version ", schema.get<int>(), " is newer than this ptbench reads (",
         kMaxRecordSchemaVersion, "); update ptbench");
  }
  RunSummary run;
  run.file = file;
  run.run_id = required_string(record, "/run_id", file);
  run.status = required_string(record, "/status", file);
  run.error = record.value("error", std::string());
  run.finished_at = record.value("finished_at", std::string());
  const json& spec = required(record, "/spec", file);
  run.task = required_string(record, "/spec/task", file);
  run.method = required_string(record, "/spec/method/name", file);
  const json& seed = required(record, "/spec/train/seed", file);
  if (!seed.is_number_integer()) fail(file.string(), ": spec.train.seed must be an integer, got ", seed.dump());
  run.seed = seed.get<std::int64_t>();
  const std::string backbone = spec.value("backbone", std::string());
  run.backbone = backbone.empty() ? spec.value("geometry", std::string()) : folder_name(backbone);
  if (run.backbone.empty()) fail(file.string(), ": spec has neither backbone nor geometry");

  run.group_key = spec;
  for (const std::string& pointer : execution_only_keys()) erase_pointer(run.group_key, pointer);
  if (!backbone.empty()) run.group_key["backbone"] = run.backbone;
  const std::string tokenizer = spec.value("tokenizer", std::string());
  if (!tokenizer.empty()) run.group_key["tokenizer"] = folder_name(tokenizer);

  if (record.contains("task") && record["task"].is_object()) {
    const json& task = record["task"];
    run.task_version = task.value("version", std::int64_t{0});
    run.primary_metric = task.value("primary_metric", std::string());
  }
  run.group_key["task_version"] = run.task_version;
  run.geometry = record.contains(json::json_pointer("/backbone/geometry")) ? record.at(json::json_pointer("/backbone/geometry")) : json();
  run.reported_split = record.contains(json::json_pointer("/selection/reported"))
                           ? scalar_text(record.at(json::json_pointer("/selection/reported")))
                           : std::string("validation");
  run.metrics = record.contains("metrics") && record["metrics"].is_object() ? record["metrics"] : json::object();
  if ((run.status == "ok" || run.status == "degenerate") && !run.primary_metric.empty() && !run.points(run.primary_metric)) {
    fail(file.string(), ": status ", run.status, " but metrics has no numeric '", run.primary_metric, "' (task.primary_metric)");
  }
  run.costs = read_costs(record);
  if (record.contains("epochs") && record["epochs"].is_array() && !record["epochs"].empty()) {
    const json& last = record["epochs"].back();
    if (last.is_object() && last.contains("train_loss") && last["train_loss"].is_number()) {
      run.final_train_loss = last["train_loss"].get<double>();
    }
  }
  return run;
}

RecordSet read_run_records(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail("results folder ", dir.string(), " does not exist (pass the --out folder of ptbench train)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  RecordSet set;
  std::size_t invocation = 0;
  for (const fs::path& file : files) {
    if (std::optional<RunSummary> run = read_run_record(file)) {
      set.runs.push_back(std::move(*run));
    } else if (auto bench = read_bench_document(read_json_file(file), file)) {
      for (BenchRun& b : *bench) {
        b.invocation = invocation;
        set.bench.push_back(std::move(b));
      }
      ++invocation;
    } else {
      set.ignored.push_back(file);
    }
  }
  return set;
}

std::vector<Cell> aggregate(const RecordSet& records, double confidence) {
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < records.runs.size(); ++i) groups[records.runs[i].group_key.dump()].push_back(i);

  std::vector<Cell> cells;
  for (const auto& [dump, members] : groups) {
    const RunSummary& first = records.runs[members.front()];
    Cell cell;
    cell.backbone = first.backbone;
    cell.task = first.task;
    cell.method = first.method;
    cell.task_version = first.task_version;
    cell.key = first.group_key;
    cell.id = cell.backbone + "/" + cell.task + "/" + cell.method + "/" + stable_json_id(cell.key, 8);
    cell.runs = members;

    // One scored run per seed: a seed run twice (say with other threads) counts once, the newest.
    std::map<std::int64_t, std::size_t> by_seed;
    for (std::size_t i : members) {
      const RunSummary& run = records.runs[i];
      if (run.status == "ok") ++cell.ok;
      else if (run.status == "degenerate") ++cell.degenerate;
      else if (run.status == "diverged") ++cell.diverged;
      else ++cell.failed;
      if (cell.geometry.is_null() && !run.geometry.is_null()) cell.geometry = run.geometry;
      if (cell.primary_metric.empty()) cell.primary_metric = run.primary_metric;
      if (cell.reported_split.empty()) cell.reported_split = run.reported_split;
      if (!run.scored()) continue;
      auto [it, inserted] = by_seed.try_emplace(run.seed, i);
      if (!inserted) {
        cell.notes.push_back("seed " + std::to_string(run.seed) + " has several records; the newest counts");
        if (run.finished_at > records.runs[it->second].finished_at) it->second = i;
      }
    }
    for (const auto& [seed, index] : by_seed) cell.scored.push_back(index);

    // Every score metric all scored runs share. Integer-valued entries are counts
    // (distinct_predictions, total, …), not scores.
    if (!cell.scored.empty()) {
      const json& metrics = records.runs[cell.scored.front()].metrics;
      for (const auto& [name, value] : metrics.items()) {
        if (!value.is_number_float()) continue;
        std::vector<double> values;
        for (std::size_t i : cell.scored) {
          if (auto v = records.runs[i].points(name)) values.push_back(*v);
        }
        if (values.size() == cell.scored.size()) cell.metrics[name] = SampleStats::of(values, confidence);
      }
    }
    if (auto it = cell.metrics.find(cell.primary_metric); it != cell.metrics.end()) cell.primary = it->second;
    for (std::size_t i : cell.scored) {
      cell.seed_scores.emplace_back(records.runs[i].seed, *records.runs[i].points(cell.primary_metric));
    }
    for (const auto& [name, field] : cost_fields()) {
      double sum = 0;
      std::size_t count = 0;
      for (std::size_t i : cell.scored) {
        if (const auto& v = records.runs[i].costs.*field) {
          sum += *v;
          ++count;
        }
      }
      if (count > 0) cell.costs.mean.*field = sum / static_cast<double>(count);
    }
    if (cell.degenerate > 0) {
      cell.notes.push_back(std::to_string(cell.degenerate) + " of " + std::to_string(members.size()) +
                           " runs degenerate (every prediction one class)");
    }
    if (cell.failed > 0) cell.notes.push_back(std::to_string(cell.failed) + " failed");
    if (cell.diverged > 0) cell.notes.push_back(std::to_string(cell.diverged) + " diverged (non-finite loss)");
    cells.push_back(std::move(cell));
  }

  assign_variants(cells);
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) {
    return std::make_tuple(a.backbone, a.task, method_rank(a.method), a.method, a.variant, a.id) <
           std::make_tuple(b.backbone, b.task, method_rank(b.method), b.method, b.variant, b.id);
  });
  assign_full_ratios(cells);
  return cells;
}

}  // namespace ptbench::reports
