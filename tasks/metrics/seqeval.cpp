// References (behaviour reproduced, code written anew): chakki-works/seqeval
// seqeval/metrics/sequence_labeling.py (get_entities, end_of_chunk, start_of_chunk,
// precision_recall_fscore_support, classification_report), seqeval/metrics/v1.py
// (_precision_recall_fscore_support, strict classification_report), seqeval/scheme.py
// (Token patterns, Tokens.entities, auto_detect), seqeval/reporters.py (StringReporter).
#include "tasks/metrics/seqeval.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "common/error.h"

namespace ptbench::metrics {
namespace {

// Byte length of the UTF-8 character starting at s[0] (1 for invalid bytes).
std::size_t first_char_length(const std::string& s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  std::size_t n = 1;
  if (lead >= 0xF0) {
    n = 4;
  } else if (lead >= 0xE0) {
    n = 3;
  } else if (lead >= 0xC0) {
    n = 2;
  }
  return std::min(n, s.size());
}

// Byte length of the UTF-8 character ending the string.
std::size_t last_char_length(const std::string& s) {
  std::size_t n = 1;
  while (n < s.size() && n < 4 && (static_cast<unsigned char>(s[s.size() - n]) & 0xC0) == 0x80) {
    ++n;
  }
  return n;
}

std::size_t code_point_count(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void check_consistent_shape(const TagSequences& gold, const TagSequences& pred) {
  if (gold.size() != pred.size()) {
    fail("seqeval: gold has ", gold.size(), " sentences but predictions have ", pred.size());
  }
  for (std::size_t i = 0; i < gold.size(); ++i) {
    if (gold[i].size() != pred[i].size()) {
      fail("seqeval: sentence ", i, " has ", gold[i].size(), " gold tags but ", pred[i].size(),
           " predicted tags");
    }
  }
}

// ---- default mode (sequence_labeling.get_entities) ----------------------------------------

struct SplitTag {
  std::string letter;  // B, I, E, S, O, ... (one character)
  std::string type;
};

SplitTag split_default(const std::string& chunk, bool suffix) {
  if (chunk.empty()) fail("seqeval: empty tag");
  SplitTag out;
  if (suffix) {
    const std::size_t n = last_char_length(chunk);
    out.letter = chunk.substr(chunk.size() - n);
    // chunk[:-1].rsplit('-', 1)[0]
    const std::string rest = chunk.substr(0, chunk.size() - n);
    const std::size_t dash = rest.rfind('-');
    out.type = dash == std::string::npos ? rest : rest.substr(0, dash);
  } else {
    const std::size_t n = first_char_length(chunk);
    out.letter = chunk.substr(0, n);
    // chunk[1:].split('-', 1)[-1]
    const std::string rest = chunk.substr(n);
    const std::size_t dash = rest.find('-');
    out.type = dash == std::string::npos ? rest : rest.substr(dash + 1);
  }
  if (out.type.empty()) out.type.push_back('_');
  return out;
}

bool end_of_chunk(const std::string& prev_tag, const std::string& tag, const std::string& prev_type,
                  const std::string& type) {
  if (prev_tag == "E" || prev_tag == "S") return true;
  if ((prev_tag == "B" || prev_tag == "I") && (tag == "B" || tag == "S" || tag == "O")) {
    return true;
  }
  return prev_tag != "O" && prev_tag != "." && prev_type != type;
}

bool start_of_chunk(const std::string& prev_tag, const std::string& tag,
                    const std::string& prev_type, const std::string& type) {
  if (tag == "B" || tag == "S") return true;
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) {
    return true;
  }
  return tag != "O" && tag != "." && prev_type != type;
}

// ---- strict mode (seqeval.scheme) ---------------------------------------------------------

enum Prefix : unsigned {
  kI = 1U << 0,
  kO = 1U << 1,
  kB = 1U << 2,
  kE = 1U << 3,
  kS = 1U << 4,
  kU = 1U << 5,
  kL = 1U << 6,
  kAnyPrefix = kI | kO | kB | kE | kS | kU | kL,
};

enum class TagCondition { kSame, kDiff, kAny };

struct Pattern {
  unsigned prev;
  unsigned current;
  TagCondition condition;
};

struct SchemeRules {
  const char* name;
  unsigned allowed;
  std::vector<Pattern> start;
  std::vector<Pattern> inside;
  std::vector<Pattern> end;
};

constexpr TagCondition kSame = TagCondition::kSame;
constexpr TagCondition kDiff = TagCondition::kDiff;
constexpr TagCondition kAnyTag = TagCondition::kAny;

const SchemeRules& rules_of(TagScheme scheme) {
  static const SchemeRules iob1{
      "IOB1",
      kI | kO | kB,
      {{kO, kI, kAnyTag}, {kI, kI, kDiff}, {kB, kI, kAnyTag}, {kI, kB, kSame}, {kB, kB, kSame}},
      {{kB, kI, kSame}, {kI, kI, kSame}},
      {{kI, kI, kDiff},
       {kI, kO, kAnyTag},
       {kI, kB, kAnyTag},
       {kB, kO, kAnyTag},
       {kB, kI, kDiff},
       {kB, kB, kSame}}};
  static const SchemeRules ioe1{
      "IOE1",
      kI | kO | kE,
      {{kO, kI, kAnyTag}, {kI, kI, kDiff}, {kE, kI, kAnyTag}, {kE, kE, kSame}},
      {{kI, kI, kSame}, {kI, kE, kSame}},
      {{kI, kI, kDiff}, {kI, kO, kAnyTag}, {kI, kE, kDiff}, {kE, kI, kSame}, {kE, kE, kSame}}};
  static const SchemeRules iob2{"IOB2",
                                kI | kO | kB,
                                {{kAnyPrefix, kB, kAnyTag}},
                                {{kB, kI, kSame}, {kI, kI, kSame}},
                                {{kI, kO, kAnyTag},
                                 {kI, kI, kDiff},
                                 {kI, kB, kAnyTag},
                                 {kB, kO, kAnyTag},
                                 {kB, kI, kDiff},
                                 {kB, kB, kAnyTag}}};
  static const SchemeRules ioe2{"IOE2",
                                kI | kO | kE,
                                {{kO, kI, kAnyTag},
                                 {kO, kE, kAnyTag},
                                 {kE, kI, kAnyTag},
                                 {kE, kE, kAnyTag},
                                 {kI, kI, kDiff},
                                 {kI, kE, kDiff}},
                                {{kI, kE, kSame}, {kI, kI, kSame}},
                                {{kE, kAnyPrefix, kAnyTag}}};
  static const SchemeRules iobes{
      "IOBES",
      kI | kO | kB | kE | kS,
      {{kAnyPrefix, kB, kAnyTag}, {kAnyPrefix, kS, kAnyTag}},
      {{kB, kI, kSame}, {kB, kE, kSame}, {kI, kI, kSame}, {kI, kE, kSame}},
      {{kS, kAnyPrefix, kAnyTag}, {kE, kAnyPrefix, kAnyTag}}};
  static const SchemeRules bilou{
      "BILOU",
      kB | kI | kL | kO | kU,
      {{kAnyPrefix, kB, kAnyTag}, {kAnyPrefix, kU, kAnyTag}},
      {{kB, kI, kSame}, {kB, kL, kSame}, {kI, kI, kSame}, {kI, kL, kSame}},
      {{kU, kAnyPrefix, kAnyTag}, {kL, kAnyPrefix, kAnyTag}}};
  switch (scheme) {
    case TagScheme::kIOB1:
      return iob1;
    case TagScheme::kIOE1:
      return ioe1;
    case TagScheme::kIOB2:
      return iob2;
    case TagScheme::kIOE2:
      return ioe2;
    case TagScheme::kIOBES:
      return iobes;
    case TagScheme::kBILOU:
      return bilou;
    case TagScheme::kAuto:
      break;
  }
  fail("seqeval: the tag scheme must be resolved before use (kAuto given)");
}

struct Token {
  unsigned prefix = kO;
  std::string tag;
};

// seqeval.scheme.Token: the prefix letter must be one of I O B E S U L; the tag is the rest
// with the delimiter "-" stripped from both ends, "_" when nothing is left.
Token parse_token(const std::string& text, bool suffix) {
  if (text.empty()) fail("seqeval: empty tag");
  const std::size_t n = suffix ? last_char_length(text) : first_char_length(text);
  const std::string letter = suffix ? text.substr(text.size() - n) : text.substr(0, n);
  Token token;
  if (letter == "I") {
    token.prefix = kI;
  } else if (letter == "O") {
    token.prefix = kO;
  } else if (letter == "B") {
    token.prefix = kB;
  } else if (letter == "E") {
    token.prefix = kE;
  } else if (letter == "S") {
    token.prefix = kS;
  } else if (letter == "U") {
    token.prefix = kU;
  } else if (letter == "L") {
    token.prefix = kL;
  } else {
    fail("seqeval: tag \"", text, "\" has no I/O/B/E/S/U/L ", suffix ? "suffix" : "prefix");
  }
  std::string rest = suffix ? text.substr(0, text.size() - n) : text.substr(n);
  const std::size_t first = rest.find_first_not_of('-');
  if (first == std::string::npos) {
    rest.clear();
  } else {
    rest = rest.substr(first, rest.find_last_not_of('-') - first + 1);
  }
  token.tag = rest.empty() ? "_" : rest;
  return token;
}

bool matches(const Token& prev, const Token& current, const std::vector<Pattern>& patterns) {
  for (const Pattern& p : patterns) {
    if ((prev.prefix & p.prev) == 0 || (current.prefix & p.current) == 0) continue;
    if (p.condition == kAnyTag) return true;
    if (p.condition == kSame && prev.tag == current.tag) return true;
    if (p.condition == kDiff && prev.tag != current.tag) return true;
  }
  return false;
}

// Entities as (sentence, start, end) per type.
using EntitySets =
    std::map<std::string, std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>>>;

EntitySets entity_sets(const TagSequences& sequences, const SeqevalOptions& options,
                       TagScheme scheme) {
  EntitySets sets;
  if (options.mode == SeqevalMode::kDefault) {
    for (const Entity& e : get_entities(sequences, options.suffix)) {
      sets[e.type].emplace(e.sentence, e.start, e.end);
    }
  } else {
    for (std::size_t s = 0; s < sequences.size(); ++s) {
      for (const Entity& e : get_entities_strict(sequences[s], scheme, options.suffix,
                                                 static_cast<std::int64_t>(s))) {
        sets[e.type].emplace(e.sentence, e.start, e.end);
      }
    }
  }
  return sets;
}

std::string format_fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%9.*f", digits, value);
  return buffer;
}

std::string pad_left(const std::string& text, std::size_t width) {
  const std::size_t n = code_point_count(text);
  if (n >= width) return text;
  std::string padded(width - n, ' ');
  padded += text;
  return padded;
}

}  // namespace

