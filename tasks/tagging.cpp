#include "tasks/tagging.h"

#include <torch/torch.h>

#include <map>
#include <set>

#include "common/error.h"

namespace ptbench {

namespace {

// The entity / argument type of a BIO tag ("" for O); anything else is an error.
std::string tag_type(const std::string& tag, const std::string& task) {
  if (tag == "O") return {};
  if (!data::is_bio_tag(tag)) fail("task ", task, ": tag '", tag, "' is not O, B-X or I-X");
  return tag.substr(2);
}

nlohmann::json prf_json(const metrics::PrecisionRecallF1& s) {
  return {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}};
}

}  // namespace

HeadSpec TokenTaggingTask::head() const {
  HeadSpec spec;
  spec.kind = HeadKind::token_classification;
  spec.num_labels = static_cast<std::int64_t>(labels_.size());
  return spec;
}

void TokenTaggingTask::load(const TaskContext& context) {
  task_util::require_encoder(context, definition_.name);
  context_ = context;
  pad_id_ = task_util::pad_id(*context.tokenizer);
  std::vector<TaggedExample> train = definition_.load(context, Split::train, notes_);
  std::vector<TaggedExample> validation = definition_.load(context, Split::validation, notes_);

  // Label set from the full files, so that it does not depend on the example limits.
  std::set<std::string> types;
  for (const auto* examples : {&train, &validation}) {
    for (std::size_t i = 0; i < examples->size(); ++i) {
      const TaggedExample& e = (*examples)[i];
      if (e.words.size() != e.tags.size()) {
        fail("task ", definition_.name, ": example ", i, " has ", e.words.size(), " words but ", e.tags.size(),
             " tags");
      }
      for (const std::string& tag : e.tags) {
        std::string type = tag_type(tag, definition_.name);
        if (!type.empty()) types.insert(std::move(type));
      }
    }
  }
  labels_ = {"O"};
  for (const std::string& type : types) {
    labels_.push_back("B-" + type);
    labels_.push_back("I-" + type);
  }

  task_util::limit(train, context.max_train_examples);
  task_util::limit(validation, context.max_eval_examples);
  std::int64_t split_train = 0, split_validation = 0;
  train_.windows = make_windows(train, split_train);
  validation_.windows = make_windows(validation, split_validation);
  train_.examples = std::move(train);
  validation_.examples = std::move(validation);
  notes_["labels"] = labels_;
  notes_["train_examples"] = train_.examples.size();
  notes_["validation_examples"] = validation_.examples.size();
  notes_["train_windows"] = train_.windows.size();
  notes_["validation_windows"] = validation_.windows.size();
  notes_["examples_split_into_windows"] = {{"train", split_train}, {"validation", split_validation}};
  notes_["alignment"] =
      "label on the first sub-token of each word, -100 elsewhere; long examples split into windows of whole words";
}

