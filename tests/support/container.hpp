// SPDX-License-Identifier: GPL-2.0-only
// A real systemd as PID 1 for tests: this machine's own /usr booted by
// systemd-nspawn (`--directory=/ --volatile=yes`), with /etc, /usr and /var
// as overlays whose upper layers are temporary (so dpkg and `make install`
// can write, and nothing reaches the host's tree), its own network
// namespace with only a loopback (`--private-network`: nothing in it is
// attached to the host's interfaces), and two host directories bound in:
// bpffs (/sys/fs/bpf, shared pins) and /run/netns (the tests' named
// namespaces, which netacctd enters with setns). CAP_BPF is kept in the
// container's bounding set, because nspawn's seccomp filter allows bpf(2)
// only to containers that keep it.
//
// Commands run inside with `nsenter -t LEADER -a` (the container is not
// registered with machined: the host's PID 1 is not systemd). The
// destructor powers the container off (SIGTERM to nspawn), and SIGKILLs it
// after 30 s; nspawn gets SIGTERM too if the test process dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace netacct::test {

class Container {
 public:
  // Boots and waits until systemd reports the system running (or
  // degraded). Null with `why` set when nspawn is unavailable (the caller
  // skips with that reason); throws when it is there but the boot fails.
  static std::unique_ptr<Container> boot(std::string* why);
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  pid_t leader() const { return leader_; }
  // The container's root as the host sees it (/proc/LEADER/root).
  std::string root() const;
  // Runs `sh -c command` inside; exit status, output (stdout + stderr).
  int exec(const std::string& command, std::string* output = nullptr) const;
  // Like exec(), but throws with the output when the command fails.
  std::string exec_ok(const std::string& command) const;
  // What nspawn and the container printed (for failure messages).
  std::string console() const;

 private:
  Container() = default;
  pid_t nspawn_ = -1;
  pid_t leader_ = -1;
  std::string dir_;  // console log
};

}  // namespace netacct::test