std::vector<Entity> get_entities(const std::vector<std::string>& tags, bool suffix) {
  std::vector<Entity> chunks;
  std::string prev_tag = "O";
  std::string prev_type;
  std::int64_t begin = 0;
  const std::string outside = "O";
  for (std::size_t i = 0; i <= tags.size(); ++i) {
    const SplitTag current = split_default(i < tags.size() ? tags[i] : outside, suffix);
    const auto position = static_cast<std::int64_t>(i);
    if (end_of_chunk(prev_tag, current.letter, prev_type, current.type)) {
      chunks.push_back({-1, prev_type, begin, position - 1});
    }
    if (start_of_chunk(prev_tag, current.letter, prev_type, current.type)) begin = position;
    prev_tag = current.letter;
    prev_type = current.type;
  }
  return chunks;
}

std::vector<Entity> get_entities(const TagSequences& sentences, bool suffix) {
  std::vector<std::string> flat;
  for (const std::vector<std::string>& sentence : sentences) {
    flat.insert(flat.end(), sentence.begin(), sentence.end());
    flat.emplace_back("O");
  }
  return get_entities(flat, suffix);
}

std::vector<Entity> get_entities_strict(const std::vector<std::string>& tags, TagScheme scheme,
                                        bool suffix, std::int64_t sentence) {
  const SchemeRules& rules = rules_of(scheme);
  std::vector<Token> tokens;
  tokens.reserve(tags.size() + 1);
  for (const std::string& tag : tags) tokens.push_back(parse_token(tag, suffix));
  const Token outside = parse_token("O", suffix);
  tokens.push_back(outside);

  const auto forward = [&](std::size_t start, Token prev) {
    for (std::size_t i = start; i < tokens.size(); ++i) {
      if (!matches(prev, tokens[i], rules.inside)) return i;
      prev = tokens[i];
    }
    return tokens.size() - 2;  // seqeval: len(self.tokens) - 1; never reached (the final O)
  };

  std::vector<Entity> entities;
  std::size_t i = 0;
  Token prev = outside;
  while (i < tokens.size()) {
    const Token& token = tokens[i];
    if ((token.prefix & rules.allowed) == 0) {
      fail("seqeval: invalid tag \"", i < tags.size() ? tags[i] : std::string("O"),
           "\" for scheme ", rules.name, " (sentence ", sentence, ", position ", i, ")");
    }
    if (matches(prev, token, rules.start)) {
      const std::size_t end = forward(i + 1, token);
      if (matches(tokens[end - 1], tokens[end], rules.end)) {
        entities.push_back(
            {sentence, token.tag, static_cast<std::int64_t>(i), static_cast<std::int64_t>(end)});
      }
      i = end;
    } else {
      ++i;
    }
    prev = tokens[i - 1];
  }
  return entities;
}

