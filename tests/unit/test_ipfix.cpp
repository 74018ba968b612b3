// SPDX-License-Identifier: GPL-2.0-only
// IPFIX export without the network: the record mapping (direction ->
// source/destination and interfaces, buckets, the window) and the
// exporter's queue, drops and retries against a scripted transport.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "daemon/export/ipfix_exporter.hpp"
#include "daemon/export/ipfix_record.hpp"

using namespace netacct;

namespace {

netacct_flow_key key(const std::string& local, const std::string& remote, uint8_t protocol) {
  netacct_flow_key out{};
  REQUIRE(make_flow_key(local, remote, protocol, out));
  return out;
}

std::array<uint8_t, 16> address(const std::string& text) {
  netacct_flow_key parsed = key(text, text, 0);
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), parsed.local, 16);
  return out;
}

netacct_counters counters(uint64_t rx_bytes, uint64_t rx_packets, uint64_t tx_bytes,
                          uint64_t tx_packets) {
  return {rx_bytes, rx_packets, tx_bytes, tx_packets};
}

// Accepts or refuses whole calls, as scripted; records what it accepted.
struct ScriptedTransport final : IpfixTransport {
  struct Shared {
    std::mutex mutex;
    bool refuse = false;
    std::vector<IpfixRecord> accepted;
    int opened = 0;
  };
  explicit ScriptedTransport(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  Sent send(const IpfixRecord* records, size_t count, int64_t, Error* error) override {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    if (shared_->refuse) {
      *error = Error{"scripted refusal", ECONNREFUSED, {}};
      return {0, count};
    }
    shared_->accepted.insert(shared_->accepted.end(), records, records + count);
    return {count, 0};
  }
  std::shared_ptr<Shared> shared_;
};

IpfixTransportFactory scripted(const std::shared_ptr<ScriptedTransport::Shared>& shared) {
  return [shared](const IpfixSessionConfig&) -> Result<std::unique_ptr<IpfixTransport>> {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->opened++;
    return std::unique_ptr<IpfixTransport>(new ScriptedTransport(shared));
  };
}

IpfixExporterConfig quick(CollectorTransport transport, size_t queue_records = 1000) {
  IpfixExporterConfig config;
  config.session.collector.transport = transport;
  config.session.collector.text = "scripted";
  config.queue_records = queue_records;
  config.backoff_min = 0.01;
  config.backoff_max = 0.02;
  config.drain_on_stop = 0.2;
  return config;
}

IpfixBatch batch_of(size_t records, uint64_t octets_each) {
  std::vector<IpfixRecord> out(records);
  for (IpfixRecord& record : out) {
    record.octets = octets_each;
    record.packets = 1;
  }
  return std::make_shared<const std::vector<IpfixRecord>>(std::move(out));
}

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 400 && !pred(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return pred();
}

}  // namespace

TEST_CASE("ipfix: rx records travel remote -> local on the ingress interface, tx the other way") {
  Delta delta;
  delta.flows.push_back({key("10.0.0.1", "192.0.2.7", 17), counters(1000, 10, 300, 3)});
  delta.flows.push_back({key("fd00::1", "2001:db8::9", 6), counters(0, 0, 640, 4)});
  IpfixWindow window{1'700'000'000'000, 1'700'000'005'000, 7};
  std::vector<IpfixRecord> records = ipfix_records(delta, window);
  REQUIRE(records.size() == 3);  // the IPv6 flow has no rx: no empty record

  const IpfixRecord& rx = records[0];
  CHECK(rx.family == NETACCT_FAMILY_IPV4);
  CHECK(rx.source == address("192.0.2.7"));
  CHECK(rx.destination == address("10.0.0.1"));
  CHECK(rx.direction == kIpfixIngress);
  CHECK(rx.ingress_interface == 7);
  CHECK(rx.egress_interface == 0);
  CHECK(rx.octets == 1000);
  CHECK(rx.packets == 10);
  CHECK(rx.protocol == 17);
  CHECK(rx.start_ms == window.start_ms);
  CHECK(rx.end_ms == window.end_ms);

  const IpfixRecord& tx = records[1];
  CHECK(tx.source == address("10.0.0.1"));
  CHECK(tx.destination == address("192.0.2.7"));
  CHECK(tx.direction == kIpfixEgress);
  CHECK(tx.ingress_interface == 0);
  CHECK(tx.egress_interface == 7);
  CHECK(tx.octets == 300);
  CHECK(tx.packets == 3);

  const IpfixRecord& v6 = records[2];
  CHECK(v6.family == NETACCT_FAMILY_IPV6);
  CHECK(v6.source == address("fd00::1"));
  CHECK(v6.destination == address("2001:db8::9"));
  CHECK(v6.direction == kIpfixEgress);
  CHECK(v6.protocol == 6);
}

