// SPDX-License-Identifier: GPL-2.0-only
// The live console in a real terminal: netacctd runs in a tmux pane (a
// private tmux server), and capture-pane shows what an operator would see.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

// A tmux server of this test's own; killed with everything in it.
class TmuxServer {
 public:
  TmuxServer() : socket_("netacct-it-" + std::to_string(::getpid())) {}
  ~TmuxServer() { run(tmux("kill-server") + " 2>/dev/null"); }
  std::string tmux(const std::string& args) const { return "tmux -L " + socket_ + " " + args; }
  std::string capture() const {
    std::string screen;
    run(tmux("capture-pane -p -t console"), &screen);
    return screen;
  }

 private:
  std::string socket_;
};

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    count++;
  return count;
}

}  // namespace

TEST_CASE("console: redraws in place on a terminal, shows rates, restores the screen on Ctrl+C") {
  Topology topo;
  TagGuard tag("tty");
  std::string dir = make_temp_dir("netacct-tty");
  char resolved[PATH_MAX];
  REQUIRE(::realpath(netacctd_path().c_str(), resolved) != nullptr);
  std::string command = "echo BEFORE-NETACCT; " + std::string(resolved) + " --namespace " +
                        topo.a().netns + " --tag " + tag.tag() +
                        " --interval 0.5 --no-metrics --ledger " + dir + "/l.db " +
                        topo.a().ifname + " " + dir + "/out.json; echo EXITED rc=$?; sleep 60";
  TmuxServer tmux;
  REQUIRE(run(tmux.tmux("new-session -d -s console -x 150 -y 45 '" + command + "'")) == 0);
  REQUIRE(wait_until(
      [&] { return tmux.capture().find("Traffic in the last") != std::string::npos; }, 15000));

  UdpSpec spec = paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 3000, 100, 40501,
                           std::chrono::milliseconds(2));
  std::string during;
  UdpResult result = udp_transfer(
      spec,
      [&] {
        std::string screen = tmux.capture();
        if (screen.find(topo.b().ipv4) != std::string::npos) during = screen;
      },
      std::chrono::milliseconds(200));
  REQUIRE(result.received == spec.count);
  INFO("screen while traffic flowed:\n" << during);
  REQUIRE_FALSE(during.empty());
  // One table, redrawn in place: one header, nothing scrolled above it, and
  // the shell's line before netacctd hidden by the alternate screen.
  CHECK(occurrences(during, "Traffic in the last") == 1);
  CHECK(during.rfind("=====", 0) == 0);
  CHECK(during.find("BEFORE-NETACCT") == std::string::npos);
  CHECK(during.find("Bytes/s") != std::string::npos);
  CHECK(during.find("Pkts/s") != std::string::npos);
  CHECK(during.find("KiB/s") != std::string::npos);  // IEC units, labelled so
  CHECK(during.find("\nLocal ") != std::string::npos);
  CHECK(during.find(" Remote ") != std::string::npos);
  ::usleep(1200000);
  std::string later = tmux.capture();
  CHECK(occurrences(later, "Traffic in the last") == 1);

  // Ctrl+C: the screen comes back with the shell's line, the stop lines
  // follow, and the daemon exits 0.
  REQUIRE(run(tmux.tmux("send-keys -t console C-c")) == 0);
  REQUIRE(
      wait_until([&] { return tmux.capture().find("EXITED rc=") != std::string::npos; }, 20000));
  std::string after = tmux.capture();
  INFO("screen after Ctrl+C:\n" << after);
  CHECK(after.find("BEFORE-NETACCT") != std::string::npos);
  CHECK(after.find("EXITED rc=0") != std::string::npos);
  CHECK(after.find("Traffic in the last") == std::string::npos);
  CHECK(after.find("SIGINT: final harvest") != std::string::npos);
  CHECK(after.find("final harvest:") != std::string::npos);
  run("rm -rf " + dir);
}

