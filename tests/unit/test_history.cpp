// SPDX-License-Identifier: GPL-2.0-only
// History bins with an injected clock: traffic in several hours, days and
// months; every report equals the ground truth of its period, the levels
// sum to each other and to the lifetime totals, and pruning removes only
// what retention says.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>

#include <map>
#include <string>

#include "daemon/common/quota_spec.hpp"
#include "daemon/ledger/history.hpp"
#include "daemon/ledger/history_report.hpp"
#include "daemon/ledger/ledger.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "daemon/ledger/sqlite_store.hpp"
#include "ledger_fakes.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

// Bins follow local time; the tests pin it to UTC (and restore it).
class TimeZone {
 public:
  explicit TimeZone(const char* zone) {
    if (const char* old = ::getenv("TZ")) saved_ = old, had_ = true;
    ::setenv("TZ", zone, 1);
    ::tzset();
  }
  ~TimeZone() {
    if (had_)
      ::setenv("TZ", saved_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

 private:
  std::string saved_;
  bool had_ = false;
};

int64_t utc(int year, int month, int day, int hour, int minute) {
  struct tm t {};
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  return static_cast<int64_t>(::timegm(&t));
}

uint64_t rx_of(const std::vector<ReportRow>& rows, int64_t start, const std::string& remote) {
  uint64_t sum = 0;
  for (const ReportRow& row : rows)
    if (row.start == start && (remote.empty() || row.remote == remote))
      sum += row.counters.rx_bytes;
  return sum;
}

}  // namespace

TEST_CASE("history: bins start at local-time boundaries, DST included") {
  TimeZone zone("UTC");
  int64_t t = utc(2026, 11, 30, 22, 53) + 17;
  CHECK(bin_start(BinLevel::FiveMinutes, t) == utc(2026, 11, 30, 22, 50));
  CHECK(bin_start(BinLevel::Hour, t) == utc(2026, 11, 30, 22, 0));
  CHECK(bin_start(BinLevel::Day, t) == utc(2026, 11, 30, 0, 0));
  CHECK(bin_start(BinLevel::Month, t) == utc(2026, 11, 1, 0, 0));
  CHECK(next_bin(BinLevel::Month, utc(2026, 12, 1, 0, 0)) == utc(2027, 1, 1, 0, 0));
  TimeZone berlin("Europe/Berlin");
  // 2026-03-29 has 23 hours in Berlin (clocks go forward at 02:00).
  int64_t day = bin_start(BinLevel::Day, utc(2026, 3, 29, 12, 0));
  CHECK(next_bin(BinLevel::Day, day) - day == 23 * 3600);
}

TEST_CASE("history: reports per period equal the truth; levels sum; pruning follows retention") {
  TimeZone zone("UTC");
  TempDir dir;
  auto store = SqliteStore::open({dir.file("h.db"), "h"});
  REQUIRE(store.ok());
  FakeCounterSource source;
  int64_t now = 0;
  Ledger ledger(source, *store.value(), [&] { return now; });
  const netacct_flow_key a = flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP);
  const netacct_flow_key b = flow_key("10.0.0.1", "10.0.0.3", IPPROTO_TCP);
  const netacct_flow_key c = flow_key("fd00::1", "fd00::2", IPPROTO_UDP);
  auto harvest_at = [&](int64_t when) {
    now = when;
    REQUIRE(ledger.harvest().ok());
  };
  // Nov 30 22:50, 23:10 | Dec 1 00:05, 01:30 (a new hour, day and month).
  source.add(a, counters(100, 1, 10, 1));
  harvest_at(utc(2026, 11, 30, 22, 50));
  source.add(a, counters(200, 2, 0, 0));
  source.add(b, counters(1000, 1, 0, 0));
  harvest_at(utc(2026, 11, 30, 23, 10));
  source.add(a, counters(400, 4, 0, 0));
  source.add(c, counters(0, 0, 3000, 3));
  harvest_at(utc(2026, 12, 1, 0, 5));
  source.add(b, counters(800, 8, 0, 0));
  harvest_at(utc(2026, 12, 1, 1, 30));

