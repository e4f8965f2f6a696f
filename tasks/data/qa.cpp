#include "tasks/data/qa.h"

#include "common/error.h"
#include "common/files.h"
#include "tasks/data/json_fields.h"

namespace ptbench::data {

using detail::JsonFields;

namespace {

void read_answers(const JsonFields& qa, std::string_view field, const std::string& context,
                  std::vector<SquadAnswer>& out) {
  qa.for_each_object(field, [&](const JsonFields& answer, std::size_t) {
    SquadAnswer a;
    a.text = answer.string("text");
    a.answer_start = answer.integer("answer_start");
    const auto byte = utf8_byte_offset(context, a.answer_start);
    if (!byte) {
      answer.problem("answer_start", std::to_string(a.answer_start) + " lies outside the context of " +
                                         std::to_string(utf8_length(context)) + " characters");
    }
    a.byte_start = *byte;
    a.matches_context = context.compare(a.byte_start, a.text.size(), a.text) == 0;
    out.push_back(std::move(a));
  });
}

}  // namespace

std::vector<SquadExample> read_squad_file(const fs::path& file) {
  const nlohmann::json document = read_json_file(file);
  const JsonFields root(document, file.string());
  std::vector<SquadExample> examples;
  root.for_each_object("data", [&](const JsonFields& article, std::size_t) {
    const std::string title = article.has("title") ? article.string("title") : std::string();
    article.for_each_object("paragraphs", [&](const JsonFields& paragraph, std::size_t) {
      const std::string context = paragraph.string("context");
      paragraph.for_each_object("qas", [&](const JsonFields& qa_at_index, std::size_t) {
        // Re-anchor error messages on the question id, which a user can grep for.
        const std::string id = qa_at_index.string("id");
        const JsonFields qa(qa_at_index.json(), file.string() + ": question " + id);
        SquadExample e;
        e.id = id;
        e.title = title;
        e.context = context;
        e.question = qa.string("question");
        e.is_impossible = qa.has("is_impossible") && qa.boolean("is_impossible");
        read_answers(qa, "answers", context, e.answers);
        if (qa.has("plausible_answers")) read_answers(qa, "plausible_answers", context, e.plausible_answers);
        examples.push_back(std::move(e));
      });
    });
  });
  return examples;
}

fs::path squad_split_path(const fs::path& data_root, SquadVersion version, Split split) {
  if (split == Split::test) fail("SQuAD has no public test split (use train and validation = the dev file)");
  const bool v2 = version == SquadVersion::v2_0;
  const std::string file = std::string(split == Split::train ? "train" : "dev") + (v2 ? "-v2.0.json" : "-v1.1.json");
  return data_root / (v2 ? "squad_v2" : "squad") / file;
}

std::vector<SquadExample> load_squad(const fs::path& data_root, SquadVersion version, Split split) {
  const fs::path file = squad_split_path(data_root, version, split);
  const bool v2 = version == SquadVersion::v2_0;
  require_data_path(file, {std::string(v2 ? "SQuAD 2.0 " : "SQuAD 1.1 ") + std::string(split_name(split)) + " split",
                           "https://rajpurkar.github.io/SQuAD-explorer/dataset/" + file.filename().string(),
                           std::string("put it in <data-dir>/") + (v2 ? "squad_v2/" : "squad/")});
  return read_squad_file(file);
}

}  // namespace ptbench::data
