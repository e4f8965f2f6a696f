// Where data, vocabularies, golden files and models live. Every path is configurable:
// command-line options win, then the environment (PTBENCH_DATA, PTBENCH_MODELS, PTBENCH_SHARED),
// then ../shared next to the working directory, then the shared folder the build was configured
// with, then ./data. Which one was used is recorded in every run record.
#pragma once

#include <filesystem>
#include <string>

namespace ptbench {

// The folder holding data/, vocab/, corpus/ and golden/ (DESIGN.md section 5).
std::filesystem::path shared_dir();
// Data sets root (…/data). PTBENCH_DATA overrides.
std::filesystem::path data_dir();
// Pretrained / self-pretrained models root. PTBENCH_MODELS overrides; default ./models.
std::filesystem::path models_dir();
// Vocabularies root (…/vocab).
std::filesystem::path vocab_dir();

// Resolves a user-given model argument: an existing folder as is, otherwise a name under
// models_dir(). Returns the path it tried last when neither exists (callers report it).
std::filesystem::path resolve_model_path(const std::string& name_or_path);

}  // namespace ptbench