TagScheme detect_scheme(const TagSequences& sequences, bool suffix) {
  unsigned seen = 0;
  for (const std::vector<std::string>& sentence : sequences) {
    for (const std::string& tag : sentence) seen |= parse_token(tag, suffix).prefix;
  }
  const auto one_of = [seen](std::initializer_list<unsigned> sets) {
    return std::find(sets.begin(), sets.end(), seen) != sets.end();
  };
  if (one_of({kI | kO | kB, kI | kB, kB | kO, kB})) return TagScheme::kIOB2;
  if (one_of({kI | kO | kE, kI | kE, kE | kO, kE})) return TagScheme::kIOE2;
  if (one_of({kI | kO | kB | kE | kS, kI | kB | kE | kS, kI | kO | kB | kE, kO | kB | kE | kS,
              kI | kB | kE, kB | kE | kS, kO | kB | kE, kB | kE, kS})) {
    return TagScheme::kIOBES;
  }
  if (one_of({kI | kO | kB | kL | kU, kI | kB | kL | kU, kI | kO | kB | kL, kO | kB | kL | kU,
              kI | kB | kL, kB | kL | kU, kO | kB | kL, kB | kL, kU})) {
    return TagScheme::kBILOU;
  }
  fail(
      "seqeval: cannot detect the tag scheme from the gold tags (not IOB2, IOE2, IOBES or "
      "BILOU)");
}

