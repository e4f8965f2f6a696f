// References (behaviour reproduced, code written anew):
// - rajpurkar/SQuAD-explorer evaluate-v2.0.py (official SQuAD 2.0 evaluator);
// - the SQuAD 1.1 evaluator evaluate-v1.1.py;
// - CPython 3.11 str.lower / str.split and re's \b for str patterns (Objects/unicodeobject.c
//   handle_capital_sigma, Modules/_sre sre_lib word-character test).
#include "tasks/metrics/squad.h"

#include <utf8proc.h>

#include <algorithm>
#include <unordered_map>

#include "common/error.h"
#include "common/files.h"

namespace ptbench::metrics {
namespace {

// ---- UTF-8 <-> code points ----------------------------------------------------------------

// A byte that is not valid UTF-8 becomes U+DC00+byte (Python's "surrogateescape"), so that
// normalisation is lossless and two different invalid strings never compare equal.
constexpr char32_t kEscapeFirst = 0xDC80;
constexpr char32_t kEscapeLast = 0xDCFF;

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    if (bytes[pos] < 0x80) {
      out.push_back(bytes[pos]);
      ++pos;
      continue;
    }
    utf8proc_int32_t code = 0;
    const utf8proc_ssize_t used = utf8proc_iterate(bytes + pos, size - pos, &code);
    if (used <= 0) {
      out.push_back(static_cast<char32_t>(0xDC00 + bytes[pos]));
      ++pos;
    } else {
      out.push_back(static_cast<char32_t>(code));
      pos += used;
    }
  }
  return out;
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  utf8proc_uint8_t buffer[4];
  for (const char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c >= kEscapeFirst && c <= kEscapeLast) {
      out.push_back(static_cast<char>(c - 0xDC00));
    } else {
      const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buffer);
      out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
    }
  }
  return out;
}

bool is_escape(char32_t c) { return c >= kEscapeFirst && c <= kEscapeLast; }

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// ---- Python's character classes -----------------------------------------------------------

