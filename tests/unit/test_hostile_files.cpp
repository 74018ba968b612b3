// SPDX-License-Identifier: GPL-2.0-only
// Files an attacker (or an accident) put where netacct reads and writes:
// a directory, a FIFO, a 1 GB file, a whitelist of a million entries, a
// symbolic link planted at a temporary or lock file's name, temporary files
// a kill -9 left behind. Each is refused with one line naming the file (or
// removed, for our own stale temporaries), fast, and nothing is written
// through a link.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "daemon/common/json_file.hpp"
#include "daemon/config/options.hpp"
#include "daemon/config/whitelist.hpp"
#include "daemon/ledger/json_export.hpp"
#include "daemon/ledger/output_scanner.hpp"
#include "daemon/ledger/sqlite_store.hpp"
#include "ledger_fakes.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A sparse file of `bytes` zeros.
void sparse(const std::string& path, off_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, bytes) == 0);
  ::close(fd);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool one_line_naming(const std::string& message, const std::string& path) {
  return message.find(path) != std::string::npos && message.find('\n') == std::string::npos;
}

}  // namespace

TEST_CASE("hostile files: a whitelist that is a directory, a FIFO, 1 GB or a million entries") {
  TempDir dir;
  const std::string path = dir.file("whitelist.json");
  SUBCASE("directory") {
    REQUIRE(::mkdir(path.c_str(), 0700) == 0);
    auto loaded = load_whitelist_file(path, 16384);
    REQUIRE_FALSE(loaded.ok());
    CHECK(one_line_naming(loaded.error().message(), path));
    CHECK(loaded.error().message().find("a directory") != std::string::npos);
  }
  SUBCASE("FIFO: refused at once, the open does not wait for a writer") {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    auto start = std::chrono::steady_clock::now();
    auto loaded = load_whitelist_file(path, 16384);
    REQUIRE_FALSE(loaded.ok());
    CHECK(seconds_since(start) < 1.0);
    CHECK(one_line_naming(loaded.error().message(), path));
    CHECK(loaded.error().message().find("a FIFO") != std::string::npos);
  }
  SUBCASE("1 GB (sparse): refused by its size without reading it") {
    sparse(path, off_t{1} << 30);
    auto start = std::chrono::steady_clock::now();
    auto loaded = load_whitelist_file(path, 16384);
    REQUIRE_FALSE(loaded.ok());
    CHECK(seconds_since(start) < 1.0);
    CHECK(one_line_naming(loaded.error().message(), path));
    CHECK(loaded.error().message().find("more than the limit of " +
                                        std::to_string(whitelist_file_limit(16384))) !=
          std::string::npos);
  }
  SUBCASE("1,000,000 entries: over the entry limit, refused before any is parsed") {
    std::string text = R"({"whitelist": {"big": {"ips": [)";
    for (uint32_t i = 0; i < 1000000; i++) {
      if (i) text += ",";
      text += "\"10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
              std::to_string(i & 255) + "\"";
    }
    text += "]}}}";
    write(path, text);
    // Under the largest --max-whitelist's byte limit, over its entry limit...
    auto start = std::chrono::steady_clock::now();
    auto loaded = load_whitelist_file(path, 16384);
    REQUIRE_FALSE(loaded.ok());
    CHECK(seconds_since(start) < 5.0);
    CHECK(one_line_naming(loaded.error().message(), path));
    // ...which is the byte limit at the default: 3 MiB.
    CHECK(loaded.error().message().find("bytes, more than the limit") != std::string::npos);
    auto at_max = load_whitelist_file(path, 1u << 19);
    REQUIRE_FALSE(at_max.ok());
    CHECK(one_line_naming(at_max.error().message(), path));
    CHECK(at_max.error().message().find("more than 524288 addresses and prefixes") !=
          std::string::npos);
  }
  SUBCASE("a symbolic link is followed (ConfigMaps are links)") {
    write(dir.file("real.json"), R"({"whitelist": {"g": {"ips": ["192.0.2.1"]}}})");
    REQUIRE(::symlink("real.json", path.c_str()) == 0);
    auto loaded = load_whitelist_file(path, 16384);
    REQUIRE(loaded.ok());
    CHECK(loaded->entries.size() == 1);
  }
}

TEST_CASE("hostile files: a config file that is a FIFO or too large is refused") {
  TempDir dir;
  const std::string path = dir.file("netacctd.json");
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  DaemonOptions opts;
  auto fifo = apply_instance_config(path, opts);
  REQUIRE_FALSE(fifo.ok());
  CHECK(one_line_naming(fifo.error().message(), path));
  ::unlink(path.c_str());
  sparse(path, kMaxConfigBytes + 1);
  auto big = apply_instance_config(path, opts);
  REQUIRE_FALSE(big.ok());
  CHECK(one_line_naming(big.error().message(), path));
}

