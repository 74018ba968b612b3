// SPDX-License-Identifier: GPL-2.0-only
// IpfixExporter: one collector's worker thread and bounded queue. submit()
// is what the loop thread calls after a harvest: it only takes a mutex and
// appends a shared batch (or drops it, counted, when the queue is full), so
// a collector that is down, slow or blocking never delays a harvest.
//
// The worker sends batches in order. A failed message closes the session
// and the worker reconnects with a backoff (1 s doubling to 16 s). Over TCP
// the failed message's records stay queued and are sent again after the
// reconnect; over UDP a message the socket refused (ICMP port unreachable)
// is dropped and counted: UDP offers no later delivery to retry into.
// Being down and recovering is logged once each.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ipfix_stats.hpp"
#include "ipfix_transport.hpp"

namespace netacct {

using IpfixBatch = std::shared_ptr<const std::vector<IpfixRecord>>;

struct IpfixExporterConfig {
  IpfixSessionConfig session;
  size_t queue_records = 262144;  // the bound of the queue, in records
  double backoff_min = 1;         // seconds before the first reconnect
  double backoff_max = 16;        // seconds between reconnects, at most
  double drain_on_stop = 2;       // seconds the destructor lets the queue drain
};

class IpfixExporter {
 public:
  IpfixExporter(IpfixExporterConfig config, IpfixTransportFactory factory);
  // Stops the worker: what is queued gets drain_on_stop seconds, the rest
  // is counted as dropped (and logged).
  ~IpfixExporter();
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  void submit(const IpfixBatch& batch);
  IpfixCollectorStats stats() const;

 private:
  struct Pending {
    IpfixBatch batch;
    size_t next = 0;  // first record not yet sent
  };
  void run();
  void drop(const IpfixRecord* records, size_t count);
  void set_up(bool up, const std::string& why);

  IpfixExporterConfig config_;
  IpfixTransportFactory factory_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mutex_
  size_t queued_ = 0;          // records in queue_, guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> bytes_unexported_{0};
  std::atomic<bool> up_{true};
  std::thread worker_;  // last: started when everything above exists
};

}  // namespace netacct