std::vector<ClassCounts> seqeval_counts(const TagSequences& gold, const TagSequences& pred,
                                        const SeqevalOptions& options,
                                        std::vector<std::string>* types) {
  check_consistent_shape(gold, pred);
  TagScheme scheme = options.scheme;
  if (options.mode == SeqevalMode::kStrict && scheme == TagScheme::kAuto) {
    scheme = detect_scheme(gold, options.suffix);
  }
  const EntitySets gold_sets = entity_sets(gold, options, scheme);
  const EntitySets pred_sets = entity_sets(pred, options, scheme);

  std::set<std::string> names;
  for (const auto& [type, unused] : gold_sets) names.insert(type);
  for (const auto& [type, unused] : pred_sets) names.insert(type);

  std::vector<ClassCounts> counts;
  types->assign(names.begin(), names.end());
  static const EntitySets::mapped_type kNone;
  for (const std::string& type : *types) {
    const auto g = gold_sets.find(type);
    const auto p = pred_sets.find(type);
    const auto& gold_entities = g == gold_sets.end() ? kNone : g->second;
    const auto& pred_entities = p == pred_sets.end() ? kNone : p->second;
    ClassCounts c;
    c.gold = static_cast<std::int64_t>(gold_entities.size());
    c.predicted = static_cast<std::int64_t>(pred_entities.size());
    for (const auto& e : pred_entities)
      c.true_positives += static_cast<std::int64_t>(gold_entities.count(e));
    counts.push_back(c);
  }
  return counts;
}

