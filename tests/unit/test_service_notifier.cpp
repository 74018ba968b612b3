// SPDX-License-Identifier: GPL-2.0-only
// ServiceNotifier against a fake systemd: a datagram socket named by
// NOTIFY_SOCKET, as sd_notify(3) documents it. Without the variables the
// notifier stays silent and starts no timer.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "daemon/service_notifier.hpp"

using namespace netacct;

namespace {

// A bound AF_UNIX datagram socket in a temporary directory, and the
// environment pointing at it; both undone at the end.
class FakeSystemd {
 public:
  explicit FakeSystemd(uint64_t watchdog_usec) {
    char dir[] = "/tmp/netacct-notify-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    dir_ = dir;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    if (watchdog_usec > 0) {
      setenv("WATCHDOG_USEC", std::to_string(watchdog_usec).c_str(), 1);
      setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
    }
  }
  ~FakeSystemd() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  std::vector<std::string> messages() {
    std::vector<std::string> out;
    char buffer[4096];
    for (;;) {
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) break;
      out.emplace_back(buffer, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

HarvestReport report_with(size_t flows) {
  HarvestReport report;
  report.ok = true;
  report.now = 1700000000;
  for (size_t i = 0; i < flows; i++) {
    FlowDelta flow{};
    flow.key.family = 2;
    flow.key.protocol = 17;
    flow.key.remote[0] = static_cast<uint8_t>(i + 1);
    flow.counters.rx_bytes = 100;
    flow.counters.rx_packets = 1;
    report.harvest.delta.flows.push_back(flow);
  }
  return report;
}

void run_loop_for(uv_loop_t* loop, uint64_t ms) {
  uv_timer_t stop{};
  uv_timer_init(loop, &stop);
  uv_timer_start(
      &stop, [](uv_timer_t* t) { uv_stop(t->loop); }, ms, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
}

}  // namespace

TEST_CASE("service notifier: READY=1 once, with STATUS=, then STATUS= per harvest; STOPPING=1") {
  FakeSystemd systemd(0);
  ServiceNotifier notifier;
  notifier.on_harvest(report_with(2));
  notifier.on_harvest(report_with(3));
  notifier.stopping();
  auto messages = systemd.messages();
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].rfind("READY=1\nSTATUS=last harvest ", 0) == 0);
  CHECK(messages[0].find(": 2 flows, 200 bytes, 2 packets") != std::string::npos);
  CHECK(messages[1].rfind("STATUS=last harvest ", 0) == 0);
  CHECK(messages[1].find("READY=1") == std::string::npos);
  CHECK(messages[1].find("3 flows") != std::string::npos);
  CHECK(messages[2].rfind("STOPPING=1", 0) == 0);
}

TEST_CASE("service notifier: a failed harvest shows its error in STATUS=") {
  HarvestReport failed;
  failed.error = "database is locked";
  CHECK(ServiceNotifier::status_text(failed).find("harvest failed at ") == 0);
  CHECK(ServiceNotifier::status_text(failed).find("database is locked") != std::string::npos);
}

TEST_CASE(
    "service notifier: WATCHDOG_USEC starts a timer feeding WATCHDOG=1 at half the interval") {
  FakeSystemd systemd(100000);  // 100 ms: fed every 50 ms
  uv_loop_t loop;
  uv_loop_init(&loop);
  ServiceNotifier notifier;
  notifier.start(&loop);
  CHECK(notifier.watchdog_usec() == 100000);
  run_loop_for(&loop, 180);
  notifier.close();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  size_t fed = 0;
  for (const auto& message : systemd.messages()) fed += message == "WATCHDOG=1";
  CHECK(fed >= 3);
  CHECK(fed <= 5);
}

TEST_CASE("service notifier: outside systemd nothing is sent and no timer runs") {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  uv_loop_t loop;
  uv_loop_init(&loop);
  ServiceNotifier notifier;
  notifier.start(&loop);
  CHECK(notifier.watchdog_usec() == 0);
  notifier.on_harvest(report_with(1));
  // No live handle: the loop has nothing to run.
  CHECK(uv_run(&loop, UV_RUN_NOWAIT) == 0);
  notifier.close();
  CHECK(uv_loop_close(&loop) == 0);
}
