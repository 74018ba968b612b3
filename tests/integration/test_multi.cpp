// SPDX-License-Identifier: GPL-2.0-only
// netacct-multi end to end, in private namespaces: two instances (one per
// end of a veth pair), one netacctd killed with SIGKILL and restarted by
// the supervisor, then an orderly stop; both files must equal the ground
// truth and the combined summary must equal the sum of the files. Config
// errors must be one line and exit 2. netacct-verify (`make verify`) must
// report the three programs.
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/it_common.hpp"
#include "tests/integration/metrics_common.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct::test;

namespace {

std::string bin_path(const std::string& name) {
  const char* build = std::getenv("BUILD");
  return std::string(build && *build ? build : "build") + "/bin/" + name;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// A child process with stdout and stderr in separate files; SIGKILLed by
// the destructor if a failed test leaves it running.
class Child {
 public:
  // With `netns`, the child enters that network namespace first (only the
  // network namespace: bpffs stays visible), so what it serves on loopback
  // is the test namespace's, never the host's.
  Child(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
        const std::string& netns = "") {
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (!netns.empty()) {
        int ns = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
      }
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o >= 0) ::dup2(o, 1);
      if (e >= 0) ::dup2(e, 2);
      std::vector<std::string> copy = argv;
      std::vector<char*> args;
      for (std::string& arg : copy) args.push_back(arg.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void signal(int signum) { ::kill(pid_, signum); }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return false;
    }
    return true;
  }
  // Exit code, or -1 on timeout or death by signal.
  int wait(int timeout_ms) {
    wait_until([&] { return !running(); }, timeout_ms);
    return pid_ > 0 ? -1 : code_;
  }

 private:
  pid_t pid_ = -1;
  int code_ = -1;
};

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

Ran run_to_end(const std::vector<std::string>& argv, const std::string& dir) {
  Ran ran;
  {
    Child child(argv, dir + "/run.out", dir + "/run.err");
    ran.code = child.wait(20000);
  }
  ran.out = read_text(dir + "/run.out");
  ran.err = read_text(dir + "/run.err");
  return ran;
}

// The netacctd that netacct-multi runs for `tag` (its --config file is
// <runtime dir>/<tag>.json); 0 when none runs.
pid_t netacctd_of(const std::string& tag) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return 0;
  pid_t found = 0;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end) continue;
    std::string cmdline = read_text("/proc/" + std::string(entry->d_name) + "/cmdline");
    std::vector<std::string> args;
    for (size_t at = 0; at < cmdline.size();) {
      size_t zero = cmdline.find('\0', at);
      if (zero == std::string::npos) zero = cmdline.size();
      args.push_back(cmdline.substr(at, zero - at));
      at = zero + 1;
    }
    if (args.size() < 3 || args[0].size() < 8 ||
        args[0].compare(args[0].size() - 8, 8, "netacctd") != 0)
      continue;
    std::string suffix = "/" + tag + ".json";
    for (size_t i = 1; i + 1 < args.size(); i++) {
      const std::string& file = args[i + 1];
      if (args[i] == "--config" && file.find("netacct-multi.") != std::string::npos &&
          file.size() > suffix.size() &&
          file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0)
        found = static_cast<pid_t>(pid);
    }
  }
  ::closedir(proc);
  return found;
}

uint64_t summary_number(const boost::json::value& source, const char* key) {
  return source.at("summary").at(key).to_number<uint64_t>();
}

std::string instance_json(const std::string& tag, const Endpoint& end, const std::string& output) {
  return R"({"tag": ")" + tag + R"(", "namespace": ")" + end.netns + R"(", "interface": ")" +
         end.ifname + R"(", "output_file": ")" + output +
         R"(", "whitelist_file": null, "interval": 0.5})";
}

}  // namespace

