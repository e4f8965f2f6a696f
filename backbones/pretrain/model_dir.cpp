#include "backbones/pretrain/model_dir.h"

#include "common/error.h"
#include "common/files.h"

namespace ptbench::pretrain {

namespace fs = std::filesystem;

namespace {

void copy_atomic(const fs::path& from, const fs::path& to) { write_file_atomic(to, read_text_file(from)); }

}  // namespace

void write_tokenizer_files(const fs::path& dir, const TokenizerFiles& files, const tok::Tokenizer& tokenizer) {
  fs::create_directories(dir);
  bool have_vocabulary = false;
  for (const char* name : {"vocab.txt", "vocab.json", "merges.txt", "spiece.model", "tokenizer.json"}) {
    if (fs::exists(files.source_dir / name)) {
      copy_atomic(files.source_dir / name, dir / name);
      have_vocabulary = have_vocabulary || std::string(name) != "tokenizer.json";
    }
  }
  if (!have_vocabulary) {
    fail("tokenizer folder ", files.source_dir.string(), " holds no vocabulary (vocab.txt, vocab.json + merges.txt or spiece.model)");
  }
  // tokenizer_config.json: the source's when it has one (it states the casing), else ours.
  if (fs::exists(files.source_dir / "tokenizer_config.json")) {
    copy_atomic(files.source_dir / "tokenizer_config.json", dir / "tokenizer_config.json");
  } else {
    nlohmann::json config = {{"model_max_length", files.model_max_length}};
    if (files.arch == "t5") {
      config["tokenizer_class"] = "T5Tokenizer";
      config["extra_ids"] = 100;
    } else if (files.arch == "roberta") {
      config["tokenizer_class"] = "RobertaTokenizer";
    } else {
      config["tokenizer_class"] = "BertTokenizer";
      config["do_lower_case"] = files.lower_case;
    }
    write_json_atomic(dir / "tokenizer_config.json", config);
  }
  if (fs::exists(files.source_dir / "special_tokens_map.json")) {
    copy_atomic(files.source_dir / "special_tokens_map.json", dir / "special_tokens_map.json");
  } else {
    const tok::SpecialTokens& s = tokenizer.special_tokens();
    nlohmann::json map = nlohmann::json::object();
    auto add = [&](const char* key, std::int64_t id) {
      if (id >= 0) map[key] = tokenizer.id_to_token(id);
    };
    if (files.arch == "t5") {
      add("eos_token", s.eos);
      add("unk_token", s.unk);
      add("pad_token", s.pad);
    } else {
      add("cls_token", s.cls);
      add("sep_token", s.sep);
      add("pad_token", s.pad);
      add("unk_token", s.unk);
      add("mask_token", s.mask);
      if (files.arch == "roberta") {
        add("bos_token", s.bos);
        add("eos_token", s.eos);
      }
    }
    write_json_atomic(dir / "special_tokens_map.json", map);
  }
}

void write_model_dir(const fs::path& dir, const nlohmann::json& config, const TensorMap& tensors,
                     const std::map<std::string, std::string>& metadata) {
  fs::create_directories(dir);
  write_json_atomic(dir / "config.json", config);
  std::map<std::string, std::string> header = metadata;
  header["format"] = "pt";
  save_safetensors(dir / "model.safetensors", tensors, header);
}

}  // namespace ptbench::pretrain
