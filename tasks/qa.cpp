#include "tasks/qa.h"

#include <torch/torch.h>

#include <algorithm>
#include <iostream>
#include <numeric>
#include <set>

#include "common/error.h"
#include "tasks/metrics/squad.h"

namespace ptbench {

namespace fs = std::filesystem;

namespace {

constexpr std::pair<std::int64_t, std::int64_t> kOutsideContext{-1, -1};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// run_qa.py strips the question's leading whitespace ("some questions have lots of whitespace
// on the left, which is not useful and makes the truncation of the context fail").
std::string lstrip(const std::string& text) {
  std::size_t at = 0;
  while (at < text.size() && is_space(text[at])) ++at;
  return text.substr(at);
}

// Indices of the `count` largest values, largest first; equal values in decreasing index order,
// which is what numpy's argsort(x)[-1:-n-1:-1] gives for a stable ascending sort.
std::vector<std::int64_t> top_indices(const std::vector<double>& values, std::int64_t count) {
  std::vector<std::int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    if (values[a] != values[b]) return values[a] > values[b];
    return a > b;
  });
  if (static_cast<std::int64_t>(order.size()) > count) order.resize(static_cast<std::size_t>(count));
  return order;
}

}  // namespace

QaAnswer postprocess_qa(const std::string& context, const std::vector<QaWindowScores>& windows,
                        const QaPostprocessOptions& options) {
  struct Candidate {
    std::int64_t begin = 0, end = 0;  // bytes of the context; null = {0, 0}
    double score = 0, start_logit = 0, end_logit = 0;
    bool null = false;
  };
  std::optional<Candidate> min_null;
  std::vector<Candidate> prelim;
  for (const QaWindowScores& window : windows) {
    TORCH_CHECK(window.context_offsets != nullptr, "postprocess_qa: a window without offsets");
    const auto& offsets = *window.context_offsets;
    TORCH_CHECK(!window.start_logits.empty() && window.start_logits.size() == window.end_logits.size(),
                "postprocess_qa: start and end logits differ in length");
    // The null answer scores at the first position ([CLS]); the smallest over the windows counts.
    const double null_score = window.start_logits[0] + window.end_logits[0];
    if (!min_null || min_null->score > null_score) {
      min_null = Candidate{0, 0, null_score, window.start_logits[0], window.end_logits[0], true};
    }
    const auto in_context = [&](std::int64_t i) {
      return i < static_cast<std::int64_t>(offsets.size()) && offsets[static_cast<std::size_t>(i)].first >= 0;
    };
    for (const std::int64_t s : top_indices(window.start_logits, options.n_best_size)) {
      for (const std::int64_t e : top_indices(window.end_logits, options.n_best_size)) {
        if (!in_context(s) || !in_context(e)) continue;
        if (e < s || e - s + 1 > options.max_answer_length) continue;
        const double start_logit = window.start_logits[static_cast<std::size_t>(s)];
        const double end_logit = window.end_logits[static_cast<std::size_t>(e)];
        prelim.push_back({offsets[static_cast<std::size_t>(s)].first, offsets[static_cast<std::size_t>(e)].second,
                          start_logit + end_logit, start_logit, end_logit, false});
      }
    }
  }
  double null_score = 0;
  if (options.with_negative && min_null) {
    prelim.push_back(*min_null);
    null_score = min_null->score;
  }
  std::stable_sort(prelim.begin(), prelim.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  if (static_cast<std::int64_t>(prelim.size()) > options.n_best_size)
    prelim.resize(static_cast<std::size_t>(options.n_best_size));
  if (options.with_negative && min_null &&
      std::none_of(prelim.begin(), prelim.end(), [](const Candidate& c) { return c.begin == 0 && c.end == 0; })) {
    prelim.push_back(*min_null);
  }
  std::vector<std::pair<std::string, const Candidate*>> texts;
  for (const Candidate& c : prelim) {
    const auto begin =
        static_cast<std::size_t>(std::clamp<std::int64_t>(c.begin, 0, static_cast<std::int64_t>(context.size())));
    const auto end =
        static_cast<std::size_t>(std::clamp<std::int64_t>(c.end, 0, static_cast<std::int64_t>(context.size())));
    texts.emplace_back(end > begin ? context.substr(begin, end - begin) : std::string(), &c);
  }
  // utils_qa.py: with no non-null prediction at all, a fake "empty" one with zero logits.
  const Candidate empty_candidate{0, 0, 0.0, 0.0, 0.0, false};
  if (texts.empty() || (texts.size() == 1 && texts[0].first.empty()))
    texts.insert(texts.begin(), {"empty", &empty_candidate});

  QaAnswer answer;
  if (!options.with_negative) {
    answer.text = texts[0].first;
    answer.best_non_null = texts[0].first;
    return answer;
  }
  const auto best = std::find_if(texts.begin(), texts.end(), [](const auto& t) { return !t.first.empty(); });
  if (best == texts.end()) {
    // utils_qa.py would run off its list here (two or more empty spans, no "empty" added).
    answer.null_score_diff = 0.0;
    return answer;
  }
  answer.best_non_null = best->first;
  answer.null_score_diff = null_score - best->second->start_logit - best->second->end_logit;
  answer.text = answer.null_score_diff > options.null_score_diff_threshold ? std::string() : best->first;
  return answer;
}

HeadSpec SquadTask::head() const {
  HeadSpec spec;
  spec.kind = HeadKind::span_extraction;
  spec.num_labels = 2;
  return spec;
}

void SquadTask::load(const TaskContext& context) {
  task_util::require_encoder(context, name());
  if (context.doc_stride < 0) fail("task ", name(), ": doc_stride must be >= 0, got ", context.doc_stride);
  if (context.n_best_size < 1 || context.max_answer_length < 1) {
    fail("task ", name(), ": n_best_size and max_answer_length must be positive");
  }
  context_ = context;
  pad_id_ = task_util::pad_id(*context.tokenizer);
  const bool v2 = version_ == data::SquadVersion::v2_0;

  std::vector<data::SquadExample> train, validation;
  const fs::path official_train = data::squad_split_path(context.data_dir, version_, Split::train);
  const fs::path official_dev = data::squad_split_path(context.data_dir, version_, Split::validation);
  const fs::path subset = context.data_dir / "squad_v2" / "dev-v2.0-subset.json";
  std::error_code ec;
  const bool official = fs::exists(official_train, ec) && fs::exists(official_dev, ec);
  if (v2 && !official && fs::exists(subset, ec)) {
    const std::set<std::string> held_out(kSquadV2SubsetValidationArticles.begin(),
                                         kSquadV2SubsetValidationArticles.end());
    std::set<std::string> train_articles;
    for (data::SquadExample& e : data::read_squad_file(subset)) {
      if (held_out.count(e.title)) {
        validation.push_back(std::move(e));
      } else {
        train_articles.insert(e.title);
        train.push_back(std::move(e));
      }
    }
    const std::string warning =
        "squad_v2: no official train-v2.0.json/dev-v2.0.json under " + (context.data_dir / "squad_v2").string() +
        "; the shipped dev subset is split by article (validation: Normans, Rhine; train: the other articles) — "
        "not the official split, scores are not comparable to published SQuAD 2.0 results";
    notes_["warning"] = warning;
    notes_["files"] = {{"train", subset.string()}, {"validation", subset.string()}};
    notes_["split"] = {{"validation_articles", kSquadV2SubsetValidationArticles},
                       {"train_articles", std::vector<std::string>(train_articles.begin(), train_articles.end())}};
    std::cerr << "WARNING: " << warning << "\n";
  } else {
    train = data::load_squad(context.data_dir, version_, Split::train);
    validation = data::load_squad(context.data_dir, version_, Split::validation);
    notes_["files"] = {{"train", official_train.string()}, {"validation", official_dev.string()}};
  }
  task_util::limit(train, context.max_train_examples);
  task_util::limit(validation, context.max_eval_examples);
  train_ = SplitData{std::move(train), {}, {}};
  validation_ = SplitData{std::move(validation), {}, {}};
  build_features(train_, "train");
  build_features(validation_, "validation");
  notes_["train_examples"] = train_.examples.size();
  notes_["validation_examples"] = validation_.examples.size();
  notes_["train_windows"] = train_.features.size();
  notes_["validation_windows"] = validation_.features.size();
  notes_["doc_stride"] = context.doc_stride;
  notes_["n_best_size"] = context.n_best_size;
  notes_["max_answer_length"] = context.max_answer_length;
  if (v2) notes_["null_score_diff_threshold"] = context.null_score_diff_threshold;
  notes_["training_answer"] = "the first gold answer of each question";
}

void SquadTask::build_features(SplitData& data, const std::string& split_label) {
  const tok::Tokenizer& tokenizer = *context_.tokenizer;
  const std::int64_t specials = static_cast<std::int64_t>(tokenizer.num_special_tokens_to_add(true));
  const std::int64_t room = context_.max_seq_length - specials;
  if (room < 2)
    fail("task ", name(), ": max_seq_length ", context_.max_seq_length, " is too small for question answering");
  const std::int64_t min_context = std::min<std::int64_t>(32, room / 2);
  std::int64_t strides_reduced = 0, questions_cut = 0, answers_outside = 0;

  data.features_of_example.assign(data.examples.size(), {});
  for (std::size_t index = 0; index < data.examples.size(); ++index) {
    const data::SquadExample& example = data.examples[index];
    const std::string question = lstrip(example.question);
    const tok::Encoding full = tokenizer.encode_with_offsets(question, std::string_view(example.context), 0,
                                                             tok::Truncation::none, tok::Padding::none);
    std::vector<std::int64_t> question_ids, context_ids;
    std::vector<std::pair<std::int64_t, std::int64_t>> context_offsets;
    for (std::size_t t = 0; t < full.input_ids.size(); ++t) {
      if (full.sequence_ids[t] == 0) question_ids.push_back(full.input_ids[t]);
      if (full.sequence_ids[t] == 1) {
        context_ids.push_back(full.input_ids[t]);
        context_offsets.emplace_back(static_cast<std::int64_t>(full.offsets[t].first),
                                     static_cast<std::int64_t>(full.offsets[t].second));
      }
    }
    if (static_cast<std::int64_t>(question_ids.size()) > room - min_context) {
      question_ids.resize(static_cast<std::size_t>(room - min_context));
      ++questions_cut;
    }
    const std::int64_t budget = room - static_cast<std::int64_t>(question_ids.size());
    std::int64_t stride = context_.doc_stride;
    if (stride >= budget) {
      stride = budget / 2;
      ++strides_reduced;
    }

    // The answer the labels point at: the first gold answer (run_qa.py answers["answer_start"][0]).
    std::optional<std::pair<std::int64_t, std::int64_t>> answer_bytes;
    if (!example.answers.empty()) {
      const data::SquadAnswer& a = example.answers.front();
      answer_bytes = {static_cast<std::int64_t>(a.byte_start), static_cast<std::int64_t>(a.byte_start + a.text.size())};
    }

    const std::int64_t context_length = static_cast<std::int64_t>(context_ids.size());
    bool answer_in_some_window = false;
    for (std::int64_t start = 0;; start += budget - stride) {
      const std::int64_t stop = std::min(start + budget, context_length);
      Feature feature;
      feature.example = static_cast<std::int64_t>(index);
      const std::vector<std::int64_t> window_ids(context_ids.begin() + start, context_ids.begin() + stop);
      tok::Encoding& encoding = feature.encoding;
      encoding.input_ids = tokenizer.build_inputs_with_special_tokens(question_ids, window_ids);
      encoding.token_type_ids = tokenizer.token_type_ids_for(question_ids, window_ids);
      encoding.attention_mask.assign(encoding.input_ids.size(), 1);
      encoding.length = encoding.input_ids.size();
      const std::vector<int> sequence_ids = tokenizer.sequence_ids_for(question_ids, window_ids);
      feature.context_offsets.assign(encoding.input_ids.size(), kOutsideContext);
      std::int64_t first_context = -1, last_context = -1, next = start;
      for (std::size_t p = 0; p < sequence_ids.size(); ++p) {
        if (sequence_ids[p] != 1) continue;
        feature.context_offsets[p] = context_offsets[static_cast<std::size_t>(next++)];
        if (first_context < 0) first_context = static_cast<std::int64_t>(p);
        last_context = static_cast<std::int64_t>(p);
      }
      // [CLS] position (run_qa.py input_ids.index(cls_token_id)).
      std::int64_t cls = 0;
      const std::int64_t cls_id = tokenizer.special_tokens().cls;
      if (cls_id >= 0) {
        const auto found = std::find(encoding.input_ids.begin(), encoding.input_ids.end(), cls_id);
        if (found != encoding.input_ids.end()) cls = found - encoding.input_ids.begin();
      }
      feature.start_position = feature.end_position = cls;
      if (answer_bytes && first_context >= 0) {
        const auto& offsets = feature.context_offsets;
        const auto [answer_begin, answer_end] = *answer_bytes;
        if (offsets[static_cast<std::size_t>(first_context)].first <= answer_begin &&
            offsets[static_cast<std::size_t>(last_context)].second >= answer_end) {
          // Walk in from both ends of the window's context (run_qa.py does the same but can walk
          // on into [SEP] and padding when the answer starts in the last context token).
          std::int64_t s = first_context;
          while (s <= last_context && offsets[static_cast<std::size_t>(s)].first <= answer_begin) ++s;
          std::int64_t e = last_context;
          while (e >= first_context && offsets[static_cast<std::size_t>(e)].second >= answer_end) --e;
          feature.start_position = s - 1;
          feature.end_position = e + 1;
          answer_in_some_window = true;
        }
      }
      data.features_of_example[index].push_back(static_cast<std::int64_t>(data.features.size()));
      data.features.push_back(std::move(feature));
      if (stop >= context_length) break;
    }
    if (answer_bytes && !answer_in_some_window) ++answers_outside;
  }
  notes_["window_adjustments"][split_label] = {{"questions_with_halved_stride", strides_reduced},
                                               {"questions_cut", questions_cut},
                                               {"answers_in_no_window", answers_outside}};
}

const SquadTask::SplitData& SquadTask::split_data(Split split) const {
  switch (split) {
    case Split::train:
      return train_;
    case Split::validation:
      return validation_;
    case Split::test:
      break;
  }
  fail("task ", name(), " has no test split (SQuAD's test set is hidden)");
}

const std::vector<data::SquadExample>& SquadTask::examples(Split split) const { return split_data(split).examples; }

std::int64_t SquadTask::size(Split split) const { return static_cast<std::int64_t>(split_data(split).features.size()); }

std::vector<Batch> SquadTask::batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const {
  const SplitData& data = split_data(split);
  const std::vector<std::vector<std::int64_t>> groups = task_util::batch_groups(static_cast<std::int64_t>(data.features.size()), batch_size, rng);
  std::vector<Batch> result;
  for (const std::vector<std::int64_t>& group : groups) {
    Batch batch;
    std::vector<const tok::Encoding*> encodings;
    std::vector<std::int64_t> positions;
    for (const std::int64_t id : group) {
      const Feature& feature = data.features[id];
      batch.example_ids.push_back(id);
      encodings.push_back(&feature.encoding);
      positions.push_back(feature.start_position);
      positions.push_back(feature.end_position);
      batch.real_tokens += static_cast<std::int64_t>(feature.encoding.input_ids.size());
    }
    batch.input = task_util::collate(encodings, pad_id_, context_.pad_to_max_length ? context_.max_seq_length : 0);
    batch.labels = torch::tensor(positions, torch::kInt64).view({batch.size(), 2});
    batch.padded_tokens = batch.input.input_ids.numel();
    result.push_back(std::move(batch));
  }
  return result;
}

torch::Tensor SquadTask::loss(const torch::Tensor& logits, const Batch& batch) const {
  TORCH_CHECK(logits.dim() == 3 && logits.size(2) == 2, "span logits must be [B, L, 2], got ", logits.sizes());
  const std::int64_t length = logits.size(1);
  // BertForQuestionAnswering: positions outside the sequence are clamped to L and ignored.
  const torch::Tensor labels = batch.labels.to(logits.device());
  const torch::Tensor start_positions = labels.select(1, 0).clamp(0, length);
  const torch::Tensor end_positions = labels.select(1, 1).clamp(0, length);
  const auto options = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(length);
  const torch::Tensor start_loss = torch::nn::functional::cross_entropy(logits.select(2, 0), start_positions, options);
  const torch::Tensor end_loss = torch::nn::functional::cross_entropy(logits.select(2, 1), end_positions, options);
  return (start_loss + end_loss) / 2;
}

std::vector<QaAnswer> SquadTask::answers(Split split, const std::vector<Batch>& batches,
                                         const std::vector<torch::Tensor>& logits) const {
  const SplitData& data = split_data(split);
  TORCH_CHECK(batches.size() == logits.size(), "evaluate: ", batches.size(), " batches but ", logits.size(), " logits");
  std::vector<QaWindowScores> scores(data.features.size());
  std::vector<bool> seen(data.features.size(), false);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    TORCH_CHECK(logits[b].dim() == 3 && logits[b].size(0) == batches[b].size() && logits[b].size(2) == 2, "task ",
                name(), ": logits of batch ", b, " have shape ", logits[b].sizes(), ", expected [", batches[b].size(),
                ", L, 2]");
    const torch::Tensor values = logits[b].detach().to(torch::kCPU).to(torch::kFloat64).contiguous();
    auto values_a = values.accessor<double, 3>();
    for (std::int64_t i = 0; i < batches[b].size(); ++i) {
      const std::int64_t f = batches[b].example_ids[i];
      QaWindowScores& window = scores[static_cast<std::size_t>(f)];
      window.start_logits.resize(static_cast<std::size_t>(values.size(1)));
      window.end_logits.resize(static_cast<std::size_t>(values.size(1)));
      for (std::int64_t t = 0; t < values.size(1); ++t) {
        window.start_logits[static_cast<std::size_t>(t)] = values_a[i][t][0];
        window.end_logits[static_cast<std::size_t>(t)] = values_a[i][t][1];
      }
      window.context_offsets = &data.features[static_cast<std::size_t>(f)].context_offsets;
      seen[static_cast<std::size_t>(f)] = true;
    }
  }
  QaPostprocessOptions options;
  options.n_best_size = context_.n_best_size;
  options.max_answer_length = context_.max_answer_length;
  options.with_negative = version_ == data::SquadVersion::v2_0;
  options.null_score_diff_threshold = context_.null_score_diff_threshold;
  std::vector<QaAnswer> result;
  result.reserve(data.examples.size());
  for (std::size_t e = 0; e < data.examples.size(); ++e) {
    std::vector<QaWindowScores> windows;
    for (const std::int64_t f : data.features_of_example[e]) {
      if (seen[static_cast<std::size_t>(f)]) windows.push_back(std::move(scores[static_cast<std::size_t>(f)]));
    }
    if (windows.empty()) {
      result.push_back({});  // not evaluated: scored as an empty answer
      continue;
    }
    result.push_back(postprocess_qa(data.examples[e].context, windows, options));
  }
  return result;
}

