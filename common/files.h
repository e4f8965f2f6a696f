// File helpers shared by every layer: whole-file reads with errors that name the file,
// line-wise JSON reading with line numbers, and atomic writes (temp file + rename) so a
// killed process never leaves half a record or checkpoint behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace ptbench {

namespace fs = std::filesystem;

// Reads a whole file; a missing or unreadable file is an Error naming it.
std::string read_text_file(const fs::path& path);

// Parses a JSON document; a parse error names the file and the byte offset.
nlohmann::json read_json_file(const fs::path& path);

// Calls `visit(json, line_number)` for every non-blank line of a JSON-lines file
// (also transparently for .gz files). A malformed line is an Error naming file and line.
void for_each_jsonl(const fs::path& path,
                    const std::function<void(const nlohmann::json&, std::int64_t line)>& visit);

// Calls `visit(line, line_number)` for every line of a text file (transparently gunzips .gz).
void for_each_line(const fs::path& path,
                   const std::function<void(const std::string&, std::int64_t line)>& visit);

// Writes `content` to `path` atomically: a temporary file in the same folder, fsync, rename.
// Creates missing parent folders.
void write_file_atomic(const fs::path& path, const std::string& content);

// Pretty JSON (2-space indent, trailing newline) written atomically.
void write_json_atomic(const fs::path& path, const nlohmann::json& value);

}  // namespace ptbench