// Cased (Unicode): Lu, Ll, Lt (Other_Lowercase / Other_Uppercase are not in utf8proc).
bool is_cased(char32_t c) {
  if (is_escape(c)) return false;
  const utf8proc_category_t cat = category(c);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

// Case_Ignorable (Unicode): Mn, Me, Cf, Lm, Sk, plus Word_Break MidLetter / MidNumLet /
// Single_Quote characters.
bool is_case_ignorable(char32_t c) {
  if (is_escape(c)) return false;
  switch (c) {
    case 0x0027:
    case 0x002E:
    case 0x003A:
    case 0x00B7:
    case 0x0387:
    case 0x055F:
    case 0x05F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  const utf8proc_category_t cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

// str.lower(): full lower-case mapping. The only unconditional multi-character lower mapping
// is U+0130 → "i" U+0307; U+03A3 becomes final sigma U+03C2 after a cased letter when no
// cased letter follows (case-ignorable characters skipped on both sides).
std::u32string python_lower(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c < 0x80) {
      out.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
    } else if (is_escape(c)) {
      out.push_back(c);
    } else if (c == 0x0130) {
      out.push_back(U'i');
      out.push_back(0x0307);
    } else if (c == 0x03A3) {
      std::size_t j = i;
      bool final_sigma = false;
      while (j > 0 && is_case_ignorable(text[j - 1])) --j;
      final_sigma = j > 0 && is_cased(text[j - 1]);
      if (final_sigma) {
        std::size_t k = i + 1;
        while (k < text.size() && is_case_ignorable(text[k])) ++k;
        final_sigma = k == text.size() || !is_cased(text[k]);
      }
      out.push_back(final_sigma ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

// string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// \w of Python's re for str patterns: alphanumeric (letters L*, numbers N*) or "_".
bool is_word_char(char32_t c) {
  if (c < 0x80) {
    return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9') ||
           c == U'_';
  }
  if (is_escape(c)) return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// str.isspace() / str.split(): ASCII \t\n\v\f\r, \x1c-\x1f, space, and the Unicode
// whitespace (bidi WS/B/S or category Zs).
bool is_python_space(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  switch (c) {
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::u32string normalize_code_points(std::string_view text) {
  const std::u32string lowered = python_lower(decode_utf8(text));

  std::u32string no_punct;
  no_punct.reserve(lowered.size());
  for (const char32_t c : lowered) {
    if (!is_ascii_punctuation(c)) no_punct.push_back(c);
  }

  // re.sub(r'\b(a|an|the)\b', ' ', text): a match is exactly a maximal run of word
  // characters spelling one of the articles.
  std::u32string no_articles;
  no_articles.reserve(no_punct.size());
  std::size_t i = 0;
  while (i < no_punct.size()) {
    if (!is_word_char(no_punct[i])) {
      no_articles.push_back(no_punct[i++]);
      continue;
    }
    std::size_t end = i;
    while (end < no_punct.size() && is_word_char(no_punct[end])) ++end;
    const std::u32string_view word(no_punct.data() + i, end - i);
    if (word == U"a" || word == U"an" || word == U"the") {
      no_articles.push_back(U' ');
    } else {
      no_articles.append(word);
    }
    i = end;
  }

  // ' '.join(text.split())
  std::u32string out;
  out.reserve(no_articles.size());
  bool pending_space = false;
  for (const char32_t c : no_articles) {
    if (is_python_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(U' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> split_on_spaces(const std::string& normalized) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < normalized.size()) {
    std::size_t end = normalized.find(' ', start);
    if (end == std::string::npos) end = normalized.size();
    if (end > start) tokens.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

// Number of tokens shared by the two bags (collections.Counter intersection).
std::int64_t shared_token_count(const std::vector<std::string>& gold,
                                const std::vector<std::string>& pred) {
  std::unordered_map<std::string, std::int64_t> gold_counts;
  for (const std::string& t : gold) ++gold_counts[t];
  std::int64_t shared = 0;
  for (const std::string& t : pred) {
    const auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++shared;
    }
  }
  return shared;
}

double f1_from_shared(std::int64_t shared, std::size_t gold_size, std::size_t pred_size) {
  if (shared == 0) return 0.0;
  const double precision = 1.0 * static_cast<double>(shared) / static_cast<double>(pred_size);
  const double recall = 1.0 * static_cast<double>(shared) / static_cast<double>(gold_size);
  return (2 * precision * recall) / (precision + recall);
}

const nlohmann::json& field(const nlohmann::json& object, const char* key,
                            const std::string& where) {
  if (!object.is_object()) fail("SQuAD dataset: ", where, " is not an object");
  const auto it = object.find(key);
  if (it == object.end()) fail("SQuAD dataset: ", where, " has no \"", key, "\"");
  return *it;
}

const nlohmann::json& array_field(const nlohmann::json& object, const char* key,
                                  const std::string& where) {
  const nlohmann::json& value = field(object, key, where);
  if (!value.is_array()) fail("SQuAD dataset: ", where, ".", key, " is not an array");
  return value;
}

double percent(double sum, std::int64_t total) { return 100.0 * sum / static_cast<double>(total); }

}  // namespace

// ---- text ----------------------------------------------------------------------------------

std::string normalize_answer(std::string_view text) {
  return encode_utf8(normalize_code_points(text));
}

std::vector<std::string> answer_tokens(std::string_view text) {
  if (text.empty()) return {};
  return split_on_spaces(normalize_answer(text));
}

int exact_match(std::string_view gold, std::string_view prediction) {
  return normalize_answer(gold) == normalize_answer(prediction) ? 1 : 0;
}

double token_f1(std::string_view gold, std::string_view prediction) {
  const std::vector<std::string> gold_tokens = answer_tokens(gold);
  const std::vector<std::string> pred_tokens = answer_tokens(prediction);
  if (gold_tokens.empty() || pred_tokens.empty()) {
    // No-answer on either side: 1 if both are empty, else 0.
    return gold_tokens == pred_tokens ? 1.0 : 0.0;
  }
  return f1_from_shared(shared_token_count(gold_tokens, pred_tokens), gold_tokens.size(),
                        pred_tokens.size());
}

double token_f1_v1(std::string_view gold, std::string_view prediction) {
  const std::vector<std::string> gold_tokens = split_on_spaces(normalize_answer(gold));
  const std::vector<std::string> pred_tokens = split_on_spaces(normalize_answer(prediction));
  return f1_from_shared(shared_token_count(gold_tokens, pred_tokens), gold_tokens.size(),
                        pred_tokens.size());
}

// ---- data ----------------------------------------------------------------------------------

std::vector<SquadQuestion> squad_questions(const nlohmann::json& dataset) {
  const nlohmann::json* articles = &dataset;
  if (dataset.is_object()) articles = &array_field(dataset, "data", "the document");
  if (!articles->is_array()) fail("SQuAD dataset: expected an object with \"data\" or an array");

  std::vector<SquadQuestion> questions;
  for (std::size_t a = 0; a < articles->size(); ++a) {
    const std::string article_at = "data[" + std::to_string(a) + "]";
    const nlohmann::json& paragraphs = array_field((*articles)[a], "paragraphs", article_at);
    for (std::size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string paragraph_at = article_at + ".paragraphs[" + std::to_string(p) + "]";
      const nlohmann::json& qas = array_field(paragraphs[p], "qas", paragraph_at);
      for (std::size_t q = 0; q < qas.size(); ++q) {
        const std::string qa_at = paragraph_at + ".qas[" + std::to_string(q) + "]";
        const nlohmann::json& id = field(qas[q], "id", qa_at);
        if (!id.is_string()) fail("SQuAD dataset: ", qa_at, ".id is not a string");
        SquadQuestion question;
        question.id = id.get<std::string>();
        const nlohmann::json& answers = array_field(qas[q], "answers", qa_at);
        for (std::size_t k = 0; k < answers.size(); ++k) {
          const std::string answer_at = qa_at + ".answers[" + std::to_string(k) + "]";
          const nlohmann::json& text = field(answers[k], "text", answer_at);
          if (!text.is_string()) fail("SQuAD dataset: ", answer_at, ".text is not a string");
          question.answers.push_back(text.get<std::string>());
        }
        questions.push_back(std::move(question));
      }
    }
  }
  return questions;
}

SquadPredictions read_squad_predictions(const std::filesystem::path& path) {
  const nlohmann::json document = read_json_file(path);
  if (!document.is_object()) {
    fail("SQuAD predictions ", path.string(), ": expected a JSON object {question id: answer}");
  }
  SquadPredictions predictions;
  for (const auto& [qid, answer] : document.items()) {
    if (!answer.is_string()) {
      fail("SQuAD predictions ", path.string(), ": the answer of ", qid, " is not a string");
    }
    predictions[qid] = answer.get<std::string>();
  }
  return predictions;
}

SquadNaProbs read_squad_na_probs(const std::filesystem::path& path) {
  nlohmann::ordered_json document;
  try {
    document = nlohmann::ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    fail("SQuAD na_probs ", path.string(), ": not valid JSON (byte ", e.byte, ")");
  }
  if (!document.is_object()) {
    fail("SQuAD na_probs ", path.string(), ": expected a JSON object {question id: probability}");
  }
  SquadNaProbs na_probs;
  na_probs.reserve(document.size());
  for (const auto& [qid, value] : document.items()) {
    if (!value.is_number()) {
      fail("SQuAD na_probs ", path.string(), ": the value of ", qid, " is not a number");
    }
    na_probs.emplace_back(qid, value.get<double>());
  }
  return na_probs;
}

// ---- evaluation ----------------------------------------------------------------------------

SquadV2Result squad_v2_evaluate(const std::vector<SquadQuestion>& questions,
                                const SquadPredictions& predictions, const SquadNaProbs* na_probs,
                                const SquadV2Options& options) {
  // Unique question ids in first-appearance order; a repeated id keeps its last data (the
  // script's dicts qid_to_has_ans / exact_scores are overwritten in place).
  std::unordered_map<std::string, std::size_t> position;
  std::vector<const SquadQuestion*> unique;
  for (const SquadQuestion& q : questions) {
    const auto [it, inserted] = position.emplace(q.id, unique.size());
    if (inserted) {
      unique.push_back(&q);
    } else {
      unique[it->second] = &q;
    }
  }
  if (unique.empty()) fail("SQuAD evaluation: the dataset has no questions");

  SquadV2Result result;
  const std::size_t n = unique.size();
  std::vector<bool> has_answer(n);
  std::vector<const std::string*> prediction_of(n);
  result.qids.reserve(n);
  result.exact_raw.reserve(n);
  result.f1_raw.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const SquadQuestion& q = *unique[i];
    has_answer[i] = !q.answers.empty();
    const auto found = predictions.find(q.id);
    if (found == predictions.end()) {
      fail("SQuAD evaluation: no prediction for question ", q.id,
           " (the official script stops with a KeyError)");
    }
    prediction_of[i] = &found->second;

    std::vector<const std::string*> golds;
    for (const std::string& answer : q.answers) {
      if (!normalize_answer(answer).empty()) golds.push_back(&answer);
    }
    static const std::string kNoAnswer;
    if (golds.empty()) golds.push_back(&kNoAnswer);

    double exact = 0.0;
    double f1 = 0.0;
    for (const std::string* gold : golds) {
      exact = std::max(exact, static_cast<double>(exact_match(*gold, found->second)));
      f1 = std::max(f1, token_f1(*gold, found->second));
    }
    result.qids.push_back(q.id);
    result.exact_raw.push_back(exact);
    result.f1_raw.push_back(f1);
  }

  // apply_no_ans_threshold: without na_probs every probability is 0.0.
  std::unordered_map<std::string, double> na_prob_of;
  if (na_probs != nullptr) {
    for (const auto& [qid, prob] : *na_probs) na_prob_of[qid] = prob;
  }
  std::vector<double> exact_thresh(n);
  std::vector<double> f1_thresh(n);
  for (std::size_t i = 0; i < n; ++i) {
    double prob = 0.0;
    if (na_probs != nullptr) {
      const auto it = na_prob_of.find(result.qids[i]);
      if (it == na_prob_of.end()) {
        fail("SQuAD evaluation: no na_prob for question ", result.qids[i]);
      }
      prob = it->second;
    }
    if (prob > options.na_prob_thresh) {
      exact_thresh[i] = f1_thresh[i] = has_answer[i] ? 0.0 : 1.0;
    } else {
      exact_thresh[i] = result.exact_raw[i];
      f1_thresh[i] = result.f1_raw[i];
    }
  }

  // make_eval_dict over all questions and over the HasAns / NoAns subsets.
  const auto subset = [&](int which) {  // -1 all, 1 has answer, 0 no answer
    SquadSubsetScores s;
    double exact_sum = 0.0;
    double f1_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (which >= 0 && has_answer[i] != (which == 1)) continue;
      exact_sum += exact_thresh[i];
      f1_sum += f1_thresh[i];
      ++s.total;
    }
    if (s.total > 0) {
      s.exact = percent(exact_sum, s.total);
      s.f1 = percent(f1_sum, s.total);
    }
    return s;
  };
  result.all = subset(-1);
  const SquadSubsetScores has_ans = subset(1);
  const SquadSubsetScores no_ans = subset(0);
  if (has_ans.total > 0) result.has_ans = has_ans;
  if (no_ans.total > 0) result.no_ans = no_ans;

  // find_all_best_thresh: only with an na_prob file.
  if (na_probs != nullptr) {
    std::vector<std::size_t> order(na_probs->size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return (*na_probs)[a].second < (*na_probs)[b].second;
    });
    const auto find_best = [&](const std::vector<double>& scores, double* best_thresh) {
      double cur_score = static_cast<double>(no_ans.total);
      double best_score = cur_score;
      *best_thresh = 0.0;
      for (const std::size_t k : order) {
        const auto& [qid, prob] = (*na_probs)[k];
        const auto it = position.find(qid);
        if (it == position.end()) continue;
        const std::size_t i = it->second;
        double diff = 0.0;
        if (has_answer[i]) {
          diff = scores[i];
        } else {
          diff = prediction_of[i]->empty() ? 0.0 : -1.0;
        }
        cur_score += diff;
        if (cur_score > best_score) {
          best_score = cur_score;
          *best_thresh = prob;
        }
      }
      return percent(best_score, static_cast<std::int64_t>(n));
    };
    SquadBestThresholds best;
    best.best_exact = find_best(result.exact_raw, &best.best_exact_thresh);
    best.best_f1 = find_best(result.f1_raw, &best.best_f1_thresh);
    result.best = best;
  }
  return result;
}

nlohmann::ordered_json to_json(const SquadV2Result& result) {
  nlohmann::ordered_json out;
  out["exact"] = result.all.exact;
  out["f1"] = result.all.f1;
  out["total"] = result.all.total;
  if (result.has_ans) {
    out["HasAns_exact"] = result.has_ans->exact;
    out["HasAns_f1"] = result.has_ans->f1;
    out["HasAns_total"] = result.has_ans->total;
  }
  if (result.no_ans) {
    out["NoAns_exact"] = result.no_ans->exact;
    out["NoAns_f1"] = result.no_ans->f1;
    out["NoAns_total"] = result.no_ans->total;
  }
  if (result.best) {
    out["best_exact"] = result.best->best_exact;
    out["best_exact_thresh"] = result.best->best_exact_thresh;
    out["best_f1"] = result.best->best_f1;
    out["best_f1_thresh"] = result.best->best_f1_thresh;
  }
  return out;
}

SquadV2Result squad_v2_evaluate_files(const std::filesystem::path& dataset,
                                      const std::filesystem::path& predictions,
                                      const std::optional<std::filesystem::path>& na_probs,
                                      const SquadV2Options& options) {
  std::vector<SquadQuestion> questions;
  try {
    questions = squad_questions(read_json_file(dataset));
  } catch (const Error& e) {
    fail(dataset.string(), ": ", e.what());
  }
  const SquadPredictions preds = read_squad_predictions(predictions);
  if (na_probs) {
    const SquadNaProbs probs = read_squad_na_probs(*na_probs);
    return squad_v2_evaluate(questions, preds, &probs, options);
  }
  return squad_v2_evaluate(questions, preds, nullptr, options);
}

SquadV1Result squad_v1_evaluate(const std::vector<SquadQuestion>& questions,
                                const SquadPredictions& predictions) {
  SquadV1Result result;
  double exact_sum = 0.0;
  double f1_sum = 0.0;
  for (const SquadQuestion& q : questions) {
    ++result.total;
    const auto found = predictions.find(q.id);
    if (found == predictions.end()) {
      ++result.missing;
      continue;
    }
    if (q.answers.empty()) {
      fail("SQuAD 1.1 evaluation: question ", q.id, " has no gold answer");
    }
    double exact = 0.0;
    double f1 = 0.0;
    for (const std::string& gold : q.answers) {
      exact = std::max(exact, static_cast<double>(exact_match(gold, found->second)));
      f1 = std::max(f1, token_f1_v1(gold, found->second));
    }
    exact_sum += exact;
    f1_sum += f1;
  }
  if (result.total == 0) fail("SQuAD 1.1 evaluation: the dataset has no questions");
  result.exact_match = percent(exact_sum, result.total);
  result.f1 = percent(f1_sum, result.total);
  return result;
}

}  // namespace ptbench::metrics
