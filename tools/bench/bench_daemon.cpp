// SPDX-License-Identifier: GPL-2.0-only
#include "bench_daemon.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "daemon/common/flow.hpp"
#include "daemon/ledger/json_export.hpp"
#include "daemon/ledger/ledger.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "daemon/ledger/sqlite_store.hpp"

namespace netacct::bench {
namespace {

// The kernel's double buffers reduced to what the protocol sees: traffic
// goes into the active buffer; swap, read and clear work on the idle one.
class SyntheticSource final : public CounterSource {
 public:
  void add(const netacct_flow_key& key, const netacct_counters& c) { active_.push_back({key, c}); }

  Result<SourceState> state() override {
    return SourceState{"bench-boot/1", "bench-boot", generation_, phase_};
  }
  Result<void> set_state(uint64_t generation, uint32_t phase) override {
    generation_ = generation;
    phase_ = phase;
    return ok();
  }
  Result<void> swap(uint64_t* elapsed_ns) override {
    idle_.swap(active_);
    active_.clear();
    if (elapsed_ns) *elapsed_ns = 0;
    return ok();
  }
  Result<Delta> read_idle(const BatchHook&) override {
    Delta delta;
    delta.flows = idle_;
    return delta;
  }
  Result<void> clear_idle(Delta&, const BatchHook&) override {
    std::vector<FlowDelta>().swap(idle_);
    return ok();
  }

