// SPDX-License-Identifier: GPL-2.0-only
#include "report.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <map>

#include "daemon/common/flow.hpp"
#include "daemon/common/time_text.hpp"
#include "daemon/common/units.hpp"
#include "daemon/ledger/history_report.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "ledgers.hpp"

namespace netacct::report {
namespace {

namespace json = boost::json;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "netacct: %s\n", message.c_str());
  return code;
}

std::string format_local(int64_t t, const char* format) {
  std::time_t at = static_cast<std::time_t>(t);
  struct tm local {};
  localtime_r(&at, &local);
  char text[64];
  std::strftime(text, sizeof text, format, &local);
  return text;
}

const char* period_format(BinLevel level) {
  switch (level) {
    case BinLevel::FiveMinutes: return "%Y-%m-%d %H:%M";
    case BinLevel::Hour: return "%Y-%m-%d %H:00";
    case BinLevel::Day: return "%Y-%m-%d";
    case BinLevel::Month: return "%Y-%m";
  }
  return "%Y-%m-%d %H:%M";
}

// "24h", "7d", "90m" -> seconds; -1 when malformed.
long long parse_duration(const std::string& text) {
  char* end = nullptr;
  long long amount = std::strtoll(text.c_str(), &end, 10);
  if (amount <= 0 || !end || end[0] == '\0' || end[1] != '\0') return -1;
  switch (end[0]) {
    case 'm': return amount * 60;
    case 'h': return amount * 3600;
    case 'd': return amount * 86400;
  }
  return -1;
}

std::string protocol_text(int protocol) {
  return protocol < 0 ? "" : protocol_name(static_cast<uint8_t>(protocol));
}

std::string bits_text(double bytes_per_second) {
  double bits = bytes_per_second * 8;
  const char* units[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
  int unit = 0;
  while (bits >= 1000 && unit < 4) bits /= 1000, unit++;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", bits, units[unit]);
  return text;
}

int print_percentile(LedgerReader& reader, const std::string& tag, const ReportQuery& query,
                     double percentile, const std::string& format) {
  auto rows = percentile_by_local(reader.database(), query.since, query.until, percentile);
  if (!rows) return fail(1, rows.error().message());
  char label[16];
  std::snprintf(label, sizeof label, "p%g", percentile);
  if (format == "json") {
    json::array list;
    for (const PercentileRow& r : rows.value())
      list.push_back(json::object{{"local", r.local},
                                  {"intervals", r.intervals},
                                  {"active_intervals", r.active_intervals},
                                  {"rx_bytes_per_s", r.rx_bytes_per_s},
                                  {"tx_bytes_per_s", r.tx_bytes_per_s},
                                  {"max_bytes_per_s", r.max_bytes_per_s},
                                  {"rx_bits_per_s", r.rx_bytes_per_s * 8},
                                  {"tx_bits_per_s", r.tx_bytes_per_s * 8},
                                  {"max_bits_per_s", r.max_bytes_per_s * 8}});
    json::object out{{"tag", tag},
                     {"percentile", percentile},
                     {"since_utc", format_time_utc(bin_start(BinLevel::FiveMinutes, query.since))},
                     {"until_utc", format_time_utc(query.until)},
                     {"rows", std::move(list)}};
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  if (format == "csv") {
    std::printf("local,intervals,active_intervals,rx_bytes_per_s,tx_bytes_per_s,max_bytes_per_s\n");
    for (const PercentileRow& r : rows.value())
      std::printf("%s,%llu,%llu,%.3f,%.3f,%.3f\n", r.local.c_str(),
                  static_cast<unsigned long long>(r.intervals),
                  static_cast<unsigned long long>(r.active_intervals), r.rx_bytes_per_s,
                  r.tx_bytes_per_s, r.max_bytes_per_s);
    return 0;
  }
  std::printf("tag %s, %s of 5-minute rates per local address, %s .. %s (local time)\n",
              tag.c_str(), label,
              format_local(bin_start(BinLevel::FiveMinutes, query.since), "%Y-%m-%d %H:%M").c_str(),
              format_local(query.until, "%Y-%m-%d %H:%M").c_str());
  std::printf("%-26s %9s %14s %14s %14s\n", "LOCAL", "ACTIVE", (std::string("RX ") + label).c_str(),
              (std::string("TX ") + label).c_str(), (std::string("MAX ") + label).c_str());
  for (const PercentileRow& r : rows.value()) {
    std::string active = std::to_string(r.active_intervals) + "/" + std::to_string(r.intervals);
    std::printf("%-26s %9s %14s %14s %14s\n", r.local.c_str(), active.c_str(),
                bits_text(r.rx_bytes_per_s).c_str(), bits_text(r.tx_bytes_per_s).c_str(),
                bits_text(r.max_bytes_per_s).c_str());
  }
  if (rows->empty()) std::printf("(no traffic in this range)\n");
  return 0;
}

}  // namespace

long long parse_local_time(const std::string& text) {
  struct tm t {};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char sep = ' ';
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &year, &month, &day, &sep, &hour,
                      &minute, &second);
  bool shape = n == 3 || ((n == 6 || n == 7) && (sep == ' ' || sep == 'T'));
  if (!shape || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60)
    return -1;
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  t.tm_isdst = -1;
  return static_cast<long long>(std::mktime(&t));
}

