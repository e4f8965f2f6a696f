#include "harness/run_spec.h"

#include "common/error.h"
#include "common/hash.h"
#include "harness/config.h"
#include "methods/method.h"
#include "tasks/task.h"

namespace ptbench {

nlohmann::json TrainOptions::to_json() const {
  return {{"epochs", epochs},
          {"max_steps", max_steps},
          {"batch_size", batch_size},
          {"eval_batch_size", eval_batch_size},
          {"optimizer", optimizer},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"adam_beta1", adam_beta1},
          {"adam_beta2", adam_beta2},
          {"adam_epsilon", adam_epsilon},
          {"schedule", schedule},
          {"warmup_ratio", warmup_ratio},
          {"warmup_steps", warmup_steps},
          {"max_grad_norm", max_grad_norm},
          {"seed", seed},
          {"max_seq_length", max_seq_length},
          {"pad_to_max_length", pad_to_max_length},
          {"max_train_examples", max_train_examples},
          {"max_eval_examples", max_eval_examples},
          {"early_stopping_patience", early_stopping_patience},
          {"threads", threads},
          {"log_every", log_every},
          {"save_trainable", save_trainable}};
}

TrainOptions TrainOptions::from_json(const nlohmann::json& json) {
  TrainOptions options;
  check_known_keys(json, options.to_json(), "train options");
  nlohmann::json merged = options.to_json();
  merged.merge_patch(json);
  options.epochs = merged["epochs"];
  options.max_steps = merged["max_steps"];
  options.batch_size = merged["batch_size"];
  options.eval_batch_size = merged["eval_batch_size"];
  options.optimizer = merged["optimizer"];
  options.lr = merged["lr"];
  options.weight_decay = merged["weight_decay"];
  options.adam_beta1 = merged["adam_beta1"];
  options.adam_beta2 = merged["adam_beta2"];
  options.adam_epsilon = merged["adam_epsilon"];
  options.schedule = merged["schedule"];
  options.warmup_ratio = merged["warmup_ratio"];
  options.warmup_steps = merged["warmup_steps"];
  options.max_grad_norm = merged["max_grad_norm"];
  options.seed = merged["seed"];
  options.max_seq_length = merged["max_seq_length"];
  options.pad_to_max_length = merged["pad_to_max_length"];
  options.max_train_examples = merged["max_train_examples"];
  options.max_eval_examples = merged["max_eval_examples"];
  options.early_stopping_patience = merged["early_stopping_patience"];
  options.threads = merged["threads"];
  options.log_every = merged["log_every"];
  options.save_trainable = merged["save_trainable"];
  options.validate();
  return options;
}

void TrainOptions::validate() const {
  if (epochs < 0 || max_steps < 0) fail("train.epochs and train.max_steps must not be negative");
  if (epochs == 0 && max_steps == 0) fail("train.epochs is 0 and train.max_steps is 0: nothing to train");
  if (batch_size <= 0 || eval_batch_size <= 0) fail("train.batch_size and train.eval_batch_size must be positive");
  if (optimizer != "adamw" && optimizer != "adafactor") {
    fail("unknown train.optimizer '", optimizer, "'", suggestion_suffix(optimizer, {"adamw", "adafactor"}),
         " (known: adamw, adafactor)");
  }
  if (!(lr > 0)) fail("train.lr must be positive, got ", lr);
  if (schedule != "linear" && schedule != "constant") {
    fail("unknown train.schedule '", schedule, "'", suggestion_suffix(schedule, {"linear", "constant"}),
         " (known: linear, constant)");
  }
  if (warmup_ratio < 0 || warmup_ratio >= 1) fail("train.warmup_ratio must lie in [0, 1), got ", warmup_ratio);
  if (max_seq_length < 8) fail("train.max_seq_length must be at least 8, got ", max_seq_length);
  if (max_train_examples < 0 || max_eval_examples < 0) fail("train.max_*_examples must not be negative");
  if (threads < 0) fail("train.threads must not be negative");
}

nlohmann::json TaskOptions::to_json() const {
  return {{"template_id", template_id},
          {"doc_stride", doc_stride},
          {"n_best_size", n_best_size},
          {"max_answer_length", max_answer_length},
          {"null_score_diff_threshold", null_score_diff_threshold},
          {"text_scoring", text_scoring},
          {"max_target_length", max_target_length},
          {"num_beams", num_beams}};
}

