// SPDX-License-Identifier: GPL-2.0-only
// HttpServer: the /metrics endpoint on netacctd's libuv loop. A plain
// listening socket is made first (bind_listener, before the daemon touches
// any kernel state, so a taken port fails the start cleanly); start() hands
// it to the loop. Each connection reads into a RequestReader, answers one
// request at a time (reading pauses while a response is written), and is
// closed when a request takes longer than the read timeout, when a
// kept-alive connection stays idle too long, when a request is malformed or
// too large, or when the connection cap is reached: then the oldest idle
// connection is closed to make room (idle connections never lock scrapers
// out); the new one only when none is idle. Nothing here blocks:
// a slow client only holds its own connection.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "../common/listen_address.hpp"
#include "../common/result.hpp"
#include "../common/unique_fd.hpp"

namespace netacct {

struct HttpServerLimits {
  size_t max_connections = 64;
  size_t max_request_bytes = 8192;     // request line + headers (+ body)
  uint64_t request_timeout_ms = 5000;  // a started request must arrive within this
  uint64_t idle_timeout_ms = 15000;    // a kept-alive connection may wait this long
};

class HttpServer {
 public:
  // Makes the listening socket (SO_REUSEADDR, non-blocking) without a loop.
  static Result<std::unique_ptr<HttpServer>> bind_listener(const std::string& address,
                                                           HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Result<void> start(uv_loop_t* loop);
  // The text GET /metrics returns from now on. Responses being written keep
  // the text they started with.
  void set_body(std::string text);
  // Closes the listener and every connection; the loop then runs dry.
  void close();
  const std::string& address() const { return address_; }

  struct Stats {
    uint64_t accepted = 0;
    uint64_t rejected = 0;  // over the connection cap, none idle to evict
    uint64_t evicted = 0;   // idle connections closed to make room for a new one
    uint64_t timed_out = 0;
    uint64_t bad_requests = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Connection;
  HttpServer(std::string address, UniqueFd fd, HttpServerLimits limits);
  void on_connection(int status);
  void on_read(Connection& conn, ssize_t nread, const uv_buf_t* buf);
  void process(Connection& conn);
  void send(Connection& conn, std::string head, std::string body, bool with_metrics, bool close);
  void on_written(Connection& conn, int status);
  void arm_timer(Connection& conn, uint64_t timeout_ms);
  void close_connection(Connection& conn);

  std::string address_;
  UniqueFd fd_;
  HttpServerLimits limits_;
  uv_loop_t* loop_ = nullptr;
  uv_tcp_t listener_{};
  bool listening_ = false;
  bool closed_ = false;
  std::shared_ptr<const std::string> body_;
  std::list<std::unique_ptr<Connection>> connections_;
  Stats stats_;
};

}  // namespace netacct