TEST_CASE("console: --console=plain scrolls, --no-console prints no table") {
  Topology topo;
  TagGuard tag("plain");
  std::string dir = make_temp_dir("netacct-tty");
  for (const char* mode : {"--console=plain", "--no-console"}) {
    DaemonProcess daemon;
    std::string log = dir + "/" + std::string(mode + 2) + ".log";
    daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "0.2",
                  "--no-metrics", mode, topo.a().ifname, dir + "/out.json"},
                 log);
    ::usleep(1500000);
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait(15000) == 0);
    std::string text = read_text(log);
    INFO(mode << ":\n" << text.substr(0, 3000));
    if (std::string(mode) == "--console=plain")
      CHECK(occurrences(text, "Traffic in the last") >= 3);
    else
      CHECK(occurrences(text, "Traffic in the last") == 0);
    CHECK(text.find("\x1b[") == std::string::npos);  // no terminal sequences in a file
  }
  CHECK(run_netacctd({"--console=fancy", "x"}).exit_code == 2);
  run("rm -rf " + dir);
}

TEST_CASE("top: netacct top shows the busiest flows by rate, refreshes, and quits on q") {
  Topology topo;
  TagGuard tag("top");
  std::string dir = make_temp_dir("netacct-tty");
  DaemonProcess daemon;
  std::string output = dir + "/out.json";
  daemon.start({"--tag", tag.tag(), "--namespace", topo.a().netns, "--interval", "0.5",
                "--no-metrics", "--ledger", dir + "/" + tag.tag() + ".db", topo.a().ifname, output},
               dir + "/d.log");
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  char resolved[PATH_MAX];
  REQUIRE(::realpath(netacctd_path().c_str(), resolved) != nullptr);
  std::string netacct = std::string(resolved);
  netacct = netacct.substr(0, netacct.rfind('/')) + "/netacct";
  TmuxServer tmux;
  std::string command = "echo BEFORE-TOP; " + netacct + " top --tag " + tag.tag() +
                        " --state-dir " + dir + " --refresh 0.3; echo EXITED rc=$?; sleep 60";
  REQUIRE(run(tmux.tmux("new-session -d -s console -x 150 -y 40 '" + command + "'")) == 0);
  REQUIRE(wait_until([&] { return tmux.capture().find("netacct top - tag") != std::string::npos; },
                     10000));

  UdpSpec spec = paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 4000, 200, 40511,
                           std::chrono::milliseconds(2));
  std::string during;
  UdpResult result = udp_transfer(
      spec,
      [&] {
        std::string screen = tmux.capture();
        if (screen.find(topo.b().ipv4) != std::string::npos &&
            screen.find("KiB/s") != std::string::npos)
          during = screen;
      },
      std::chrono::milliseconds(200));
  REQUIRE(result.received == spec.count);
  INFO("top while traffic flowed:\n" << during);
  REQUIRE_FALSE(during.empty());
  CHECK(occurrences(during, "netacct top - tag") == 1);
  CHECK(during.find("BEFORE-TOP") == std::string::npos);  // the alternate screen
  CHECK(during.find("PKTS/s") != std::string::npos);
  // The busiest row is ours, first under the header.
  size_t header = during.find("PKTS/s");
  size_t first_row = during.find('\n', header) + 1;
  CHECK(during.substr(first_row, during.find('\n', first_row) - first_row).find(topo.b().ipv4) !=
        std::string::npos);

  REQUIRE(run(tmux.tmux("send-keys -t console q")) == 0);
  REQUIRE(
      wait_until([&] { return tmux.capture().find("EXITED rc=") != std::string::npos; }, 10000));
  std::string after = tmux.capture();
  INFO("after q:\n" << after);
  CHECK(after.find("EXITED rc=0") != std::string::npos);
  CHECK(after.find("BEFORE-TOP") != std::string::npos);
  CHECK(after.find("netacct top - tag") == std::string::npos);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(15000) == 0);
  run("rm -rf " + dir);
}