  auto reader = LedgerReader::open(dir.file("h.db"));
  REQUIRE(reader.ok());
  sql::Database& db = (*reader)->database();
  auto report = [&](BinLevel level, GroupBy by, int64_t since, int64_t until, size_t top = 0) {
    auto rows = run_report(db, {level, since, until, by, top});
    REQUIRE_MESSAGE(rows.ok(), (rows.ok() ? std::string() : rows.error().message()));
    return rows.value();
  };
  const int64_t all_from = utc(2026, 1, 1, 0, 0), all_to = utc(2027, 1, 1, 0, 0);

  auto hours = report(BinLevel::Hour, GroupBy::Flow, all_from, all_to);
  CHECK(rx_of(hours, utc(2026, 11, 30, 22, 0), "10.0.0.2") == 100);
  CHECK(rx_of(hours, utc(2026, 11, 30, 23, 0), "10.0.0.2") == 200);
  CHECK(rx_of(hours, utc(2026, 11, 30, 23, 0), "10.0.0.3") == 1000);
  CHECK(rx_of(hours, utc(2026, 12, 1, 0, 0), "10.0.0.2") == 400);
  CHECK(rx_of(hours, utc(2026, 12, 1, 1, 0), "10.0.0.3") == 800);
  CHECK(hours.size() == 6);  // sparse: only bins with traffic

  auto days = report(BinLevel::Day, GroupBy::Remote, all_from, all_to);
  CHECK(rx_of(days, utc(2026, 11, 30, 0, 0), "10.0.0.2") == 300);
  CHECK(rx_of(days, utc(2026, 11, 30, 0, 0), "10.0.0.3") == 1000);
  CHECK(rx_of(days, utc(2026, 12, 1, 0, 0), "10.0.0.2") == 400);
  CHECK(rx_of(days, utc(2026, 12, 1, 0, 0), "10.0.0.3") == 800);

  auto months = report(BinLevel::Month, GroupBy::Local, all_from, all_to);
  REQUIRE(months.size() == 3);  // (Nov, 10.0.0.1), (Dec, 10.0.0.1), (Dec, fd00::1)
  CHECK(rx_of(months, utc(2026, 11, 1, 0, 0), "") == 1300);
  CHECK(rx_of(months, utc(2026, 12, 1, 0, 0), "") == 1200);

  // A range selects whole bins: December only, by protocol, the top one.
  auto december = report(BinLevel::Month, GroupBy::Protocol, utc(2026, 12, 1, 0, 0), all_to, 1);
  REQUIRE(december.size() == 1);
  CHECK(december[0].protocol == IPPROTO_UDP);  // 400 + 3000 bytes beat TCP's 800
  CHECK(december[0].counters.rx_bytes + december[0].counters.tx_bytes == 3400);

  // Each level sums to the next and to the lifetime totals.
  auto total_of = [&](BinLevel level) {
    netacct_counters sum{};
    for (const ReportRow& row : report(level, GroupBy::Total, all_from, all_to))
      sum += row.counters;
    return sum;
  };
  netacct_counters lifetime = (*reader)->snapshot()->lifetime.flow_total();
  CHECK(total_of(BinLevel::Hour) == lifetime);
  CHECK(total_of(BinLevel::Day) == lifetime);
  CHECK(total_of(BinLevel::Month) == lifetime);
  CHECK(total_of(BinLevel::FiveMinutes) == lifetime);
  CHECK_FALSE(run_report(db, {BinLevel::FiveMinutes, all_from, all_to, GroupBy::Remote, 0}).ok());
  netacct_counters five_by_local{};
  for (const ReportRow& row : report(BinLevel::FiveMinutes, GroupBy::Local, all_from, all_to))
    five_by_local += row.counters;
  CHECK(five_by_local == lifetime);