TEST_CASE("multi: two instances, one killed and restarted, files exact, summary is their sum") {
  Topology topo;
  TagGuard tag_a("ma"), tag_b("mb");
  std::string dir = make_temp_dir("netacct-it-multi");
  std::string out_a = dir + "/a.json", out_b = dir + "/b.json", config = dir + "/multi.json";
  write_text(config, "{\"instances\": [\n  " + instance_json(tag_a.tag(), topo.a(), out_a) +
                         ",\n  " + instance_json(tag_b.tag(), topo.b(), out_b) + "\n]}\n");
  std::string log_out = dir + "/multi.out", log_err = dir + "/multi.err";
  Child multi({bin_path("netacct-multi"), "--json", "--interval", "1", config}, log_out, log_err,
              topo.a().netns);
  INFO("netacct-multi stderr:\n" << read_text(log_err));

  bool ready = wait_until(
      [&] {
        return (!read_source(out_a, tag_a.tag()).is_null() &&
                !read_source(out_b, tag_b.tag()).is_null()) ||
               !multi.running();
      },
      20000);
  REQUIRE(ready);
  REQUIRE(multi.running());
  // Each child serves its own /metrics: 9464 + its index (in A's namespace,
  // where the supervisor runs).
  for (auto [port, tag] :
       {std::pair{uint16_t{9464}, tag_a.tag()}, std::pair{uint16_t{9465}, tag_b.tag()}}) {
    INFO("port " << port);
    CHECK(wait_until(
        [&] {
          return scrape(topo.a().netns, port).find("tag=\"" + tag + "\"") != std::string::npos;
        },
        10000));
  }

  const std::string& a4 = topo.a().ipv4;
  const std::string& b4 = topo.b().ipv4;
  udp_exact(topo.a().netns, topo.b().netns, b4, 400, 200, 40201);  // A -> B
  udp_exact(topo.b().netns, topo.a().netns, a4, 300, 500, 40202);  // B -> A

  pid_t killed = netacctd_of(tag_a.tag());
  REQUIRE(killed > 0);
  uint64_t generation = source_generation(read_source(out_a, tag_a.tag()));
  REQUIRE(::kill(killed, SIGKILL) == 0);
  // While A's daemon is dead its pinned programs keep counting.
  udp_exact(topo.a().netns, topo.b().netns, b4, 200, 100, 40203);
  bool restarted = wait_until(
      [&] {
        pid_t now = netacctd_of(tag_a.tag());
        return now > 0 && now != killed &&
               source_generation(read_source(out_a, tag_a.tag())) > generation;
      },
      20000);
  REQUIRE(restarted);
  CHECK(read_text(log_err).find("killed by signal") != std::string::npos);
  udp_exact(topo.b().netns, topo.a().netns, a4, 100, 50, 40204);

  multi.signal(SIGTERM);
  REQUIRE(multi.wait(30000) == 0);
  CHECK(netacctd_of(tag_a.tag()) == 0);
  CHECK(netacctd_of(tag_b.tag()) == 0);

  // Each file against the ground truth the sockets counted.
  netacct_counters a_side{};
  a_side.tx_packets = 400 + 200;
  a_side.tx_bytes = 400 * udp_ip_bytes(b4, 200) + 200 * udp_ip_bytes(b4, 100);
  a_side.rx_packets = 300 + 100;
  a_side.rx_bytes = 300 * udp_ip_bytes(a4, 500) + 100 * udp_ip_bytes(a4, 50);
  netacct_counters b_side{};
  b_side.tx_packets = a_side.rx_packets;
  b_side.tx_bytes = a_side.rx_bytes;
  b_side.rx_packets = a_side.tx_packets;
  b_side.rx_bytes = a_side.tx_bytes;
  boost::json::value source_a = read_source(out_a, tag_a.tag());
  boost::json::value source_b = read_source(out_b, tag_b.tag());
  REQUIRE(source_a.is_object());
  REQUIRE(source_b.is_object());
  CHECK(flow_counters(source_a, a4, b4, "UDP") == a_side);
  CHECK(flow_counters(source_b, b4, a4, "UDP") == b_side);

  // The supervisor's last summary: A restarted once, B never, both stopped.
  std::string printed = read_text(log_out);
  REQUIRE(!printed.empty());
  std::string last = printed.substr(printed.rfind('\n', printed.size() - 2) + 1);
  boost::json::value final_summary = boost::json::parse(last);
  auto& rows = final_summary.at("instances").as_array();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("tag") == tag_a.tag().c_str());
  CHECK(rows[0].at("restarts").to_number<int>() == 1);
  CHECK(rows[1].at("restarts").to_number<int>() == 0);
  CHECK(rows[0].at("state") == "stopped");
  CHECK(rows[1].at("state") == "stopped");
  CHECK(rows[0].at("metrics") == "127.0.0.1:9464");
  CHECK(rows[1].at("metrics") == "127.0.0.1:9465");

  // --summary-only: each row equals its file, the total equals the sum.
  Ran summary = run_to_end({bin_path("netacct-multi"), "--summary-only", "--json", config}, dir);
  INFO("summary-only: " << summary.out << summary.err);
  REQUIRE(summary.code == 0);
  boost::json::value combined = boost::json::parse(summary.out);
  const boost::json::value* sources[] = {&source_a, &source_b};
  uint64_t sums[4] = {0, 0, 0, 0};
  const char* file_keys[4] = {"total_rx_bytes", "total_tx_bytes", "total_rx_packets",
                              "total_tx_packets"};
  const char* row_keys[4] = {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"};
  for (int i = 0; i < 2; i++) {
    const boost::json::value& row = combined.at("instances").at(static_cast<size_t>(i));
    CHECK(row.at("found") == true);
    // Stopped, but the programs stay attached and keep counting (by design).
    CHECK(row.at("state") == "counting");
    for (int k = 0; k < 4; k++) {
      uint64_t in_file = summary_number(*sources[i], file_keys[k]);
      CHECK(row.at(row_keys[k]).to_number<uint64_t>() == in_file);
      sums[k] += in_file;
    }
  }
  for (int k = 0; k < 4; k++)
    CHECK(combined.at("total").at(row_keys[k]).to_number<uint64_t>() == sums[k]);
  // The flows the test sent are part of those totals.
  CHECK(sums[0] >= a_side.rx_bytes + b_side.rx_bytes);

  // The table form carries the same total.
  Ran table = run_to_end({bin_path("netacct-multi"), "--summary-only", config}, dir);
  CHECK(table.code == 0);
  CHECK(table.out.find("total bytes " + std::to_string(sums[0] + sums[1]) + " (rx " +
                       std::to_string(sums[0]) + ", tx " + std::to_string(sums[1]) + ")") !=
        std::string::npos);
  run("rm -rf " + dir);
}