std::vector<TokenTaggingTask::Window> TokenTaggingTask::make_windows(const std::vector<TaggedExample>& examples,
                                                                     std::int64_t& split_examples) const {
  const tok::Tokenizer& tokenizer = *context_.tokenizer;
  std::map<std::string, std::int64_t> label_ids;
  for (std::size_t i = 0; i < labels_.size(); ++i) label_ids[labels_[i]] = static_cast<std::int64_t>(i);
  const std::int64_t specials = static_cast<std::int64_t>(tokenizer.num_special_tokens_to_add(false));

  std::vector<Window> windows;
  for (std::size_t e = 0; e < examples.size(); ++e) {
    const TaggedExample& example = examples[e];
    std::vector<std::string> all_words = example.words;
    all_words.insert(all_words.end(), example.suffix.begin(), example.suffix.end());
    // Sub-tokens of every word, each word tokenized on its own (is_split_into_words).
    const tok::Encoding whole = tokenizer.encode_words(all_words);
    std::vector<std::vector<std::int64_t>> pieces(all_words.size());
    for (std::size_t t = 0; t < whole.input_ids.size(); ++t) {
      if (whole.word_ids[t] >= 0) pieces[static_cast<std::size_t>(whole.word_ids[t])].push_back(whole.input_ids[t]);
    }
    const std::int64_t words = static_cast<std::int64_t>(example.words.size());
    std::vector<std::int64_t> suffix_ids;
    for (std::size_t w = example.words.size(); w < all_words.size(); ++w) {
      suffix_ids.insert(suffix_ids.end(), pieces[w].begin(), pieces[w].end());
    }
    const std::int64_t budget = context_.max_seq_length - specials - static_cast<std::int64_t>(suffix_ids.size());
    if (budget < 1) {
      fail("task ", definition_.name, ": max_seq_length ", context_.max_seq_length, " leaves no room for words after ",
           specials, " special tokens and ", suffix_ids.size(), " suffix tokens (example ", e, ")");
    }

    std::int64_t start = 0;
    std::int64_t windows_of_example = 0;
    do {
      Window window;
      window.example = static_cast<std::int64_t>(e);
      window.first_word = start;
      std::vector<std::int64_t> content;
      std::vector<std::int64_t> word_content_index;  // per window word: index of its first sub-token in content
      std::int64_t end = start;
      while (end < words) {
        const auto& word_pieces = pieces[static_cast<std::size_t>(end)];
        const std::int64_t room = budget - static_cast<std::int64_t>(content.size());
        if (end > start && static_cast<std::int64_t>(word_pieces.size()) > room) break;
        word_content_index.push_back(word_pieces.empty() ? -1 : static_cast<std::int64_t>(content.size()));
        // Only a window's first word can be longer than the room left: keep its first sub-tokens.
        const std::size_t take = std::min<std::size_t>(word_pieces.size(), static_cast<std::size_t>(room));
        content.insert(content.end(), word_pieces.begin(), word_pieces.begin() + static_cast<std::ptrdiff_t>(take));
        ++end;
      }
      const std::int64_t labelled_tokens = static_cast<std::int64_t>(content.size());
      content.insert(content.end(), suffix_ids.begin(), suffix_ids.end());

      tok::Encoding& encoding = window.encoding;
      encoding.input_ids = tokenizer.build_inputs_with_special_tokens(content, std::nullopt);
      encoding.token_type_ids = tokenizer.token_type_ids_for(content, std::nullopt);
      encoding.attention_mask.assign(encoding.input_ids.size(), 1);
      encoding.length = encoding.input_ids.size();
      const std::vector<int> sequence_ids = tokenizer.sequence_ids_for(content, std::nullopt);
      std::vector<std::int64_t> position_of_content;
      for (std::size_t p = 0; p < sequence_ids.size(); ++p) {
        if (sequence_ids[p] == 0) position_of_content.push_back(static_cast<std::int64_t>(p));
      }
      TORCH_CHECK(position_of_content.size() == content.size(), "tokenizer special-token layout lost content tokens");

      window.labels.assign(encoding.input_ids.size(), -100);
      for (std::int64_t k = 0; k < end - start; ++k) {
        const std::int64_t c = word_content_index[static_cast<std::size_t>(k)];
        if (c < 0 || c >= labelled_tokens) {
          window.word_positions.push_back(-1);
          continue;
        }
        const std::int64_t position = position_of_content[static_cast<std::size_t>(c)];
        window.word_positions.push_back(position);
        auto found = label_ids.find(example.tags[static_cast<std::size_t>(start + k)]);
        window.labels[static_cast<std::size_t>(position)] = found == label_ids.end() ? -100 : found->second;
      }
      windows.push_back(std::move(window));
      ++windows_of_example;
      start = end;
    } while (start < words);
    if (windows_of_example > 1) ++split_examples;
  }
  return windows;
}

const TokenTaggingTask::SplitData& TokenTaggingTask::split_data(Split split) const {
  switch (split) {
    case Split::train:
      return train_;
    case Split::validation:
      return validation_;
    case Split::test:
      break;
  }
  fail("task ", definition_.name, " does not load its test split");
}

const std::vector<TaggedExample>& TokenTaggingTask::examples(Split split) const { return split_data(split).examples; }

std::int64_t TokenTaggingTask::size(Split split) const {
  return static_cast<std::int64_t>(split_data(split).windows.size());
}