  // Roll-ups: completed hours into days, completed days into months, in
  // bounded steps (whole bins); every report stays the same at every step.
  auto days_before = report(BinLevel::Day, GroupBy::Flow, all_from, all_to);
  auto months_before = report(BinLevel::Month, GroupBy::Flow, all_from, all_to);
  auto same = [](const std::vector<ReportRow>& x, const std::vector<ReportRow>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); i++)
      if (x[i].start != y[i].start || x[i].local != y[i].local || x[i].remote != y[i].remote ||
          x[i].protocol != y[i].protocol || !(x[i].counters == y[i].counters))
        return false;
    return true;
  };
  int steps = 0;
  while (true) {
    auto moved = store.value()->roll_up(utc(2026, 12, 2, 0, 10), 1);
    REQUIRE(moved.ok());
    if (moved.value() == 0) break;
    steps++;
    CHECK(same(report(BinLevel::Day, GroupBy::Flow, all_from, all_to), days_before));
    CHECK(same(report(BinLevel::Month, GroupBy::Flow, all_from, all_to), months_before));
    REQUIRE(steps < 20);
  }
  CHECK(steps == 4 + 2);  // four hours with traffic, then two days (Nov 30, Dec 1)
  CHECK(total_of(BinLevel::Day) == lifetime);
  CHECK(total_of(BinLevel::Month) == lifetime);

  // Retention: hours for 2 h at Dec 1 02:10: the bins of Nov 30 go, nothing
  // else; a step of at most 1 row removes exactly one.
  Retention retention;
  retention.hour = 2 * 3600;
  retention.five_minutes = 0;
  auto one = store.value()->prune_history(utc(2026, 12, 1, 2, 10), retention, 1);
  REQUIRE(one.ok());
  CHECK(one.value() == 1);
  auto rest = store.value()->prune_history(utc(2026, 12, 1, 2, 10), retention, 1000);
  REQUIRE(rest.ok());
  CHECK(rest.value() == 2);
  hours = report(BinLevel::Hour, GroupBy::Flow, all_from, all_to);
  CHECK(hours.size() == 3);
  for (const ReportRow& row : hours) CHECK(row.start >= utc(2026, 12, 1, 0, 0));
  CHECK(total_of(BinLevel::Day) == lifetime);  // other levels untouched
  CHECK(total_of(BinLevel::Month) == lifetime);
}

TEST_CASE("history: the 95th percentile of 5-minute rates per local address") {
  TimeZone zone("UTC");
  TempDir dir;
  auto store = SqliteStore::open({dir.file("p.db"), "p"});
  REQUIRE(store.ok());
  FakeCounterSource source;
  int64_t now = 0;
  Ledger ledger(source, *store.value(), [&] { return now; });
  const int64_t begin = utc(2026, 12, 1, 10, 0);
  // Ten busy intervals out of twenty: k bytes/s received in interval k
  // (k = 1..10), in two harvests each; 10.0.0.9 sends 50 B/s once.
  for (int k = 1; k <= 10; k++) {
    source.add(flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP), counters(150 * k, 1, 0, 0));
    now = begin + (k - 1) * 300 + 10;
    REQUIRE(ledger.harvest().ok());
    source.add(flow_key("10.0.0.1", "10.0.0.3", IPPROTO_TCP), counters(150 * k, 1, 30 * k, 1));
    now += 200;
    REQUIRE(ledger.harvest().ok());
  }
  source.add(flow_key("10.0.0.9", "10.0.0.2", IPPROTO_UDP), counters(0, 0, 50 * 300, 10));
  now = begin + 15 * 300;
  REQUIRE(ledger.harvest().ok());

  auto reader = LedgerReader::open(dir.file("p.db"));
  REQUIRE(reader.ok());
  const int64_t end = begin + 20 * 300;
  auto p95 = percentile_by_local((*reader)->database(), begin, end, 95);
  REQUIRE(p95.ok());
  REQUIRE(p95->size() == 2);
  const PercentileRow& a = p95->at(0);
  CHECK(a.local == "10.0.0.1");
  CHECK(a.intervals == 20);
  CHECK(a.active_intervals == 10);
  CHECK(a.rx_bytes_per_s == 9.0);  // one of 20 samples dropped: the 10 B/s one
  CHECK(a.tx_bytes_per_s == doctest::Approx(0.9));
  CHECK(a.max_bytes_per_s == 9.0);
  CHECK(p95->at(1).local == "10.0.0.9");
  CHECK(p95->at(1).tx_bytes_per_s == 0.0);  // a single burst is what p95 forgives
  auto p50 = percentile_by_local((*reader)->database(), begin, end, 50);
  REQUIRE(p50.ok());
  CHECK(p50->at(0).rx_bytes_per_s == 0.0);  // half the intervals were idle
  auto p40 = percentile_by_local((*reader)->database(), begin, end, 40);
  REQUIRE(p40.ok());
  CHECK(p40->at(0).rx_bytes_per_s == 0.0);
  auto p75 = percentile_by_local((*reader)->database(), begin, end, 75);
  REQUIRE(p75.ok());
  CHECK(p75->at(0).rx_bytes_per_s == 5.0);  // 5 of 20 dropped (10 .. 6 B/s): 5 B/s is left
  CHECK_FALSE(percentile_by_local((*reader)->database(), begin, end, 100).ok());
}

