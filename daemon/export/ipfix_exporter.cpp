// SPDX-License-Identifier: GPL-2.0-only
#include "ipfix_exporter.hpp"

#include <algorithm>
#include <chrono>

#include "../common/log.hpp"

namespace netacct {

namespace {

using Clock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

IpfixExporter::IpfixExporter(IpfixExporterConfig config, IpfixTransportFactory factory)
    : config_(std::move(config)), factory_(std::move(factory)), worker_([this] { run(); }) {}

IpfixExporter::~IpfixExporter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void IpfixExporter::submit(const IpfixBatch& batch) {
  if (!batch || batch->empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ && queued_ + batch->size() <= config_.queue_records) {
      queue_.push_back({batch, 0});
      queued_ += batch->size();
      wake_.notify_one();
      return;
    }
  }
  drop(batch->data(), batch->size());
}

void IpfixExporter::drop(const IpfixRecord* records, size_t count) {
  uint64_t octets = 0;
  for (size_t i = 0; i < count; i++) octets += records[i].octets;
  dropped_ += count;
  bytes_unexported_ += octets;
}

IpfixCollectorStats IpfixExporter::stats() const {
  IpfixCollectorStats out;
  out.collector = config_.session.collector.text;
  out.records_sent = sent_.load();
  out.records_dropped = dropped_.load();
  out.bytes_unexported = bytes_unexported_.load();
  out.up = up_.load();
  std::lock_guard<std::mutex> lock(mutex_);
  out.queued_records = queued_;
  return out;
}

void IpfixExporter::set_up(bool up, const std::string& why) {
  if (up_.exchange(up) == up) return;
  const char* name = config_.session.collector.text.c_str();
  if (up)
    NA_INFO("IPFIX collector %s: sending again", name);
  else
    NA_WARN(
        "IPFIX collector %s unreachable (%s); retrying, and counting what cannot wait in "
        "netacct_ipfix_records_dropped_total",
        name, why.c_str());
}

void IpfixExporter::run() {
  const bool tcp = config_.session.collector.transport == CollectorTransport::Tcp;
  std::unique_ptr<IpfixTransport> transport;
  double backoff = config_.backoff_min;
  Clock::time_point retry_at{};  // no session before this
  Clock::time_point drain_deadline{};
  // UDP: a send only proves the previous one was not refused (a closed
  // port's ICMP error surfaces on the socket's next send), so recovery
  // needs two good sends on one socket; TCP: one.
  int good_sends = 0;
  const int good_to_recover = tcp ? 1 : 2;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (stopping_ && drain_deadline == Clock::time_point{})
      drain_deadline = Clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(config_.drain_on_stop * 1e3));
    if (stopping_ && (queue_.empty() || Clock::now() >= drain_deadline)) break;
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    if (!transport && Clock::now() < retry_at) {
      wake_.wait_until(lock, stopping_ ? std::min(retry_at, drain_deadline) : retry_at);
      continue;
    }
    // The front batch is shared, read-only: send it without the lock.
    Pending front = queue_.front();
    lock.unlock();
    Error error;
    IpfixTransport::Sent sent;
    bool failed = false;
    if (!transport) {
      auto opened = factory_(config_.session);
      if (opened) {
        transport = std::move(opened.value());
      } else {
        error = opened.error();
        failed = true;
      }
    }
    if (transport) {
      const size_t count = front.batch->size() - front.next;
      sent = transport->send(front.batch->data() + front.next, count, wall_ms(), &error);
      failed = sent.accepted < count;
    }
    sent_ += sent.accepted;
    // UDP: the refused message is gone (there is no later delivery to
    // retry into); TCP: it is sent again after the reconnect.
    size_t refused = tcp ? 0 : sent.refused;
    if (refused > 0) drop(front.batch->data() + front.next + sent.accepted, refused);
    if (failed) {
      transport.reset();
      good_sends = 0;
      set_up(false, error.message());
      retry_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(backoff * 1e3));
      backoff = std::min(backoff * 2, config_.backoff_max);
    } else {
      if (++good_sends >= good_to_recover) set_up(true, {});
      backoff = config_.backoff_min;
    }
    lock.lock();
    Pending& head = queue_.front();
    head.next += sent.accepted + refused;
    queued_ -= sent.accepted + refused;
    if (head.next == head.batch->size()) queue_.pop_front();
  }
  // Stopped with records left (the drain time ran out): counted, said.
  size_t left = queued_;
  for (const Pending& pending : queue_)
    drop(pending.batch->data() + pending.next, pending.batch->size() - pending.next);
  queue_.clear();
  queued_ = 0;
  lock.unlock();
  if (left > 0)
    NA_WARN("IPFIX collector %s: %zu records not sent at exit (counted as dropped)",
            config_.session.collector.text.c_str(), left);
}

}  // namespace netacct