std::vector<Batch> TokenTaggingTask::batches(Split split, std::int64_t batch_size, std::mt19937_64* rng) const {
  const SplitData& data = split_data(split);
  const std::vector<std::vector<std::int64_t>> groups = task_util::batch_groups(static_cast<std::int64_t>(data.windows.size()), batch_size, rng);
  std::vector<Batch> result;
  for (const std::vector<std::int64_t>& group : groups) {
    Batch batch;
    std::vector<const tok::Encoding*> encodings;
    for (const std::int64_t id : group) {
      const Window& window = data.windows[id];
      batch.example_ids.push_back(id);
      encodings.push_back(&window.encoding);
      batch.real_tokens += static_cast<std::int64_t>(window.encoding.input_ids.size());
    }
    batch.input = task_util::collate(encodings, pad_id_, context_.pad_to_max_length ? context_.max_seq_length : 0);
    const std::int64_t length = batch.input.input_ids.size(1);
    batch.labels = torch::full({batch.size(), length}, -100, torch::kInt64);
    auto labels_a = batch.labels.accessor<std::int64_t, 2>();
    for (std::int64_t b = 0; b < batch.size(); ++b) {
      const Window& window = data.windows[batch.example_ids[b]];
      for (std::size_t t = 0; t < window.labels.size(); ++t)
        labels_a[b][static_cast<std::int64_t>(t)] = window.labels[t];
    }
    batch.padded_tokens = batch.input.input_ids.numel();
    result.push_back(std::move(batch));
  }
  return result;
}

metrics::TagSequences TokenTaggingTask::predictions(Split split, const std::vector<Batch>& batches,
                                                    const std::vector<torch::Tensor>& logits) const {
  const SplitData& data = split_data(split);
  TORCH_CHECK(batches.size() == logits.size(), "evaluate: ", batches.size(), " batches but ", logits.size(), " logits");
  metrics::TagSequences predicted;
  predicted.reserve(data.examples.size());
  for (const TaggedExample& e : data.examples) predicted.emplace_back(e.words.size(), "O");
  const std::int64_t num_labels = static_cast<std::int64_t>(labels_.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const torch::Tensor& scores = logits[b];
    TORCH_CHECK(scores.dim() == 3 && scores.size(0) == batches[b].size() && scores.size(2) == num_labels, "task ",
                definition_.name, ": logits of batch ", b, " have shape ", scores.sizes(), ", expected [",
                batches[b].size(), ", L, ", num_labels, "]");
    const torch::Tensor best = scores.detach().argmax(-1).to(torch::kCPU);
    auto best_a = best.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < batches[b].size(); ++i) {
      const Window& window = data.windows[batches[b].example_ids[i]];
      auto& sentence = predicted[static_cast<std::size_t>(window.example)];
      for (std::size_t k = 0; k < window.word_positions.size(); ++k) {
        const std::int64_t position = window.word_positions[k];
        if (position < 0) continue;
        TORCH_CHECK(position < best.size(1), "task ", definition_.name, ": logits of batch ", b, " are shorter (",
                    best.size(1), ") than its inputs");
        sentence[static_cast<std::size_t>(window.first_word) + k] =
            labels_[static_cast<std::size_t>(best_a[i][position])];
      }
    }
  }
  return predicted;
}

nlohmann::json TokenTaggingTask::evaluate(Split split, const std::vector<Batch>& batches,
                                          const std::vector<torch::Tensor>& logits) const {
  const metrics::TagSequences predicted = predictions(split, batches, logits);
  metrics::TagSequences gold;
  gold.reserve(predicted.size());
  for (const TaggedExample& e : split_data(split).examples) gold.push_back(e.tags);
  nlohmann::json metrics = definition_.metrics(gold, predicted);
  std::set<std::string> distinct;
  for (const auto& sentence : predicted) distinct.insert(sentence.begin(), sentence.end());
  metrics["distinct_predictions"] = distinct.size();  // 1 = every word got the same tag (e.g. all O)
  return metrics;
}

nlohmann::json ner_metrics(const metrics::TagSequences& gold, const metrics::TagSequences& predicted) {
  const metrics::SeqevalReport conll = metrics::seqeval_report(gold, predicted);
  metrics::SeqevalOptions strict_options;
  strict_options.mode = metrics::SeqevalMode::kStrict;
  strict_options.scheme = metrics::TagScheme::kIOB2;
  const metrics::SeqevalReport strict = metrics::seqeval_report(gold, predicted, strict_options);
  nlohmann::json m = nlohmann::json::object();
  m["precision"] = conll.micro.precision;
  m["recall"] = conll.micro.recall;
  m["f1"] = conll.micro.f1;
  m["accuracy"] = conll.accuracy;
  m["macro"] = prf_json(conll.macro);
  m["strict"] = prf_json(strict.micro);
  m["strict_macro"] = prf_json(strict.macro);
  m["per_type"] = metrics::to_json(conll);
  m["strict_per_type"] = metrics::to_json(strict);
  return m;
}

}  // namespace ptbench
