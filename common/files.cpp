#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include "common/error.h"

namespace ptbench {

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail("cannot read ", path.string(), ": ", fs::exists(path) ? "permission denied" : "no such file");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json_file(const fs::path& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(path.string(), ": malformed JSON at byte ", e.byte, ": ", e.what());
  }
}

void for_each_line(const fs::path& path,
                   const std::function<void(const std::string&, std::int64_t line)>& visit) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    fail("cannot read ", path.string(), ": ", fs::exists(path) ? "permission denied" : "no such file");
  }
  boost::iostreams::filtering_istream in;
  if (path.extension() == ".gz") in.push(boost::iostreams::gzip_decompressor());
  in.push(file);
  std::string line;
  std::int64_t number = 0;
  try {
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      visit(line, number);
    }
  } catch (const boost::iostreams::gzip_error& e) {
    fail(path.string(), ": corrupt gzip data after line ", number, ": ", e.what());
  }
}

void for_each_jsonl(const fs::path& path,
                    const std::function<void(const nlohmann::json&, std::int64_t line)>& visit) {
  for_each_line(path, [&](const std::string& line, std::int64_t number) {
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail(path.string(), ":", number, ": malformed JSON line (", e.what(), ")");
    }
    visit(value, number);
  });
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  static std::atomic<unsigned> counter{0};
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path temp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                        std::to_string(counter.fetch_add(1));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write ", temp.string(), ": ", std::strerror(errno));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      fail("cannot write ", temp.string(), ": ", reason);
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temp.c_str());
    fail("cannot rename ", temp.string(), " to ", path.string(), ": ", reason);
  }
}

void write_json_atomic(const fs::path& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

}  // namespace ptbench