TaskOptions TaskOptions::from_json(const nlohmann::json& json) {
  TaskOptions options;
  check_known_keys(json, options.to_json(), "task options");
  nlohmann::json merged = options.to_json();
  merged.merge_patch(json);
  options.template_id = merged["template_id"];
  options.doc_stride = merged["doc_stride"];
  options.n_best_size = merged["n_best_size"];
  options.max_answer_length = merged["max_answer_length"];
  options.null_score_diff_threshold = merged["null_score_diff_threshold"];
  options.text_scoring = merged["text_scoring"];
  options.max_target_length = merged["max_target_length"];
  options.num_beams = merged["num_beams"];
  options.validate();
  return options;
}

void TaskOptions::validate() const {
  if (doc_stride < 1 || n_best_size < 1 || max_answer_length < 1) {
    fail("task_options.doc_stride, n_best_size and max_answer_length must be positive");
  }
  if (text_scoring != "generate" && text_scoring != "rank") {
    fail("unknown task_options.text_scoring '", text_scoring, "'", suggestion_suffix(text_scoring, {"generate", "rank"}),
         " (known: generate, rank)");
  }
  if (max_target_length < 0) fail("task_options.max_target_length must not be negative (0 = automatic)");
  if (num_beams < 1) fail("task_options.num_beams must be at least 1, got ", num_beams);
}

nlohmann::json RunSpec::to_json() const {
  nlohmann::json method_block = method_options;
  method_block["name"] = method;
  return {{"backbone", backbone},
          {"geometry", geometry},
          {"weights_file", weights_file},
          {"tokenizer", tokenizer},
          {"task", task},
          {"method", method_block},
          {"head", {{"pooling", head_pooling}, {"dropout", head_dropout}}},
          {"data_dir", data_dir},
          {"task_options", task_options.to_json()},
          {"train", train.to_json()}};
}

std::string RunSpec::run_id() const {
  // train.threads and train.log_every say how a run executes, not what it computes, so an
  // executor may choose them without changing the run's identity; the record states the
  // threads that ran (environment.threads).
  nlohmann::json identity = to_json();
  identity["train"].erase("threads");
  identity["train"].erase("log_every");
  return stable_json_id(identity);
}

nlohmann::json run_spec_defaults() {
  RunSpec defaults;
  nlohmann::json json = defaults.to_json();
  json["method"] = nullptr;  // checked against the method's own options
  return json;
}

RunSpec resolve_run_spec(const nlohmann::json& file, const std::vector<nlohmann::json>& patches) {
  nlohmann::json merged = nlohmann::json::object();
  if (!file.is_null()) {
    check_known_keys(file, run_spec_defaults(), "run spec");
    merged.merge_patch(file);
  }
  for (const nlohmann::json& patch : patches) {
    check_known_keys(patch, run_spec_defaults(), "run spec");
    merged.merge_patch(patch);
  }
  RunSpec spec;
  nlohmann::json full = spec.to_json();
  full.merge_patch(merged);
  spec.backbone = full["backbone"];
  spec.geometry = full["geometry"];
  spec.weights_file = full["weights_file"];
  spec.tokenizer = full["tokenizer"];
  spec.task = full["task"];
  spec.data_dir = full["data_dir"];
  spec.head_pooling = full["head"].value("pooling", std::string("auto"));
  spec.head_dropout = full["head"].value("dropout", -1.0);
  check_known_keys(full["head"], RunSpec{}.to_json()["head"], "head options");
  spec.task_options = TaskOptions::from_json(full["task_options"]);
  spec.train = TrainOptions::from_json(full["train"]);

  nlohmann::json method_block = full["method"];
  if (method_block.is_string()) method_block = nlohmann::json{{"name", method_block}};
  if (!method_block.is_object()) fail("method must be a name or an object with a name, got ", method_block.dump());
  spec.method = method_block.value("name", std::string("full"));
  method_block.erase("name");
  const MethodEntry& entry = find_method(spec.method);
  check_known_keys(method_block, entry.default_options, "method options (" + spec.method + ")");
  spec.method_options = entry.default_options;
  spec.method_options.merge_patch(method_block);
  make_task(spec.task);  // validates the name
  if (spec.backbone.empty() == spec.geometry.empty()) {
    fail(spec.backbone.empty() ? "no backbone given: pass --backbone DIR (a Hugging Face model folder) or --geometry NAME"
                               : "give either backbone or geometry, not both");
  }
  return spec;
}

}  // namespace ptbench
