// SPDX-License-Identifier: GPL-2.0-only
// Test topology: two fresh network namespaces joined by one veth pair, so an
// integration test never touches the host's interfaces or routes. Names and
// subnets are unique per process and per topology; everything is deleted by
// the destructor, and on SIGINT/SIGTERM/SIGABRT/SIGSEGV by a best-effort,
// async-signal-safe handler (umount + unlink of the namespace files, unlink
// of the known pin files). A later run also sweeps what a killed run left
// (namespaces and pin directories whose pid no longer exists).
//
//   netns A (na-<pid>-<n>-a)            netns B (na-<pid>-<n>-b)
//   veth-a 10.200.<n>.1/24  <------->   veth-b 10.200.<n>.2/24
//          fd00:200:<n>::1/64                  fd00:200:<n>::2/64
//
// Neighbour entries are static (no ARP/NDP before the first datagram, which
// could otherwise hold back or drop packets the test has counted as sent).
#pragma once

#include <string>

namespace netacct::test {

// Runs a shell command; returns its exit status (-1 if it could not run).
// `output`, when given, receives stdout and stderr.
int run(const std::string& command, std::string* output = nullptr);
// Like run(), but throws std::runtime_error with the output on failure.
std::string run_ok(const std::string& command);

struct Endpoint {
  std::string netns;  // namespace name (under /var/run/netns)
  std::string ifname;
  std::string mac;
  std::string ipv4;  // without prefix length
  std::string ipv6;
};

class Topology {
 public:
  // Builds the namespaces, the veth pair, addresses and neighbours; throws
  // (after removing what it made) if any step fails.
  Topology();
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  const Endpoint& a() const { return a_; }
  // Makes the veth pair again after it was deleted (with `ip link del`), with
  // the same names, MACs, addresses and static neighbours.
  void recreate_link() const;
  const Endpoint& b() const { return b_; }
  int index() const { return index_; }

 private:
  void destroy() noexcept;

  int index_ = 0;
  Endpoint a_;
  Endpoint b_;
};

// A test tag ("it-<pid>-<suffix>") whose pin directory is removed when this
// guard dies, and by the signal handler when the test is killed.
class TagGuard {
 public:
  explicit TagGuard(const std::string& suffix);
  ~TagGuard();
  TagGuard(const TagGuard&) = delete;
  TagGuard& operator=(const TagGuard&) = delete;

  const std::string& tag() const { return tag_; }
  std::string pin_path() const;

 private:
  void remove_ledger() const;
  std::string tag_;
};

// Removes namespaces and pin directories left by test runs whose process
// is gone. Called once per process by the first Topology.
void sweep_stale();

}  // namespace netacct::test
