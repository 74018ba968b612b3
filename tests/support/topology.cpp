// SPDX-License-Identifier: GPL-2.0-only
#include "topology.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "pin/pin_dir.hpp"

namespace netacct::test {

namespace {

// ---- signal-safe cleanup registry --------------------------------------
// The handler may only use async-signal-safe calls, so what it must remove
// is kept in fixed arrays of C strings, filled before the objects exist.
constexpr size_t kSlots = 32;
constexpr size_t kPathLen = 160;
struct Slot {
  volatile sig_atomic_t used = 0;
  char path[kPathLen] = {};
};
std::array<Slot, kSlots> g_netns_slots;  // /var/run/netns/NAME
std::array<Slot, kSlots> g_pin_slots;    // /sys/fs/bpf/netacct/TAG
// Pin files the handler knows by name (it cannot list a directory safely).
constexpr const char* kPinNames[] = {"flows_a",     "flows_b",       "active_flows", "prefix_a",
                                     "prefix_b",    "active_prefix", "whitelist",    "meta",
                                     "prog_xdp_in", "prog_tc_in",    "prog_tc_eg",   "link_xdp",
                                     "link_tc_in",  "link_tc_eg"};
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV};

void emergency_cleanup(int sig) {
  for (Slot& slot : g_netns_slots) {
    if (!slot.used) continue;
    ::umount2(slot.path, MNT_DETACH);
    ::unlink(slot.path);
  }
  for (Slot& slot : g_pin_slots) {
    if (!slot.used) continue;
    int dir = ::open(slot.path, O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
      for (const char* name : kPinNames) ::unlinkat(dir, name, 0);
      ::close(dir);
    }
    ::rmdir(slot.path);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction action {};
  action.sa_handler = emergency_cleanup;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) ::sigaction(sig, &action, nullptr);
}

Slot* claim(std::array<Slot, kSlots>& slots, const std::string& path) {
  install_handlers();
  for (Slot& slot : slots) {
    if (slot.used) continue;
    std::snprintf(slot.path, sizeof slot.path, "%s", path.c_str());
    slot.used = 1;
    return &slot;
  }
  return nullptr;  // registry full: only the destructor will clean up
}

void release(std::array<Slot, kSlots>& slots, const std::string& path) {
  for (Slot& slot : slots)
    if (slot.used && path == slot.path) slot.used = 0;
}

bool pid_alive(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

int g_next_index = 0;  // tests run sequentially; only the namer uses it

}  // namespace

int run(const std::string& command, std::string* output) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  int status = ::pclose(pipe);
  if (output) *output = text;
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

std::string run_ok(const std::string& command) {
  std::string output;
  int status = run(command, &output);
  if (status != 0)
    throw std::runtime_error("'" + command + "' exited " + std::to_string(status) + ": " + output);
  return output;
}

void sweep_stale() {
  if (DIR* dir = ::opendir("/var/run/netns")) {
    while (struct dirent* entry = ::readdir(dir)) {
      long pid = 0;
      int n = 0;
      char side = 0;
      int used = 0;
      if (std::sscanf(entry->d_name, "na-%ld-%d-%c%n", &pid, &n, &side, &used) == 3 &&
          entry->d_name[used] == '\0' && !pid_alive(pid))
        run(std::string("ip netns del ") + entry->d_name);
    }
    ::closedir(dir);
  }
  for (const std::string& tag : pin::list_tags()) {
    long pid = 0;
    int used = 0;
    if (std::sscanf(tag.c_str(), "it-%ld-%n", &pid, &used) == 1 && used > 0 && !pid_alive(pid)) {
      if (auto dir = pin::PinDir::open_existing(tag)) (void)dir->remove_all();
    }
  }
}

Topology::Topology() {
  static bool swept = false;
  if (!swept) {
    swept = true;
    sweep_stale();
  }
  index_ = g_next_index++ % 250 + 1;
  const std::string pid = std::to_string(::getpid());
  const std::string n = std::to_string(index_);
  char mac_a[18];
  char mac_b[18];
  std::snprintf(mac_a, sizeof mac_a, "02:00:%02x:%02x:00:01", ::getpid() & 0xff, index_);
  std::snprintf(mac_b, sizeof mac_b, "02:00:%02x:%02x:00:02", ::getpid() & 0xff, index_);
  a_ = {"na-" + pid + "-" + n + "-a", "veth-a", mac_a, "10.200." + n + ".1",
        "fd00:200:" + n + "::1"};
  b_ = {"na-" + pid + "-" + n + "-b", "veth-b", mac_b, "10.200." + n + ".2",
        "fd00:200:" + n + "::2"};

  try {
    for (const Endpoint* end : {&a_, &b_}) {
      claim(g_netns_slots, "/var/run/netns/" + end->netns);
      run_ok("ip netns add " + end->netns);
    }
    for (const Endpoint* end : {&a_, &b_}) run_ok("ip -n " + end->netns + " link set lo up");
    recreate_link();
  } catch (...) {
    destroy();
    throw;
  }
}

void Topology::recreate_link() const {
  // Both ends are created directly inside their namespaces: the pair never
  // exists in the host namespace, even for a moment.
  run_ok("ip link add " + a_.ifname + " address " + a_.mac + " netns " + a_.netns +
         " type veth peer name " + b_.ifname + " address " + b_.mac + " netns " + b_.netns);
  for (auto [self, peer] : {std::pair{&a_, &b_}, std::pair{&b_, &a_}}) {
    const std::string ip = "ip -n " + self->netns + " ";
    const std::string dev = " dev " + self->ifname;
    run_ok(ip + "link set" + dev + " up && " + ip + "addr add " + self->ipv4 + "/24" + dev +
           " && " + ip + "addr add " + self->ipv6 + "/64" + dev + " nodad && " + ip +
           "neigh replace " + peer->ipv4 + " lladdr " + peer->mac + dev + " nud permanent && " +
           ip + "neigh replace " + peer->ipv6 + " lladdr " + peer->mac + dev + " nud permanent");
  }
}

Topology::~Topology() {
  destroy();
}

void Topology::destroy() noexcept {
  // Deleting a namespace deletes the veth pair with it, and with the pair
  // every tc filter and XDP program attached to it.
  for (const Endpoint* end : {&a_, &b_}) {
    run("ip netns del " + end->netns);
    release(g_netns_slots, "/var/run/netns/" + end->netns);
  }
}

TagGuard::TagGuard(const std::string& suffix)
    : tag_("it-" + std::to_string(::getpid()) + "-" + suffix) {
  claim(g_pin_slots, pin_path());
  // A leftover from an earlier run of this pid (pids are reused) would be
  // adopted and spoil exact counts: start clean.
  if (auto dir = pin::PinDir::open_existing(tag_)) (void)dir->remove_all();
  remove_ledger();
}

TagGuard::~TagGuard() {
  if (auto dir = pin::PinDir::open_existing(tag_)) (void)dir->remove_all();
  remove_ledger();
  release(g_pin_slots, pin_path());
}

// The tag's ledger in the run's state directory (see integration main).
void TagGuard::remove_ledger() const {
  const char* state_dir = ::getenv("NETACCT_STATE_DIR");
  if (!state_dir || !*state_dir) return;
  for (const char* suffix : {".db", ".db-wal", ".db-shm", ".db-journal"})
    ::unlink((std::string(state_dir) + "/" + tag_ + suffix).c_str());
}

std::string TagGuard::pin_path() const {
  return std::string(pin::kDefaultBase) + "/" + tag_;
}

}  // namespace netacct::test