nlohmann::json SquadTask::evaluate(Split split, const std::vector<Batch>& batches,
                                   const std::vector<torch::Tensor>& logits) const {
  const SplitData& data = split_data(split);
  const std::vector<QaAnswer> predicted = answers(split, batches, logits);
  std::vector<metrics::SquadQuestion> questions;
  questions.reserve(data.examples.size());
  for (const data::SquadExample& e : data.examples) {
    metrics::SquadQuestion question{e.id, {}};
    for (const data::SquadAnswer& a : e.answers) question.answers.push_back(a.text);
    questions.push_back(std::move(question));
  }
  nlohmann::json metrics = nlohmann::json::object();
  if (version_ == data::SquadVersion::v1_1) {
    metrics::SquadPredictions predictions;
    for (std::size_t i = 0; i < questions.size(); ++i) predictions[questions[i].id] = predicted[i].text;
    const metrics::SquadV1Result result = metrics::squad_v1_evaluate(questions, predictions);
    metrics["exact_match"] = result.exact_match;
    metrics["f1"] = result.f1;
    metrics["total"] = result.total;
    return metrics;
  }
  // evaluate-v2.0.py with the best non-empty spans and the null-score differences as na_probs.
  metrics::SquadPredictions predictions;
  metrics::SquadNaProbs na_probs;
  std::int64_t predicted_no_answer = 0;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    predictions[questions[i].id] = predicted[i].best_non_null;
    na_probs.emplace_back(questions[i].id, predicted[i].null_score_diff);
    if (predicted[i].text.empty()) ++predicted_no_answer;
  }
  metrics::SquadV2Options options;
  options.na_prob_thresh = context_.null_score_diff_threshold;
  const metrics::SquadV2Result result = metrics::squad_v2_evaluate(questions, predictions, &na_probs, options);
  // The evaluator's object is an ordered_json; the record's json takes its keys (sorted).
  const nlohmann::json official = nlohmann::json::parse(metrics::to_json(result).dump());
  for (const auto& [key, value] : official.items()) metrics[key] = value;
  metrics["predicted_no_answer"] = predicted_no_answer;
  metrics["null_score_diff_threshold"] = context_.null_score_diff_threshold;
  return metrics;
}

std::unique_ptr<Task> make_squad_task() { return std::make_unique<SquadTask>(data::SquadVersion::v1_1); }
std::unique_ptr<Task> make_squad_v2_task() { return std::make_unique<SquadTask>(data::SquadVersion::v2_0); }

}  // namespace ptbench