SeqevalReport seqeval_report(const TagSequences& gold, const TagSequences& pred,
                             const SeqevalOptions& options) {
  std::vector<std::string> types;
  const std::vector<ClassCounts> counts = seqeval_counts(gold, pred, options, &types);
  SeqevalReport report;
  for (std::size_t i = 0; i < types.size(); ++i) {
    report.per_type.push_back({types[i], scores_from_counts(counts[i], options.zero_division)});
  }
  report.micro = micro_average(counts, options.zero_division);
  report.macro = macro_average(counts, options.zero_division);
  report.weighted = weighted_average(counts, options.zero_division);
  report.accuracy = seqeval_accuracy(gold, pred);
  return report;
}

PrecisionRecallF1 seqeval_micro(const TagSequences& gold, const TagSequences& pred,
                                const SeqevalOptions& options) {
  std::vector<std::string> types;
  return micro_average(seqeval_counts(gold, pred, options, &types), options.zero_division);
}

double seqeval_accuracy(const TagSequences& gold, const TagSequences& pred) {
  check_consistent_shape(gold, pred);
  std::int64_t correct = 0;
  std::int64_t total = 0;
  for (std::size_t s = 0; s < gold.size(); ++s) {
    for (std::size_t i = 0; i < gold[s].size(); ++i) {
      correct += gold[s][i] == pred[s][i] ? 1 : 0;
      ++total;
    }
  }
  if (total == 0) fail("seqeval accuracy: no tags to score");
  return static_cast<double>(correct) / static_cast<double>(total);
}

nlohmann::json to_json(const SeqevalReport& report) {
  const auto row = [](const PrecisionRecallF1& s) {
    return nlohmann::json{{"precision", s.precision},
                          {"recall", s.recall},
                          {"f1-score", s.f1},
                          {"support", s.support}};
  };
  nlohmann::json out = nlohmann::json::object();
  for (const TypeScores& t : report.per_type) out[t.type] = row(t.scores);
  out["micro avg"] = row(report.micro);
  out["macro avg"] = row(report.macro);
  out["weighted avg"] = row(report.weighted);
  return out;
}

std::string format_seqeval_report(const SeqevalReport& report, int digits) {
  if (digits < 0 || digits > 20) fail("seqeval report: digits must be in 0..20, got ", digits);
  std::size_t width = std::string("weighted avg").size();
  width = std::max(width, static_cast<std::size_t>(digits));
  for (const TypeScores& t : report.per_type) width = std::max(width, code_point_count(t.type));

  std::string out(width + 1, ' ');
  for (const char* header : {"precision", "recall", "f1-score", "support"}) {
    out += ' ';
    out += pad_left(header, 9);
  }
  out += "\n\n";
  const auto row = [&](const std::string& name, const PrecisionRecallF1& s) {
    std::string line = pad_left(name, width);
    line += ' ';
    for (const double v : {s.precision, s.recall, s.f1}) {
      line += ' ';
      line += format_fixed(v, digits);
    }
    line += ' ';
    line += pad_left(std::to_string(s.support), 9);
    line += '\n';
    return line;
  };
  for (const TypeScores& t : report.per_type) out += row(t.type, t.scores);
  out += "\n";
  out += row("micro avg", report.micro);
  out += row("macro avg", report.macro);
  out += row("weighted avg", report.weighted);
  return out;
}

}  // namespace ptbench::metrics
