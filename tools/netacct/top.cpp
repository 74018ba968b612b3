// SPDX-License-Identifier: GPL-2.0-only
#include "top.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "daemon/common/flow.hpp"
#include "daemon/common/time_text.hpp"
#include "daemon/common/units.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "ledgers.hpp"

namespace netacct::top {
namespace {

volatile sig_atomic_t g_stop = 0;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "netacct: %s\n", message.c_str());
  return code;
}

// The terminal in raw mode on the alternate screen, restored on every exit
// path by the destructor.
class Screen {
 public:
  Screen() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);
    std::fflush(stdout);
  }
  ~Screen() {
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    if (raw_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

 private:
  termios saved_{};
  bool raw_ = false;
};

struct Row {
  std::string local, remote;
  int protocol = 0;
  netacct_counters c{};
};

std::string packets_rate(double per_second) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f/s", per_second);
  return text;
}

// One frame: the snapshot of the last harvest, busiest first.
Result<std::string> frame(LedgerReader& reader, size_t max_rows) {
  auto snapshot = reader.snapshot();
  if (!snapshot) return snapshot.error();
  const LedgerInfo& info = snapshot->info;
  auto interval = reader.database().prepare("SELECT recent_interval_ms FROM ledger WHERE id = 1");
  if (!interval) return interval.error();
  auto stepped = interval->step();
  if (!stepped) return stepped.error();
  double seconds = stepped.value() ? static_cast<double>(interval->column_int(0)) / 1000.0 : 0;
  auto stmt = reader.database().prepare(
      "SELECT local, remote, protocol, rx_bytes, rx_packets, tx_bytes, tx_packets FROM recent");
  if (!stmt) return stmt.error();
  std::vector<Row> rows;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!row.value()) break;
    rows.push_back(
        {std::string(stmt->column_text(0)),
         std::string(stmt->column_text(1)),
         static_cast<int>(stmt->column_int(2)),
         {stmt->column_u64(3), stmt->column_u64(4), stmt->column_u64(5), stmt->column_u64(6)}});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.c.rx_bytes + a.c.tx_bytes > b.c.rx_bytes + b.c.tx_bytes;
  });
  auto rate = [&](uint64_t bytes) {
    return seconds > 0 ? human_rate(static_cast<double>(bytes) / seconds) : std::string("-");
  };
  std::string out;
  char line[512];
  std::snprintf(
      line, sizeof line, "netacct top - tag %s (%s@%s) - harvest %s, interval %.1f s - q quits\n",
      info.tag.c_str(), info.interface.c_str(), info.netns.empty() ? "host" : info.netns.c_str(),
      info.last_harvest > 0 ? format_time(info.last_harvest).c_str() : "never", seconds);
  out += line;
  std::snprintf(line, sizeof line, "%-26s %-26s %-7s %13s %13s %10s\n", "LOCAL", "REMOTE", "PROTO",
                "RX/s", "TX/s", "PKTS/s");
  out += line;
  netacct_counters shown{};
  for (size_t i = 0; i < rows.size() && i < max_rows; i++) {
    const Row& r = rows[i];
    shown += r.c;
    double packets =
        seconds > 0 ? static_cast<double>(r.c.rx_packets + r.c.tx_packets) / seconds : 0;
    std::snprintf(line, sizeof line, "%-26s %-26s %-7s %13s %13s %10s\n", r.local.c_str(),
                  r.remote.c_str(), protocol_name(static_cast<uint8_t>(r.protocol)).c_str(),
                  rate(r.c.rx_bytes).c_str(), rate(r.c.tx_bytes).c_str(),
                  packets_rate(packets).c_str());
    out += line;
  }
  if (rows.empty()) out += "(no traffic in the last harvest)\n";
  std::snprintf(line, sizeof line, "%-61s %13s %13s   (%zu of %llu flows shown)\n", "SHOWN",
                rate(shown.rx_bytes).c_str(), rate(shown.tx_bytes).c_str(),
                std::min(rows.size(), max_rows), static_cast<unsigned long long>(info.last_flows));
  out += line;
  const BucketCounters& b = snapshot->lifetime.buckets;
  std::snprintf(
      line, sizeof line, "lifetime buckets: whitelisted %s, non-IP %s, malformed %s, overflow %s\n",
      human_bytes(b[NETACCT_BUCKET_WHITELISTED].rx_bytes + b[NETACCT_BUCKET_WHITELISTED].tx_bytes)
          .c_str(),
      human_bytes(b[NETACCT_BUCKET_NON_IP].rx_bytes + b[NETACCT_BUCKET_NON_IP].tx_bytes).c_str(),
      human_bytes(b[NETACCT_BUCKET_MALFORMED].rx_bytes + b[NETACCT_BUCKET_MALFORMED].tx_bytes)
          .c_str(),
      human_bytes(b[NETACCT_BUCKET_OVERFLOW_V4].rx_bytes + b[NETACCT_BUCKET_OVERFLOW_V4].tx_bytes +
                  b[NETACCT_BUCKET_OVERFLOW_V6].rx_bytes + b[NETACCT_BUCKET_OVERFLOW_V6].tx_bytes)
          .c_str());
  out += line;
  return out;
}

}  // namespace

int top_command(const std::vector<std::string>& args, const std::string& state_dir) {
  std::string tag;
  double refresh = 1.0;
  bool once = false;
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "--tag" && i + 1 < args.size())
      tag = args[++i];
    else if (args[i] == "--refresh" && i + 1 < args.size()) {
      char* end = nullptr;
      refresh = std::strtod(args[++i].c_str(), &end);
      if (*end || refresh < 0.1 || refresh > 3600)
        return fail(2, "--refresh: '" + args[i] + "' must be seconds in 0.1..3600");
    } else if (args[i] == "--once")
      once = true;
    else
      return fail(2, "top: unknown option '" + args[i] + "'");
  }
  OpenedLedger opened = open_tag_ledger(state_dir, tag);
  if (!opened.reader) return fail(opened.exit_code, opened.error);
  LedgerReader& reader = *opened.reader;
  bool live = !once && ::isatty(STDOUT_FILENO) && ::isatty(STDIN_FILENO);
  if (!live) {
    auto text = frame(reader, 50);
    if (!text) return fail(1, text.error().message());
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  struct sigaction on_signal {};
  on_signal.sa_handler = [](int) { g_stop = 1; };  // no SA_RESTART: poll returns
  ::sigaction(SIGINT, &on_signal, nullptr);
  ::sigaction(SIGTERM, &on_signal, nullptr);
  Screen screen;
  while (!g_stop) {
    winsize size{};
    size_t rows = ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 6
                      ? static_cast<size_t>(size.ws_row) - 5
                      : 20;
    auto text = frame(reader, rows);
    std::string screen_text = "\x1b[H";
    const std::string body = text ? text.value() : "netacct: " + text.error().message() + "\n";
    for (char c : body) {
      if (c == '\n') screen_text += "\x1b[K";
      screen_text += c;
    }
    screen_text += "\x1b[J";
    std::fwrite(screen_text.data(), 1, screen_text.size(), stdout);
    std::fflush(stdout);
    pollfd input{STDIN_FILENO, POLLIN, 0};
    if (::poll(&input, 1, static_cast<int>(refresh * 1000)) > 0) {
      char key = 0;
      if (::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q')) break;
    }
  }
  return 0;
}

}  // namespace netacct::top