int report_command(const std::vector<std::string>& args, const std::string& state_dir) {
  std::string tag, by, period, since_text, until_text, month, last, format, percentile_text;
  size_t top = 0;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& arg = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string top_text;
    bool ok = true;
    if (arg == "--tag")
      ok = value(tag);
    else if (arg == "--by")
      ok = value(by);
    else if (arg == "--period")
      ok = value(period);
    else if (arg == "--since")
      ok = value(since_text);
    else if (arg == "--until")
      ok = value(until_text);
    else if (arg == "--month")
      ok = value(month);
    else if (arg == "--last")
      ok = value(last);
    else if (arg == "--format")
      ok = value(format);
    else if (arg == "--percentile")
      ok = value(percentile_text);
    else if (arg == "--top") {
      ok = value(top_text);
      char* end = nullptr;
      long long n = ok ? std::strtoll(top_text.c_str(), &end, 10) : 0;
      if (!ok || n <= 0 || *end)
        return fail(2, "--top: '" + top_text + "' must be a positive number");
      top = static_cast<size_t>(n);
    } else
      return fail(2, "report: unknown option '" + arg + "'");
    if (!ok) return fail(2, "report: option '" + arg + "' needs a value");
  }
  // --percentile: 5-minute rates per local address (see history_report.hpp).
  double percentile = 0;
  if (!percentile_text.empty()) {
    char* end = nullptr;
    percentile = std::strtod(percentile_text.c_str(), &end);
    if (*end || percentile <= 0 || percentile >= 100)
      return fail(2, "--percentile: '" + percentile_text + "' must be a number in (0, 100)");
    if (!by.empty() && by != "local") return fail(2, "--percentile works --by local only");
    if (!period.empty() && period != "5min")
      return fail(2, "--percentile is computed from 5-minute bins (leave --period out)");
    by = "local";
    period = "5min";
  }
  if (by.empty()) by = "total";
  if (period.empty()) period = "day";
  ReportQuery query;
  query.top = top;
  if (!parse_level(period, query.level))
    return fail(2, "--period: '" + period + "' must be 5min, hour, day or month");
  if (by.rfind("prefix/", 0) == 0) {
    // Remotes grouped by prefix: prefix/24 (IPv4 /24, IPv6 /120), or an
    // explicit IPv6 length above 32 (prefix/48: IPv4 whole, IPv6 /48).
    char* end = nullptr;
    long bits = std::strtol(by.c_str() + 7, &end, 10);
    if (*end || bits < 1 || bits > 128)
      return fail(2, "--by: '" + by + "' must be prefix/N with N in 1..128");
    query.by = GroupBy::Remote;
    query.prefix_bits = static_cast<int>(bits);
  } else if (!parse_group_by(by, query.by)) {
    return fail(2, "--by: '" + by + "' must be total, local, remote, protocol, flow or prefix/N");
  }
  if (query.level == BinLevel::FiveMinutes && query.by != GroupBy::Total &&
      query.by != GroupBy::Local)
    return fail(2,
                "5-minute history holds totals per tag and per local address only (use --by "
                "total or local, or an hourly period)");
  if (format.empty()) format = "table";
  if (format != "table" && format != "json" && format != "csv")
    return fail(2, "--format: '" + format + "' must be table, json or csv");

  // The range: explicit, a calendar month, or the last N (default by period).
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int ranges = (!since_text.empty() || !until_text.empty()) + !month.empty() + !last.empty();
  if (ranges > 1) return fail(2, "choose one of --since/--until, --month and --last");
  if (!month.empty()) {
    long long start = parse_local_time(month + "-01");
    if (start < 0 || month.size() != 7) return fail(2, "--month: '" + month + "' must be YYYY-MM");
    query.since = start;
    query.until = next_bin(BinLevel::Month, start);
  } else if (!since_text.empty() || !until_text.empty()) {
    long long since = since_text.empty() ? 0 : parse_local_time(since_text);
    long long until = until_text.empty() ? now + 1 : parse_local_time(until_text);
    if (since < 0)
      return fail(2, "--since: '" + since_text + "' must be YYYY-MM-DD[ HH:MM[:SS]] (local time)");
    if (until < 0)
      return fail(2, "--until: '" + until_text + "' must be YYYY-MM-DD[ HH:MM[:SS]] (local time)");
    query.since = since;
    query.until = until;
  } else {
    if (last.empty())
      last = percentile > 0                   ? "24h"
             : query.level == BinLevel::Month ? "366d"
             : query.level == BinLevel::Day   ? "31d"
             : query.level == BinLevel::Hour  ? "24h"
                                              : "2h";
    long long span = parse_duration(last);
    if (span < 0) return fail(2, "--last: '" + last + "' must be N followed by m, h or d");
    query.since = now - span;
    query.until = now + 1;
  }
  if (query.since >= query.until)
    return fail(2, "the range is empty: " + format_local(query.since, "%Y-%m-%d %H:%M:%S") +
                       " is not before " + format_local(query.until, "%Y-%m-%d %H:%M:%S"));

  OpenedLedger opened = open_tag_ledger(state_dir, tag);
  if (!opened.reader) return fail(opened.exit_code, opened.error);
  tag = opened.tag;
  LedgerReader& reader = *opened.reader;
  if (percentile > 0) return print_percentile(reader, tag, query, percentile, format);
  auto rows = run_report(reader.database(), query);
  if (!rows) return fail(1, rows.error().message());

  bool local = query.by == GroupBy::Local || query.by == GroupBy::Flow;
  bool remote = query.by == GroupBy::Remote || query.by == GroupBy::Flow;
  bool protocol = query.by == GroupBy::Protocol || query.by == GroupBy::Flow;
  if (format == "json") {
    json::array list;
    for (const ReportRow& r : rows.value()) {
      json::object o;
      o["start"] = format_local(r.start, "%Y-%m-%d %H:%M:%S");
      o["start_utc"] = format_time_utc(r.start);
      if (local) o["local"] = r.local;
      if (remote) o["remote"] = r.remote;
      if (protocol) o["protocol"] = protocol_text(r.protocol);
      o["rx_bytes"] = r.counters.rx_bytes;
      o["tx_bytes"] = r.counters.tx_bytes;
      o["rx_packets"] = r.counters.rx_packets;
      o["tx_packets"] = r.counters.tx_packets;
      list.push_back(std::move(o));
    }
    json::object out{{"tag", tag},
                     {"by", group_by_name(query.by)},
                     {"period", level_name(query.level)},
                     {"since_utc", format_time_utc(bin_start(query.level, query.since))},
                     {"until_utc", format_time_utc(query.until)},
                     {"rows", std::move(list)}};
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  if (format == "csv") {
    std::printf("start,start_utc,local,remote,protocol,rx_bytes,tx_bytes,rx_packets,tx_packets\n");
    for (const ReportRow& r : rows.value())
      std::printf("%s,%s,%s,%s,%s,%llu,%llu,%llu,%llu\n",
                  format_local(r.start, "%Y-%m-%d %H:%M:%S").c_str(),
                  format_time_utc(r.start).c_str(), r.local.c_str(), r.remote.c_str(),
                  protocol_text(r.protocol).c_str(),
                  static_cast<unsigned long long>(r.counters.rx_bytes),
                  static_cast<unsigned long long>(r.counters.tx_bytes),
                  static_cast<unsigned long long>(r.counters.rx_packets),
                  static_cast<unsigned long long>(r.counters.tx_packets));
    return 0;
  }
  std::printf("tag %s, %s by %s, %s .. %s (local time)\n", tag.c_str(), level_name(query.level),
              group_by_name(query.by),
              format_local(bin_start(query.level, query.since), "%Y-%m-%d %H:%M").c_str(),
              format_local(query.until, "%Y-%m-%d %H:%M").c_str());
  // Only the columns the grouping has.
  auto print_row = [&](const std::string& when, const std::string& l, const std::string& r,
                       const std::string& p, const std::string& rx, const std::string& tx,
                       const std::string& rxp, const std::string& txp) {
    std::string line;
    char cell[64];
    std::snprintf(cell, sizeof cell, "%-17s", when.c_str());
    line += cell;
    if (local) std::snprintf(cell, sizeof cell, " %-26s", l.c_str()), line += cell;
    if (remote) std::snprintf(cell, sizeof cell, " %-26s", r.c_str()), line += cell;
    if (protocol) std::snprintf(cell, sizeof cell, " %-7s", p.c_str()), line += cell;
    std::snprintf(cell, sizeof cell, " %12s %12s %10s %10s", rx.c_str(), tx.c_str(), rxp.c_str(),
                  txp.c_str());
    line += cell;
    std::printf("%s\n", line.c_str());
  };
  print_row("PERIOD", "LOCAL", "REMOTE", "PROTO", "RX", "TX", "RX PKTS", "TX PKTS");
  netacct_counters total{};
  for (const ReportRow& r : rows.value()) {
    total += r.counters;
    print_row(format_local(r.start, period_format(query.level)), r.local, r.remote,
              protocol_text(r.protocol), human_bytes(r.counters.rx_bytes),
              human_bytes(r.counters.tx_bytes), std::to_string(r.counters.rx_packets),
              std::to_string(r.counters.tx_packets));
  }
  if (rows->empty())
    std::printf("(no traffic in this range)\n");
  else if (top == 0)
    print_row("TOTAL", "", "", "", human_bytes(total.rx_bytes), human_bytes(total.tx_bytes),
              std::to_string(total.rx_packets), std::to_string(total.tx_packets));
  return 0;
}