TEST_CASE("ipfix: buckets are records 0.0.0.0 <-> 0.0.0.<id> so totals reconcile") {
  Delta delta;
  delta.buckets[NETACCT_BUCKET_NON_IP] = counters(42, 1, 84, 2);
  delta.buckets[NETACCT_BUCKET_OVERFLOW_V6] = counters(1500, 1, 0, 0);
  std::vector<IpfixRecord> records = ipfix_records(delta, {0, 1000, 3});
  REQUIRE(records.size() == 3);
  CHECK(records[0].source == address("0.0.0.0"));
  CHECK(records[0].destination == address(ipfix_bucket_address(NETACCT_BUCKET_NON_IP)));
  CHECK(records[0].direction == kIpfixIngress);
  CHECK(records[0].octets == 42);
  CHECK(records[1].source == address("0.0.0.2"));
  CHECK(records[1].destination == address("0.0.0.0"));
  CHECK(records[1].direction == kIpfixEgress);
  CHECK(records[1].packets == 2);
  CHECK(records[2].destination == address("0.0.0.5"));
  CHECK(records[2].protocol == 0);
  CHECK(records[2].family == NETACCT_FAMILY_IPV4);
  // Every byte of the delta is in exactly one record.
  uint64_t octets = 0;
  for (const IpfixRecord& record : records) octets += record.octets;
  netacct_counters total = delta.bucket_total();
  CHECK(octets == total.rx_bytes + total.tx_bytes);
  CHECK(ipfix_records(Delta{}, {}).empty());
}

TEST_CASE("ipfix: one observation domain per tag, stable and non-zero") {
  CHECK(ipfix_observation_domain("veth0") == ipfix_observation_domain("veth0"));
  CHECK(ipfix_observation_domain("veth0") != ipfix_observation_domain("veth1"));
  CHECK(ipfix_observation_domain("") != 0);
}

TEST_CASE("ipfix: a full queue drops whole batches and counts their records and bytes") {
  auto shared = std::make_shared<ScriptedTransport::Shared>();
  shared->refuse = true;  // nothing leaves: the queue fills
  {
    IpfixExporter exporter(quick(CollectorTransport::Tcp, 10), scripted(shared));
    exporter.submit(batch_of(6, 100));
    exporter.submit(batch_of(6, 100));  // 12 > 10: dropped at once
    IpfixCollectorStats stats = exporter.stats();
    CHECK(stats.records_dropped == 6);
    CHECK(stats.bytes_unexported == 600);
    CHECK(eventually([&] { return !exporter.stats().up; }));
    CHECK(exporter.stats().queued_records == 6);  // TCP: kept for the retry
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      shared->refuse = false;
    }
    CHECK(eventually([&] { return exporter.stats().records_sent == 6; }));
    CHECK(exporter.stats().up);
    CHECK(exporter.stats().queued_records == 0);
  }
  CHECK(shared->accepted.size() == 6);
  CHECK(shared->opened >= 2);  // reconnected after the refusals
}

TEST_CASE("ipfix: over UDP a refused message is dropped and counted, not retried") {
  auto shared = std::make_shared<ScriptedTransport::Shared>();
  shared->refuse = true;
  IpfixExporter exporter(quick(CollectorTransport::Udp), scripted(shared));
  exporter.submit(batch_of(4, 250));
  CHECK(eventually([&] { return exporter.stats().records_dropped == 4; }));
  IpfixCollectorStats stats = exporter.stats();
  CHECK(stats.bytes_unexported == 1000);
  CHECK(stats.records_sent == 0);
  CHECK_FALSE(stats.up);
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->refuse = false;
  }
  // Recovery over UDP needs two good sends on one socket.
  exporter.submit(batch_of(1, 10));
  CHECK(eventually([&] { return exporter.stats().records_sent == 1; }));
  CHECK_FALSE(exporter.stats().up);
  exporter.submit(batch_of(1, 10));
  CHECK(eventually([&] { return exporter.stats().up; }));
  CHECK(exporter.stats().records_dropped == 4);
}

TEST_CASE("ipfix: stopping with a collector down takes the drain time, not longer") {
  auto shared = std::make_shared<ScriptedTransport::Shared>();
  shared->refuse = true;
  auto exporter = std::make_unique<IpfixExporter>(quick(CollectorTransport::Tcp), scripted(shared));
  exporter->submit(batch_of(5, 20));
  auto started = std::chrono::steady_clock::now();
  exporter.reset();  // joins within drain_on_stop (0.2 s) plus one backoff
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(shared->accepted.empty());
}