TEST_CASE("quota specs: parsed with units, bad ones named; prefixes match addresses") {
  auto month = parse_quota("10.0.0.0/24:month:50G");
  REQUIRE(month.ok());
  CHECK(month->bytes == 50'000'000'000ULL);
  CHECK(month->period == QuotaPeriod::Month);
  auto day = parse_quota("fd00::1:day:2Gi");
  REQUIRE(day.ok());
  CHECK(day->local == "fd00::1");
  CHECK(day->bytes == 2ULL * 1024 * 1024 * 1024);
  for (const char* bad : {"10.0.0.1:week:1G", "10.0.0.1:day:1X", "nonsense:day:1G",
                          "10.0.0.0/33:day:1G", "10.0.0.1:1G"}) {
    auto refused = parse_quota(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message().find(std::string("quota '") + bad + "'") != std::string::npos);
  }
  CHECK(address_in("10.0.0.77", "10.0.0.0/24"));
  CHECK_FALSE(address_in("10.0.1.77", "10.0.0.0/24"));
  CHECK(address_in("10.0.0.1", "10.0.0.1"));
  CHECK(address_in("fd00::5", "fd00::/64"));
  CHECK_FALSE(address_in("10.0.0.1", "fd00::/8"));
}

TEST_CASE("history: --by prefix/N groups remotes by prefix, exactly") {
  CHECK(masked_remote("203.0.113.77", 24) == "203.0.113.0/24");
  CHECK(masked_remote("fd00:1:2:3::9", 48) == "fd00:1:2::/48");
  CHECK(masked_remote("fd00::9", 24) == "fd00::/120");
  CHECK(masked_remote("*", 24) == "*");
  TimeZone zone("UTC");
  TempDir dir;
  auto store = SqliteStore::open({dir.file("x.db"), "x"});
  REQUIRE(store.ok());
  FakeCounterSource source;
  int64_t now = utc(2026, 12, 1, 10, 0);
  Ledger ledger(source, *store.value(), [&] { return now; });
  source.add(flow_key("10.0.0.1", "203.0.113.7", IPPROTO_UDP), counters(100, 1, 0, 0));
  source.add(flow_key("10.0.0.1", "203.0.113.9", IPPROTO_TCP), counters(200, 1, 0, 0));
  source.add(flow_key("10.0.0.1", "198.51.100.1", IPPROTO_UDP), counters(400, 1, 0, 0));
  REQUIRE(ledger.harvest().ok());
  auto reader = LedgerReader::open(dir.file("x.db"));
  REQUIRE(reader.ok());
  ReportQuery query{
      BinLevel::Day, utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0), GroupBy::Remote, 0, 24};
  auto rows = run_report((*reader)->database(), query);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK(rows->at(0).remote == "198.51.100.0/24");
  CHECK(rows->at(0).counters.rx_bytes == 400);
  CHECK(rows->at(1).remote == "203.0.113.0/24");
  CHECK(rows->at(1).counters.rx_bytes == 300);
}
