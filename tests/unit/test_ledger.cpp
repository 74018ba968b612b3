// SPDX-License-Identifier: GPL-2.0-only
// The exactly-once ledger protocol, without root: a fake counter source
// (the pinned maps) against every store (SQLite, and an in-memory model),
// with a simulated crash at every harvest step and failing commits.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <functional>
#include <memory>
#include <vector>

#include "daemon/ledger/ledger.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "daemon/ledger/sqlite_store.hpp"
#include "ledger_fakes.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr HarvestStep kAllSteps[] = {HarvestStep::AfterMeta,   HarvestStep::AfterSwap,
                                     HarvestStep::MidRead,     HarvestStep::BeforeCommit,
                                     HarvestStep::AfterCommit, HarvestStep::MidClear,
                                     HarvestStep::BeforeIdle};

using FlowMap = std::unordered_map<netacct_flow_key, netacct_counters, FlowKeyHash>;

// A store that can be "restarted" as a process restart would: for SQLite
// the database is closed and opened again from its file.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual LedgerStore& store() = 0;
  virtual void restart() = 0;
  virtual FlowMap flows() = 0;
  virtual BucketCounters buckets() = 0;
  virtual const char* name() const = 0;
};

class SqliteUnderTest final : public StoreUnderTest {
 public:
  SqliteUnderTest() { restart(); }
  LedgerStore& store() override { return *store_; }
  void restart() override {
    store_.reset();
    auto opened = SqliteStore::open({dir_.file("t.db"), "t"});
    REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    store_ = std::move(opened.value());
  }
  FlowMap flows() override {
    FlowMap out;
    auto rows = store_->queries().for_each_flow(Scope::Lifetime, [&](const FlowRow& row) {
      out[flow_key(std::string(row.local), std::string(row.remote), row.protocol)] += row.counters;
      return true;
    });
    REQUIRE(rows.ok());
    return out;
  }
  BucketCounters buckets() override {
    auto totals = store_->queries().totals(Scope::Lifetime);
    REQUIRE(totals.ok());
    return totals->buckets;
  }
  const char* name() const override { return "sqlite"; }
  SqliteStore& sqlite() { return *store_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

class MemoryUnderTest final : public StoreUnderTest {
 public:
  LedgerStore& store() override { return store_; }
  void restart() override {}  // the model has no process to lose
  FlowMap flows() override { return store_.flows; }
  BucketCounters buckets() override { return store_.buckets; }
  const char* name() const override { return "memory"; }

 private:
  MemoryStore store_;
};

std::vector<std::function<std::unique_ptr<StoreUnderTest>()>> every_store() {
  return {[] { return std::unique_ptr<StoreUnderTest>(new SqliteUnderTest); },
          [] { return std::unique_ptr<StoreUnderTest>(new MemoryUnderTest); }};
}

// Traffic of one interval: a few flows, v4 and v6, and a bucket.
void traffic(FakeCounterSource& source, int round) {
  uint64_t r = static_cast<uint64_t>(round);
  source.add(flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP), counters(100 * r, r, 50, 1));
  source.add(flow_key("10.0.0.1", "10.0.0." + std::to_string(10 + round), IPPROTO_TCP),
             counters(1500, 1, 60, 1));
  source.add(flow_key("fd00::1", "fd00::2", IPPROTO_TCP), counters(0, 0, 1280 * r, r));
  source.add_bucket(NETACCT_BUCKET_NON_IP, counters(60, 1, 0, 0));
}

void require_exact(StoreUnderTest& under, const FakeCounterSource& source) {
  FlowMap stored = under.flows();
  CHECK(stored.size() == source.truth.size());
  for (const auto& [key, truth] : source.truth) {
    auto it = stored.find(key);
    REQUIRE_MESSAGE(it != stored.end(), under.name());
    CHECK_MESSAGE(it->second == truth, under.name());
  }
  BucketCounters buckets = under.buckets();
  for (size_t i = 0; i < buckets.size(); i++) CHECK(buckets[i] == source.bucket_truth[i]);
}

int64_t fixed_clock() {
  return 1750000000;
}

}  // namespace

TEST_CASE("ledger: every harvest lands exactly once in every store") {
  for (auto& make : every_store()) {
    auto under = make();
    FakeCounterSource source;
    Ledger ledger(source, under->store(), fixed_clock);
    for (int round = 1; round <= 5; round++) {
      traffic(source, round);
      auto harvest = ledger.harvest();
      REQUIRE(harvest.ok());
      CHECK(harvest->generation == static_cast<uint64_t>(round));
      CHECK(harvest->delta.flows.size() == 3);
    }
    auto idle = ledger.harvest();  // nothing new
    REQUIRE(idle.ok());
    CHECK(idle->delta.empty());
    require_exact(*under, source);
  }
}