int tags_command(const std::vector<std::string>& args, const std::string& state_dir) {
  bool as_json = false;
  for (const std::string& arg : args) {
    if (arg == "--json")
      as_json = true;
    else
      return fail(2, "tags: unknown option '" + arg + "'");
  }
  json::array list;
  if (!as_json)
    std::printf("%-20s %-28s %12s %12s %14s  %s\n", "TAG", "INTERFACE", "RX", "TX", "PACKETS",
                "LAST HARVEST");
  for (const std::string& tag : ledger_tags(state_dir)) {
    auto reader = LedgerReader::open(ledger_path(state_dir, tag));
    if (!reader) return fail(1, reader.error().message());
    auto snapshot = (*reader)->snapshot();
    if (!snapshot) return fail(1, snapshot.error().message());
    netacct_counters t = snapshot->lifetime.flow_total();
    const LedgerInfo& info = snapshot->info;
    std::string where = info.interface.empty()
                            ? "?"
                            : info.interface + "@" + (info.netns.empty() ? "host" : info.netns);
    std::string last = info.last_harvest > 0 ? format_time(info.last_harvest) : "never";
    if (as_json) {
      list.push_back(
          json::object{{"tag", tag},
                       {"interface", info.interface},
                       {"namespace", info.netns},
                       {"rx_bytes", t.rx_bytes},
                       {"tx_bytes", t.tx_bytes},
                       {"rx_packets", t.rx_packets},
                       {"tx_packets", t.tx_packets},
                       {"flows", snapshot->lifetime.flows},
                       {"last_harvest_utc", info.last_harvest > 0
                                                ? json::value(format_time_utc(info.last_harvest))
                                                : json::value(nullptr)}});
    } else {
      std::printf("%-20s %-28s %12s %12s %14llu  %s\n", tag.c_str(), where.c_str(),
                  human_bytes(t.rx_bytes).c_str(), human_bytes(t.tx_bytes).c_str(),
                  static_cast<unsigned long long>(t.rx_packets + t.tx_packets), last.c_str());
    }
  }
  if (as_json)
    std::printf("%s\n", json::serialize(json::object{{"tags", std::move(list)}}).c_str());
  return 0;
}

}  // namespace netacct::report