TEST_CASE("hostile files: write_file_atomic never writes through a planted link") {
  TempDir dir;
  const std::string path = dir.file("child.json");
  const std::string victim = dir.file("victim");
  write(victim, "precious");
  // The old predictable names, planted as links to the victim.
  for (const std::string& planted : {path + ".tmp." + std::to_string(::getpid()),
                                     path + kTempMarker + std::to_string(::getpid())})
    REQUIRE(::symlink(victim.c_str(), planted.c_str()) == 0);
  REQUIRE(write_file_atomic(path, "{}\n", 0640).ok());
  CHECK(read_all(path) == "{}\n");
  CHECK(read_all(victim) == "precious");
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("hostile files: stale temporary files of ours are removed, nothing else") {
  TempDir dir;
  const std::string path = dir.file("out.json");
  // A pid that cannot run: above pid_max.
  const std::string dead = path + kTempMarker + "99999999.0123456789abcdef";
  const std::string live = path + kTempMarker + "1.0123456789abcdef";  // init runs
  const std::string link = path + kTempMarker + "99999998.0123456789abcdef";
  const std::string other = dir.file("someone-else.json.netacct-tmp.99999999.x");
  write(dead, "stale copy");
  write(live, "being written");
  write(other, "not ours");
  REQUIRE(::symlink("/etc/passwd", link.c_str()) == 0);
  CHECK(remove_stale_temp_files(path) == 1);
  CHECK(::access(dead.c_str(), F_OK) != 0);
  CHECK(::access(live.c_str(), F_OK) == 0);
  CHECK(::access(other.c_str(), F_OK) == 0);
  struct stat st {};
  CHECK(::lstat(link.c_str(), &st) == 0);
  // The writer cleans up after a dead predecessor itself.
  write(dead, "stale copy");
  REQUIRE(write_file_atomic(path, "{}\n").ok());
  CHECK(::access(dead.c_str(), F_OK) != 0);
}

TEST_CASE("hostile files: a lock file planted as a link or a FIFO is refused") {
  TempDir dir;
  const std::string path = dir.file("out.json");
  const std::string victim = dir.file("victim");
  write(victim, "precious");
  REQUIRE(::symlink(victim.c_str(), (path + ".lock").c_str()) == 0);
  auto linked = FileLock::acquire(path);
  REQUIRE_FALSE(linked.ok());
  CHECK(one_line_naming(linked.error().message(), path + ".lock"));
  CHECK(read_all(victim) == "precious");
  ::unlink((path + ".lock").c_str());
  REQUIRE(::mkfifo((path + ".lock").c_str(), 0600) == 0);
  auto fifo = FileLock::acquire(path);
  REQUIRE_FALSE(fifo.ok());
  CHECK(one_line_naming(fifo.error().message(), path + ".lock"));
}

TEST_CASE("hostile files: a database that is a link, a directory, a FIFO or 1 GB of zeros") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  SqliteStore::Options options;
  options.path = path;
  options.tag = "t";
  SUBCASE("symbolic link") {
    write(dir.file("elsewhere.db"), "");
    REQUIRE(::symlink("elsewhere.db", path.c_str()) == 0);
    auto opened = SqliteStore::open(options);
    REQUIRE_FALSE(opened.ok());
    CHECK(one_line_naming(opened.error().message(), path));
    CHECK(read_all(dir.file("elsewhere.db")).empty());
  }
  SUBCASE("directory") {
    REQUIRE(::mkdir(path.c_str(), 0700) == 0);
    auto opened = SqliteStore::open(options);
    REQUIRE_FALSE(opened.ok());
    CHECK(one_line_naming(opened.error().message(), path));
  }
  SUBCASE("FIFO") {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    auto opened = SqliteStore::open(options);
    REQUIRE_FALSE(opened.ok());
    CHECK(one_line_naming(opened.error().message(), path));
  }
  SUBCASE("1 GB of zeros (sparse)") {
    sparse(path, off_t{1} << 30);
    auto start = std::chrono::steady_clock::now();
    auto opened = SqliteStore::open(options);
    REQUIRE_FALSE(opened.ok());
    CHECK(seconds_since(start) < 5.0);
    CHECK(one_line_naming(opened.error().message(), path));
  }
  SUBCASE("a new database gets the file mode, umask aside") {
    options.file_mode = 0600;
    mode_t old_umask = ::umask(0);
    auto opened = SqliteStore::open(options);
    ::umask(old_umask);
    REQUIRE(opened.ok());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("hostile files: --file-mode takes an octal mode the owner can read and write") {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "netacctd");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return parse_options(static_cast<int>(args.size()), argv.data());
  };
  auto parsed = parse({"--file-mode", "0600", "veth0"});
  REQUIRE(parsed.ok());
  CHECK(parsed->file_mode == 0600);
  CHECK(parse({"veth0"})->file_mode == 0640);
  for (const char* bad : {"0400", "999", "", "07777", "rw"})
    CHECK_FALSE(parse({"--file-mode", bad, "veth0"}).ok());
}

TEST_CASE("hostile: /metrics listens on loopback unless told otherwise") {
  std::vector<std::string> args = {"netacctd", "veth0"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto parsed = parse_options(static_cast<int>(args.size()), argv.data());
  REQUIRE(parsed.ok());
  CHECK(parsed->metrics);
  CHECK(parsed->metrics_listen == "127.0.0.1:9464");
}

TEST_CASE("hostile: a traffic_data array outside \"sources\" is data, not rows") {
  // Regression (fuzz_output_scanner, a SEGV in the value stack).
  TempDir dir;
  const std::string path = dir.file("out.json");
  write(path, R"({"source/": [{"id": "t", "traffic_data": [{"source_ip": "1.2.3.4"}]}],
                  "sources": []})");
  ScanOptions options;
  options.our_id = "t";
  options.on_our_row = [](const FlowRow&, uint8_t) -> Result<void> { return ok(); };
  auto scanned = scan_output_file(path, options);
  REQUIRE(scanned.ok());
  CHECK_FALSE(scanned->ours);
}