TEST_CASE("ledger: a crash at every step of a harvest loses and duplicates nothing") {
  for (auto& make : every_store()) {
    for (HarvestStep step : kAllSteps) {
      CAPTURE(step_name(step));
      auto under = make();
      CAPTURE(under->name());
      FakeCounterSource source("boot-a/1", 1);  // one flow per batch: mid-* land inside
      {
        Ledger ledger(source, under->store(), fixed_clock);
        traffic(source, 1);
        REQUIRE(ledger.harvest().ok());
      }
      traffic(source, 2);
      FailPoints points;
      points.arm(step, 1, [](HarvestStep) { throw SimulatedCrash(); });
      {
        Ledger doomed(source, under->store(), fixed_clock, std::move(points));
        CHECK_THROWS_AS((void)doomed.harvest(), SimulatedCrash);
      }
      // Counting goes on while no daemon runs; then a new process starts.
      traffic(source, 3);
      under->restart();
      Ledger restarted(source, under->store(), fixed_clock);
      auto recovered = restarted.recover();
      REQUIRE(recovered.ok());
      // Every failpoint comes after the state went DRAINING.
      CHECK(recovered->recovered);
      traffic(source, 4);
      REQUIRE(restarted.harvest().ok());
      REQUIRE(restarted.harvest().ok());
      require_exact(*under, source);
    }
  }
}

TEST_CASE("ledger: a failed commit keeps the delta in the source and the retry is exact") {
  for (auto& make : every_store()) {
    auto under = make();
    FailingStore failing(under->store());
    FakeCounterSource source;
    Ledger ledger(source, failing, fixed_clock);
    traffic(source, 1);
    REQUIRE(ledger.harvest().ok());
    traffic(source, 2);
    failing.failures = 3;
    for (int i = 0; i < 3; i++) {
      auto failed = ledger.harvest();
      REQUIRE_FALSE(failed.ok());
      CHECK(failed.error().err == ENOSPC);
      traffic(source, 3 + i);  // still counting meanwhile
    }
    auto retried = ledger.harvest();
    REQUIRE(retried.ok());
    CHECK(retried->recovered);
    REQUIRE(ledger.harvest().ok());
    require_exact(*under, source);
  }
}

TEST_CASE("ledger: recovery asks the store whether the generation of this instance is in") {
  MemoryStore store;
  FakeCounterSource source("boot-a/1");
  traffic(source, 1);
  // A harvest swapped and marked DRAINING g=1, then died.
  REQUIRE(source.set_state(1, NETACCT_PHASE_DRAINING).ok());
  REQUIRE(source.swap(nullptr).ok());
  SUBCASE("not committed: committed now") {
    Ledger ledger(source, store, fixed_clock);
    auto recovered = ledger.recover();
    REQUIRE(recovered.ok());
    CHECK(recovered->delta.flows.size() == 3);
    CHECK(store.flows.size() == 3);
  }
  SUBCASE("already committed: only cleared") {
    Delta delta = source.read_idle({}).value();
    REQUIRE(store.commit({"boot-a/1", 1}, delta, 0).ok());
    Ledger ledger(source, store, fixed_clock);
    auto recovered = ledger.recover();
    REQUIRE(recovered.ok());
    CHECK(recovered->delta.empty());
    CHECK(store.flows.size() == 3);
    CHECK(store.flows.begin()->second == source.truth[store.flows.begin()->first]);
  }
  SUBCASE("the store's generation belongs to other maps (a reboot): committed") {
    REQUIRE(store.commit({"boot-old/9", 500}, Delta{}, 0).ok());
    Ledger ledger(source, store, fixed_clock);
    auto recovered = ledger.recover();
    REQUIRE(recovered.ok());
    CHECK(recovered->delta.flows.size() == 3);
    CHECK(store.binding()->instance == "boot-a/1");
    CHECK(store.binding()->generation == 1);
  }
  auto state = source.state().value();
  CHECK(state.phase == NETACCT_PHASE_IDLE);
}

TEST_CASE("ledger: new maps after a reboot continue the totals") {
  SqliteUnderTest under;
  FakeCounterSource source("boot-a/1");
  {
    Ledger ledger(source, under.store(), fixed_clock);
    traffic(source, 1);
    for (int i = 0; i < 3; i++) REQUIRE(ledger.harvest().ok());
  }
  auto truth = source.truth;
  source.reboot("boot-b/2");
  under.restart();
  Ledger ledger(source, under.store(), fixed_clock);
  traffic(source, 2);
  auto harvest = ledger.harvest();
  REQUIRE(harvest.ok());
  CHECK(harvest->generation == 1);  // a new line of generations
  require_exact(under, source);
}