 private:
  std::vector<FlowDelta> active_, idle_;
  uint64_t generation_ = 0;
  uint32_t phase_ = NETACCT_PHASE_IDLE;
};

// Remote i: 11.0.0.0 + i (16.7 M distinct), UDP from 10.0.0.1.
netacct_flow_key remote_key(uint32_t i) {
  char text[INET_ADDRSTRLEN];
  uint32_t address = htonl(0x0b000000u + i);
  inet_ntop(AF_INET, &address, text, sizeof text);
  netacct_flow_key key{};
  if (!make_flow_key("10.0.0.1", text, 17, key)) throw std::runtime_error("flow key");
  return key;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A field of /proc/self/status ("VmHWM", "VmRSS") in MiB.
double status_mib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  return 0;
}

// Bytes this process passed to write(2)/pwrite(2) so far (/proc/self/io).
double written_bytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  double value = 0;
  while (in >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

template <typename T>
T must(Result<T> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(result.value());
}
void must(Result<void> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
}

// The ledger, store and export of one tag in a scratch directory, opened the
// way Instance::open opens them.
struct Daemon {
  explicit Daemon(const std::string& dir, SyntheticSource& source) {
    store = must(SqliteStore::open({dir + "/bench.db", "bench"}), "open ledger");
    JsonExport::Options options;
    options.path = dir + "/out.json";
    options.info = {"bench", "veth-bench", "", "tc", "none", 65536};
    exporter = std::make_unique<JsonExport>(*store, options);
    must(exporter->recover(), "export recover");
    must(exporter->check_existing(), "export check");
    // History is spread over time as on a real host: the bench advances
    // this clock (one hour per history harvest), so the current hour's
    // bins hold the current traffic, not everything ever seen.
    ledger = std::make_unique<Ledger>(source, *store, [this] { return clock; });
    must(ledger->recover(), "ledger recover");
  }
  // One harvest as Instance::harvest runs it; returns the rows exported.
  uint64_t harvest(bool export_wanted, double* commit_s = nullptr, double* export_s = nullptr) {
    double begun = now_s();
    must(ledger->harvest(), "harvest");
    // As Instance::harvest: history roll-ups and retention, a bounded step.
    must(store->roll_up(clock, 20000), "roll up");
    must(store->prune_history(clock, Retention{}, 20000), "prune");
    double committed = now_s();
    uint64_t rows = 0;
    if (export_wanted && must(exporter->needed(), "export needed"))
      rows = must(exporter->write(clock), "export").rows;
    double exported = now_s();
    malloc_trim(0);
    if (commit_s) *commit_s = committed - begun;
    if (export_s) *export_s = exported - committed;
    return rows;
  }
  int64_t clock = system_clock_seconds() - 30 * 86400;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<JsonExport> exporter;
  std::unique_ptr<Ledger> ledger;
};

struct ScratchDir {
  ScratchDir() {
    char pattern[] = "/var/tmp/netacct-bench-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp");
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

void print(const char* key, double value) {
  std::printf("%s=%.6f\n", key, value);
}

int scenario_idle() {
  constexpr uint32_t kRemotes = 65536, kIdle = 20;
  ScratchDir dir;
  SyntheticSource source;
  Daemon daemon(dir.path, source);
  for (uint32_t i = 0; i < kRemotes; i++) source.add(remote_key(i), {1000, 1, 0, 0});
  daemon.harvest(true);
  for (int i = 0; i < 3; i++) daemon.harvest(true);  // settle: WAL, caches
  double cpu0 = cpu_s(), written0 = written_bytes();
  for (uint32_t i = 0; i < kIdle; i++) daemon.harvest(true);
  print("idle_harvest_cpu_ms", (cpu_s() - cpu0) * 1e3 / kIdle);
  print("idle_harvest_write_bytes", (written_bytes() - written0) / kIdle);
  print("hwm_mib", status_mib("VmHWM"));
  return 0;
}

int scenario_scale() {
  constexpr uint32_t kHistory = 1000000, kPerHarvest = 65536, kRounds = 5;
  ScratchDir dir;
  SyntheticSource source;
  auto daemon = std::make_unique<Daemon>(dir.path, source);
  // History: 1,000,000 remotes, a flow map's worth per harvest.
  double begun = now_s();
  for (uint32_t first = 0; first < kHistory; first += kPerHarvest) {
    for (uint32_t i = first; i < std::min(kHistory, first + kPerHarvest); i++)
      source.add(remote_key(i), {1000, 1, 100, 1});
    daemon->clock += 3600;
    daemon->harvest(false);
  }
  daemon->harvest(true);
  print("history_build_s", now_s() - begun);

  // Steady state: half the flows new, half seen before.
  std::vector<double> commit, exported, total, growth;
  uint64_t rows = 0;
  uint32_t next_new = kHistory;
  for (uint32_t round = 0; round < kRounds; round++) {
    for (uint32_t i = 0; i < kPerHarvest / 2; i++) {
      source.add(remote_key(next_new++), {500, 1, 0, 0});
      source.add(remote_key((round * 7919u + i * 31u) % kHistory), {200, 1, 200, 1});
    }
    daemon->clock += 5;  // the harvest interval
    double commit_s = 0, export_s = 0;
    double rss_before = status_mib("VmRSS");
    rows = daemon->harvest(true, &commit_s, &export_s);
    growth.push_back(status_mib("VmRSS") - rss_before);
    commit.push_back(commit_s);
    exported.push_back(export_s);
    total.push_back(commit_s + export_s);
  }
  print("commit_ms", median(commit) * 1e3);
  print("export_ms", median(exported) * 1e3);
  print("export_rows", static_cast<double>(rows));
  print("export_rows_per_s", static_cast<double>(rows) / median(exported));
  print("export_rss_growth_mib", *std::max_element(growth.begin(), growth.end()));
  print("harvest_user_ms", median(total) * 1e3);

  // Start-up over that ledger: what netacctd does before its first harvest
  // (the kernel's side apart), including the metrics' seed from the ledger.
  daemon.reset();
  begun = now_s();
  daemon = std::make_unique<Daemon>(dir.path, source);
  auto reader = must(LedgerReader::open(dir.path + "/bench.db"), "reader");
  must(reader->snapshot(), "snapshot");
  print("startup_ms", (now_s() - begun) * 1e3);
  print("hwm_mib", status_mib("VmHWM"));
  return 0;
}

std::map<std::string, double> run_child(const std::string& self, const std::string& name) {
  std::string command = self + " --daemon-scenario " + name;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::map<std::string, double> figures;
  char line[256];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string text(line);
    auto equals = text.find('=');
    if (equals != std::string::npos)
      figures[text.substr(0, equals)] = std::strtod(text.c_str() + equals + 1, nullptr);
  }
  if (pclose(pipe) != 0) throw std::runtime_error("scenario " + name + " failed");
  return figures;
}

}  // namespace

int run_daemon_scenario(const std::string& name) {
  try {
    if (name == "idle") return scenario_idle();
    if (name == "scale") return scenario_scale();
    std::fprintf(stderr, "netacct-bench: unknown scenario %s\n", name.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netacct-bench: scenario %s: %s\n", name.c_str(), e.what());
  }
  return 1;
}

DaemonFigures measure_daemon(const std::string& self_path) {
  DaemonFigures f;
  auto idle = run_child(self_path, "idle");
  f.idle_harvest_cpu_ms = idle["idle_harvest_cpu_ms"];
  f.idle_harvest_write_bytes = idle["idle_harvest_write_bytes"];
  f.idle_hwm_mib = idle["hwm_mib"];
  auto scale = run_child(self_path, "scale");
  f.commit_ms = scale["commit_ms"];
  f.export_ms = scale["export_ms"];
  f.export_rows_per_s = scale["export_rows_per_s"];
  f.export_rss_growth_mib = scale["export_rss_growth_mib"];
  f.harvest_user_ms = scale["harvest_user_ms"];
  f.startup_ms = scale["startup_ms"];
  f.hwm_mib = scale["hwm_mib"];
  f.history_build_s = scale["history_build_s"];
  return f;
}

}  // namespace netacct::bench
