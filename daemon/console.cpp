// SPDX-License-Identifier: GPL-2.0-only
#include "console.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "common/time_text.hpp"
#include "common/units.hpp"

namespace netacct {
namespace {

// ANSI/xterm sequences (every terminal emulator in use speaks them).
constexpr const char* kEnterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr const char* kLeaveScreen = "\x1b[?25h\x1b[?1049l";
constexpr const char* kHome = "\x1b[H";
constexpr const char* kClearToEol = "\x1b[K";
constexpr const char* kClearBelow = "\x1b[J";

constexpr size_t kKeptLines = 50;    // printed again when the screen closes
constexpr size_t kShownLines = 5;    // under the live table
constexpr size_t kTableChrome = 13;  // the table's lines besides its flow rows

int terminal_rows(std::FILE* out) {
  winsize size{};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_row > 0) return size.ws_row;
  return 24;
}

}  // namespace

Console::Console(std::FILE* out, ConsoleContext context, bool live)
    : out_(out), context_(std::move(context)), live_(live) {
  if (!live_) return;
  std::fputs(kEnterScreen, out_);
  std::fprintf(out_, "netacct: counting on %s%s%s; the first harvest comes at once...\n",
               context_.interface.c_str(), context_.netns.empty() ? "" : " in ",
               context_.netns.c_str());
  std::fflush(out_);
  screen_open_ = true;
  log::set_sink(this);
}

Console::~Console() {
  close();
}

void Console::close() {
  if (!screen_open_) return;
  screen_open_ = false;
  log::set_sink(nullptr);  // from here on no thread is inside line()
  std::fputs(kLeaveScreen, out_);
  std::fflush(out_);
  // The log lines the screen showed go where they would have gone.
  for (const std::string& kept : recent_) std::fprintf(stderr, "%s\n", kept.c_str());
  recent_.clear();
}

void Console::line(const char* text, size_t length) {
  std::lock_guard<std::mutex> lock(lines_mutex_);
  recent_.emplace_back(text, length);
  if (recent_.size() > kKeptLines) recent_.pop_front();
}

void Console::on_harvest(const HarvestReport& report) {
  if (!report.ok) return;
  if (!live_) {
    print_table(out_, report, context_);
    return;
  }
  if (screen_open_) redraw(report);
}

void Console::redraw(const HarvestReport& report) {
  ConsoleContext fitted = context_;
  int rows = terminal_rows(out_);
  fitted.max_rows =
      static_cast<size_t>(std::max(1, rows - static_cast<int>(kTableChrome + kShownLines + 1)));
  char* text = nullptr;
  size_t size = 0;
  std::FILE* memory = ::open_memstream(&text, &size);
  if (!memory) return;
  print_table(memory, report, fitted);
  std::fclose(memory);
  // Home, then every line overwritten to its end: no flicker, no scrolling.
  std::string screen = kHome;
  for (const char* p = text; *p; p++) {
    if (*p == '\n') screen += kClearToEol;
    screen += *p;
  }
  std::free(text);
  {
    std::lock_guard<std::mutex> lock(lines_mutex_);
    size_t first = recent_.size() > kShownLines ? recent_.size() - kShownLines : 0;
    for (size_t i = first; i < recent_.size(); i++)
      screen += recent_[i].substr(0, 200) + kClearToEol + "\n";
  }
  screen += kClearBelow;
  std::fwrite(screen.data(), 1, screen.size(), out_);
  std::fflush(out_);
}

void print_table(std::FILE* out, const HarvestReport& report, const ConsoleContext& context) {
  const Delta& delta = report.harvest.delta;
  double seconds = report.interval > 0 ? report.interval : 0;
  auto rate = [&](uint64_t bytes) {
    return seconds > 0 ? human_rate(static_cast<double>(bytes) / seconds) : std::string("-");
  };
  auto packet_rate = [&](uint64_t packets) {
    if (seconds <= 0) return std::string("-");
    char text[32];
    std::snprintf(text, sizeof text, "%.1f/s", static_cast<double>(packets) / seconds);
    return std::string(text);
  };
  const std::string rule(116, '=');
  const std::string thin(116, '-');
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "Traffic in the last %.1f s - %s   Interface: %s%s%s\n", seconds,
               format_time(report.now).c_str(), context.interface.c_str(),
               context.netns.empty() ? "" : "  Namespace: ", context.netns.c_str());
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "%-26s %-26s %-7s %12s %12s %9s %13s %10s\n", "Local", "Remote", "Proto", "RX",
               "TX", "Packets", "Bytes/s", "Pkts/s");
  std::fprintf(out, "%s\n", thin.c_str());
  std::vector<const FlowDelta*> rows;
  rows.reserve(delta.flows.size());
  for (const FlowDelta& flow : delta.flows) rows.push_back(&flow);
  auto bytes_of = [](const FlowDelta* f) { return f->counters.rx_bytes + f->counters.tx_bytes; };
  size_t shown = std::min(rows.size(), context.max_rows);
  std::partial_sort(
      rows.begin(), rows.begin() + static_cast<long>(shown), rows.end(),
      [&](const FlowDelta* a, const FlowDelta* b) { return bytes_of(a) > bytes_of(b); });
  for (size_t i = 0; i < shown; i++) {
    const FlowDelta& f = *rows[i];
    const netacct_counters& c = f.counters;
    uint64_t packets = c.rx_packets + c.tx_packets;
    std::fprintf(out, "%-26s %-26s %-7s %12s %12s %9llu %13s %10s\n",
                 address_string(f.key.family, f.key.local).c_str(), remote_string(f.key).c_str(),
                 protocol_name(f.key.protocol).c_str(), human_bytes(c.rx_bytes).c_str(),
                 human_bytes(c.tx_bytes).c_str(), static_cast<unsigned long long>(packets),
                 rate(bytes_of(&f)).c_str(), packet_rate(packets).c_str());
  }
  if (rows.size() > shown) std::fprintf(out, "... %zu more flows\n", rows.size() - shown);
  netacct_counters total = delta.flow_total();
  uint64_t total_packets = total.rx_packets + total.tx_packets;
  std::fprintf(out, "%s\n", thin.c_str());
  std::fprintf(out, "%-61s %12s %12s %9llu %13s %10s\n", "INTERVAL TOTAL",
               human_bytes(total.rx_bytes).c_str(), human_bytes(total.tx_bytes).c_str(),
               static_cast<unsigned long long>(total_packets),
               rate(total.rx_bytes + total.tx_bytes).c_str(), packet_rate(total_packets).c_str());
  const netacct_counters& wl = delta.buckets[NETACCT_BUCKET_WHITELISTED];
  std::fprintf(out, "%-61s %12s %12s %9llu\n", "Whitelisted (not in flows)",
               human_bytes(wl.rx_bytes).c_str(), human_bytes(wl.tx_bytes).c_str(),
               static_cast<unsigned long long>(wl.rx_packets + wl.tx_packets));
  std::fprintf(out, "Totals: ledger %s, period export %s\n", context.ledger_path.c_str(),
               context.output_path.c_str());
  std::fflush(out);
}

}  // namespace netacct