TEST_CASE("ledger store: a database of another tag, or of a newer schema, is refused") {
  TempDir dir;
  REQUIRE(SqliteStore::open({dir.file("a.db"), "a"}).ok());
  auto other = SqliteStore::open({dir.file("a.db"), "b"});
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().message().find("belongs to tag 'a'") != std::string::npos);
  REQUIRE(std::system(("sqlite3 " + dir.file("a.db") + " 'PRAGMA user_version = 99'").c_str()) ==
          0);
  auto newer = SqliteStore::open({dir.file("a.db"), "a"});
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().message().find("schema version 99 is newer") != std::string::npos);
  std::system(("mkdir " + dir.file("d.db")).c_str());
  auto directory = SqliteStore::open({dir.file("d.db"), "d"});
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().message().find("is not a regular file") != std::string::npos);
}

TEST_CASE("ledger reader: a read-only snapshot sees the committed totals") {
  SqliteUnderTest under;
  FakeCounterSource source;
  Ledger ledger(source, under.store(), fixed_clock);
  traffic(source, 1);
  REQUIRE(ledger.harvest().ok());
  auto reader = LedgerReader::open(under.dir().file("t.db"));
  REQUIRE(reader.ok());
  auto snapshot = (*reader)->snapshot();
  REQUIRE(snapshot.ok());
  CHECK(snapshot->info.tag == "t");
  CHECK(snapshot->info.generation == 1);
  CHECK(snapshot->info.last_harvest == fixed_clock());
  CHECK(snapshot->lifetime.flows == 3);
  netacct_counters total = snapshot->lifetime.flow_total();
  CHECK(total.rx_bytes == 100 + 1500);
  CHECK(total.tx_bytes == 50 + 60 + 1280);
  CHECK(snapshot->lifetime.buckets[NETACCT_BUCKET_NON_IP].rx_bytes == 60);
  CHECK(snapshot->period.flows == 3);
  auto missing = LedgerReader::open(under.dir().file("none.db"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().err == ENOENT);
}

TEST_CASE("ledger store: a schema 1 ledger is migrated and keeps its totals") {
  TempDir dir;
  FakeCounterSource source;
  {
    auto store = SqliteStore::open({dir.file("m.db"), "m"});
    REQUIRE(store.ok());
    Ledger ledger(source, *store.value(), fixed_clock);
    traffic(source, 1);
    REQUIRE(ledger.harvest().ok());
  }
  // Back to what the first release wrote: no status columns, version 1.
  REQUIRE(std::system(("sqlite3 " + dir.file("m.db") +
                       " 'ALTER TABLE ledger DROP COLUMN last_flows; ALTER TABLE ledger DROP "
                       "COLUMN flow_capacity; ALTER TABLE ledger DROP COLUMN metrics; DROP TABLE "
                       "flow_bins; DROP TABLE tag_bins; DROP TABLE recent; DROP TABLE "
                       "quota_events; ALTER TABLE ledger DROP "
                       "COLUMN last_commit_ms; ALTER TABLE ledger DROP COLUMN recent_interval_ms; "
                       "ALTER TABLE ledger DROP COLUMN rolled_hours_until; ALTER TABLE ledger DROP "
                       "COLUMN rolled_days_until; PRAGMA user_version = 1'")
                          .c_str()) == 0);
  auto store = SqliteStore::open({dir.file("m.db"), "m"});
  REQUIRE(store.ok());
  REQUIRE(store.value()->set_identity("boot", "veth0", "", "tc", 4096).ok());
  REQUIRE(store.value()->set_metrics("127.0.0.1:9470").ok());
  Ledger ledger(source, *store.value(), fixed_clock);
  traffic(source, 2);
  REQUIRE(ledger.harvest().ok());
  auto reader = LedgerReader::open(dir.file("m.db"));
  REQUIRE(reader.ok());
  auto snapshot = (*reader)->snapshot();
  REQUIRE(snapshot.ok());
  CHECK(snapshot->info.flow_capacity == 4096);
  CHECK(snapshot->info.metrics == "127.0.0.1:9470");
  CHECK(snapshot->info.last_flows == 3);  // the flows of the last harvest
  CHECK(snapshot->info.generation == 2);
  netacct_counters total = snapshot->lifetime.flow_total();
  CHECK(total.rx_bytes == (100 + 1500) + (200 + 1500));  // round 1 survived the migration
}