TEST_CASE("multi: config errors are one clear line and exit 2") {
  std::string dir = make_temp_dir("netacct-it-multi");
  struct Case {
    const char* name;
    std::string text;  // "" = the file does not exist
    std::string expect;
  };
  std::string out = dir + "/x.json";
  auto inst = [&](const std::string& tag, const std::string& iface, const std::string& extra) {
    return R"({"tag": ")" + tag + R"(", "interface": ")" + iface + R"(", "output_file": ")" + out +
           "\"" + extra + "}";
  };
  auto two = [&](const std::string& a, const std::string& b) {
    return "{\"instances\": [\n  " + a + ",\n  " + b + "\n]}\n";
  };
  std::vector<Case> cases = {
      {"duplicate tag", two(inst("a", "v0", ""), inst("a", "v1", "")),
       "instances[1] (tag 'a'): tag 'a' is already used by instances[0]"},
      {"same interface", two(inst("a", "v0", ""), inst("b", "v0", "")),
       "instances[1] (tag 'b'): interface 'v0' in the host namespace is already monitored by "
       "instances[0] (tag 'a')"},
      {"bad JSON", "{\"instances\": [\n  {\"tag\": \"a\",\n   \"interface\": \"v0\",,}\n]}\n",
       "multi.json:3:"},
      {"unknown key", two(inst("a", "v0", R"(, "speed": 10)"), inst("b", "v1", "")),
       "instances[0] (tag 'a'): unknown key 'speed'"},
      {"missing file", "", "config file " + dir + "/multi.json: No such file or directory"},
      {"bad output path",
       two(inst("a", "v0", ""),
           R"({"tag": "b", "interface": "v1", "output_file": "/nonexistent/b.json"})"),
       "instances[1] (tag 'b'): output_file '/nonexistent/b.json': directory /nonexistent does "
       "not exist"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::string config = dir + "/multi.json";
    ::unlink(config.c_str());
    if (!c.text.empty()) write_text(config, c.text);
    Ran ran = run_to_end({bin_path("netacct-multi"), config}, dir);
    CAPTURE(ran.err);
    CHECK(ran.code == 2);
    CHECK(ran.out.empty());
    CHECK(std::count(ran.err.begin(), ran.err.end(), '\n') == 1);
    CHECK(ran.err.rfind("netacct-multi: ", 0) == 0);
    CHECK(ran.err.find(c.expect) != std::string::npos);
  }
  run("rm -rf " + dir);
}

TEST_CASE("multi: --create-example writes the seed's config once") {
  std::string dir = make_temp_dir("netacct-it-multi");
  std::string path = dir + "/multi_accounting_config.json";
  Ran first = run_to_end({bin_path("netacct-multi"), "--create-example", path}, dir);
  CHECK(first.code == 0);
  std::string written = read_text(path);
  CHECK(written.find("\"instances\"") != std::string::npos);
  CHECK(written.find("\"mynamespace\"") != std::string::npos);
  write_text(path, "{}");
  Ran second = run_to_end({bin_path("netacct-multi"), "--create-example", path}, dir);
  CHECK(second.code == 1);
  CHECK(second.err.find("not overwritten") != std::string::npos);
  CHECK(read_text(path) == "{}");
  run("rm -rf " + dir);
}

TEST_CASE("verify: netacct-verify loads the three programs and reports instruction counts") {
  std::string dir = make_temp_dir("netacct-it-multi");
  Ran ran = run_to_end({bin_path("netacct-verify")}, dir);
  INFO(ran.out << ran.err);
  CHECK(ran.code == 0);
  for (const char* program : {"netacct_xdp_in", "netacct_tc_in", "netacct_tc_eg"}) {
    CAPTURE(program);
    auto at = ran.out.find(std::string(program) + " ");
    REQUIRE(at != std::string::npos);
    std::istringstream line(ran.out.substr(at, ran.out.find('\n', at) - at));
    std::string name, type;
    unsigned long xlated = 0, verified = 0;
    line >> name >> type >> xlated >> verified;
    CHECK(xlated > 10);
    CHECK(verified >= xlated);
  }
  run("rm -rf " + dir);
}
