// Reference (behaviour reproduced, code written anew): CoNLL-2005 srl-eval.pl
// (srlconll-1.1): SRL::prop::load_SE_tagging (continuation arguments),
// SRL::prop::discriminate_args (matching), evaluate_proposition, precrecf1, and its report.
#include "tasks/metrics/srl.h"

#include <cstdio>
#include <utility>

#include "common/error.h"

namespace ptbench::metrics {
namespace {

double ratio(std::int64_t numerator, std::int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

struct TypedPhrase {
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;
};

// BIO → contiguous typed phrases in order of their start.
std::vector<TypedPhrase> phrases_from_bio(const std::vector<std::string>& tags) {
  std::vector<TypedPhrase> phrases;
  bool open = false;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const std::string& tag = tags[i];
    const auto position = static_cast<std::int64_t>(i);
    if (tag == "O") {
      open = false;
      continue;
    }
    if (tag.size() < 3 || (tag[0] != 'B' && tag[0] != 'I') || tag[1] != '-') {
      fail("SRL: tag \"", tag, "\" at position ", i, " is not O, B-<role> or I-<role>");
    }
    const std::string type = tag.substr(2);
    if (tag[0] == 'I' && open && phrases.back().type == type) {
      phrases.back().end = position;
      continue;
    }
    phrases.push_back({type, position, position});
    open = true;
  }
  return phrases;
}

bool same_pieces(const SrlArgument& a, const SrlArgument& b) {
  if (a.pieces.size() != b.pieces.size()) return false;
  std::set<std::pair<std::int64_t, std::int64_t>> pieces;
  for (const SrlPhrase& p : a.pieces) pieces.emplace(p.start, p.end);
  for (const SrlPhrase& p : b.pieces) {
    if (pieces.erase({p.start, p.end}) == 0) return false;
  }
  return pieces.empty();
}

struct PropositionCounts {
  std::int64_t correct = 0;
  std::int64_t excess = 0;
  std::int64_t missed = 0;
};

}  // namespace

double SrlCounts::precision() const { return ratio(correct, correct + excess); }
double SrlCounts::recall() const { return ratio(correct, correct + missed); }
double SrlCounts::f1() const {
  const double p = precision();
  const double r = recall();
  return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

std::vector<SrlArgument> srl_arguments_from_bio(const std::vector<std::string>& tags) {
  std::vector<SrlArgument> arguments;
  std::map<std::string, std::size_t> latest_of_type;  // srl-eval.pl's %ARGS
  for (const TypedPhrase& phrase : phrases_from_bio(tags)) {
    if (phrase.type.rfind("C-", 0) == 0) {
      const std::string base = phrase.type.substr(2);
      const auto it = latest_of_type.find(base);
      if (it != latest_of_type.end()) {
        SrlArgument& argument = arguments[it->second];
        if (argument.pieces.empty()) argument.pieces.push_back({argument.start, argument.end});
        argument.pieces.push_back({phrase.start, phrase.end});
        argument.end = phrase.end;
        continue;
      }
      // A continuation without its head becomes a plain argument of the base type.
      latest_of_type[base] = arguments.size();
      arguments.push_back({base, phrase.start, phrase.end, {}});
      continue;
    }
    latest_of_type[phrase.type] = arguments.size();
    arguments.push_back({phrase.type, phrase.start, phrase.end, {}});
  }
  return arguments;
}

SrlEvalResult srl_eval(const std::vector<std::vector<std::string>>& gold,
                       const std::vector<std::vector<std::string>>& pred,
                       const SrlEvalOptions& options) {
  if (gold.size() != pred.size()) {
    fail("SRL evaluation: ", gold.size(), " gold propositions but ", pred.size(),
         " predicted ones");
  }
  SrlEvalResult result;
  for (std::size_t k = 0; k < gold.size(); ++k) {
    if (gold[k].size() != pred[k].size()) {
      fail("SRL evaluation: proposition ", k, " has ", gold[k].size(), " gold tags but ",
           pred[k].size(), " predicted tags");
    }
    const std::vector<SrlArgument> gold_args = srl_arguments_from_bio(gold[k]);
    const std::vector<SrlArgument> pred_args = srl_arguments_from_bio(pred[k]);

    std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> gold_at;
    for (std::size_t i = 0; i < gold_args.size(); ++i) {
      gold_at[{gold_args[i].start, gold_args[i].end}] = i;
    }

    PropositionCounts counts;
    const auto count = [&](const std::string& type, std::int64_t SrlCounts::*field,
                           std::int64_t PropositionCounts::*total) {
      if (options.excluded_types.count(type) != 0) {
        ++(result.excluded[type].*field);
        return;
      }
      ++(result.per_type[type].*field);
      ++(result.overall.*field);
      ++(counts.*total);
    };

    for (const SrlArgument& argument : pred_args) {
      const auto it = gold_at.find({argument.start, argument.end});
      bool correct = false;
      if (it != gold_at.end()) {
        const SrlArgument& candidate = gold_args[it->second];
        if (candidate.type == argument.type) {
          if (candidate.pieces.empty() && argument.pieces.empty()) {
            correct = true;
          } else if (!candidate.pieces.empty() && !argument.pieces.empty()) {
            correct = same_pieces(candidate, argument);
          }
        }
        if (correct) gold_at.erase(it);
      }
      if (correct) {
        count(argument.type, &SrlCounts::correct, &PropositionCounts::correct);
      } else {
        count(argument.type, &SrlCounts::excess, &PropositionCounts::excess);
      }
    }
    for (const auto& [span, index] : gold_at) {
      count(gold_args[index].type, &SrlCounts::missed, &PropositionCounts::missed);
    }
    ++result.propositions;
    if (counts.excess == 0 && counts.missed == 0) ++result.perfect_propositions;
  }
  return result;
}

std::string format_srl_eval_report(const SrlEvalResult& result) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "Number of Propositions :      %6lld\n",
                static_cast<long long>(result.propositions));
  out += line;
  std::snprintf(line, sizeof line, "Percentage of perfect props : %6.2f\n",
                result.propositions > 0 ? 100.0 * static_cast<double>(result.perfect_propositions) /
                                              static_cast<double>(result.propositions)
                                        : 0.0);
  out += line;
  out += "\n";
  std::snprintf(line, sizeof line, "%10s   %6s  %6s  %6s   %6s  %6s  %6s\n", "", "corr.", "excess",
                "missed", "prec.", "rec.", "F1");
  out += line;
  const std::string rule(60, '-');
  const auto row = [&](const std::string& name, const SrlCounts& c) {
    std::snprintf(line, sizeof line, "%10s   %6lld  %6lld  %6lld   %6.2f  %6.2f  %6.2f\n",
                  name.c_str(), static_cast<long long>(c.correct), static_cast<long long>(c.excess),
                  static_cast<long long>(c.missed), 100.0 * c.precision(), 100.0 * c.recall(),
                  100.0 * c.f1());
    out += line;
  };
  out += rule + "\n";
  row("Overall", result.overall);
  out += "----------\n";
  for (const auto& [type, counts] : result.per_type) row(type, counts);
  out += rule + "\n";
  for (const auto& [type, counts] : result.excluded) row(type, counts);
  out += rule + "\n";
  return out;
}

}  // namespace ptbench::metrics
