// SPDX-License-Identifier: GPL-2.0-only
#include "http_server.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdlib>

#include "../common/log.hpp"
#include "http_request.hpp"

namespace netacct {

struct HttpServer::Connection {
  explicit Connection(HttpServer& owner, size_t max_request_bytes)
      : server(owner), reader(max_request_bytes) {}
  HttpServer& server;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  RequestReader reader;
  std::string pending;  // read but not yet parsed (a pipelined next request)
  char buffer[16384];
  std::list<std::unique_ptr<Connection>>::iterator self;
  int open_handles = 0;
  bool reading = false;
  bool writing = false;
  bool close_after_write = false;
  bool closing = false;
  bool idle = true;  // between requests (idle timeout) rather than inside one
};

namespace {

struct WriteRequest {
  uv_write_t req{};
  std::string head;
  std::string body;
  std::shared_ptr<const std::string> metrics;
};

}  // namespace

HttpServer::HttpServer(std::string address, UniqueFd fd, HttpServerLimits limits)
    : address_(std::move(address)),
      fd_(std::move(fd)),
      limits_(limits),
      body_(std::make_shared<const std::string>()) {}

HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::bind_listener(const std::string& address,
                                                              HttpServerLimits limits) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error();
  const sockaddr_storage& addr = parsed.value();
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("metrics socket", errno, address);
  UniqueFd owned(fd);
  int one = 1;
  // A restarted daemon must not wait for the old connections' TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  socklen_t length = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0)
    return make_error("metrics: cannot listen on", errno, address);
  return std::unique_ptr<HttpServer>(new HttpServer(address, std::move(owned), limits));
}

Result<void> HttpServer::start(uv_loop_t* loop) {
  loop_ = loop;
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listening_ = true;
  if (int rc = uv_tcp_open(&listener_, fd_.get()); rc != 0)
    return make_error("metrics: adopt listening socket", rc, address_);
  fd_.release();  // libuv closes it with the handle
  int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128,
                     [](uv_stream_t* server, int status) {
                       static_cast<HttpServer*>(server->data)->on_connection(status);
                     });
  if (rc != 0) return make_error("metrics: listen", rc, address_);
  return ok();
}

void HttpServer::set_body(std::string text) {
  body_ = std::make_shared<const std::string>(std::move(text));
}

void HttpServer::close() {
  if (closed_) return;
  closed_ = true;
  if (listening_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  // Connections leave the list in their close callbacks, not here.
  for (auto& conn : connections_) close_connection(*conn);
}

void HttpServer::on_connection(int status) {
  if (status < 0 || closed_) return;
  auto owned = std::make_unique<Connection>(*this, limits_.max_request_bytes);
  Connection& conn = *owned;
  connections_.push_back(std::move(owned));
  conn.self = std::prev(connections_.end());
  uv_tcp_init(loop_, &conn.tcp);
  uv_timer_init(loop_, &conn.timer);
  conn.tcp.data = &conn;
  conn.timer.data = &conn;
  conn.open_handles = 2;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                reinterpret_cast<uv_stream_t*>(&conn.tcp)) != 0) {
    close_connection(conn);
    return;
  }
  size_t active = 0;
  for (const auto& other : connections_) active += other->closing ? 0 : 1;
  if (active > limits_.max_connections) {
    // Over the cap: the oldest connection that holds no request (never sent
    // a byte, or kept alive between requests) makes room, so idle
    // connections cannot lock scrapers out. Only when every connection is
    // inside a request or a response is the new one closed at once (the
    // backlog drains and the client sees a reset instead of hanging).
    Connection* oldest_idle = nullptr;
    for (const auto& other : connections_) {
      if (other.get() == &conn || other->closing || other->writing || !other->idle) continue;
      if (!other->pending.empty() || other->reader.in_request()) continue;
      oldest_idle = other.get();
      break;
    }
    if (!oldest_idle) {
      stats_.rejected++;
      close_connection(conn);
      return;
    }
    stats_.evicted++;
    close_connection(*oldest_idle);
  }
  stats_.accepted++;
  uv_tcp_nodelay(&conn.tcp, 1);
  arm_timer(conn, limits_.request_timeout_ms);
  process(conn);
}

void HttpServer::arm_timer(Connection& conn, uint64_t timeout_ms) {
  uv_timer_start(
      &conn.timer,
      [](uv_timer_t* timer) {
        auto* c = static_cast<Connection*>(timer->data);
        c->server.stats_.timed_out++;
        c->server.close_connection(*c);
      },
      timeout_ms, 0);
}

void HttpServer::on_read(Connection& conn, ssize_t nread, const uv_buf_t* buf) {
  if (conn.closing) return;
  if (nread < 0) {  // EOF or error: nothing more will come
    close_connection(conn);
    return;
  }
  if (nread == 0) return;
  if (conn.idle) {
    // A new request begins: from now it has the read timeout to arrive.
    conn.idle = false;
    arm_timer(conn, limits_.request_timeout_ms);
  }
  conn.pending.append(buf->base, static_cast<size_t>(nread));
  process(conn);
}

void HttpServer::process(Connection& conn) {
  while (!conn.closing && !conn.writing && !conn.pending.empty()) {
    size_t used = conn.reader.feed(conn.pending.data(), conn.pending.size());
    conn.pending.erase(0, used);
    if (conn.reader.state() == RequestReader::State::Complete) {
      HttpResponse response = respond(conn.reader.request(), body_->size());
      send(conn, std::move(response.head), std::move(response.body), response.send_metrics,
           !response.keep_alive);
    } else if (conn.reader.state() == RequestReader::State::Error) {
      stats_.bad_requests++;
      HttpResponse response = respond_error(conn.reader.error_status());
      conn.pending.clear();
      send(conn, std::move(response.head), std::move(response.body), false, true);
    } else if (used == 0) {
      break;
    }
  }
  if (conn.closing) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&conn.tcp);
  if (conn.writing && conn.reading) {
    // One request at a time: a client that pipelines without reading its
    // responses is not read from, so it cannot make us buffer without bound.
    uv_read_stop(stream);
    conn.reading = false;
  } else if (!conn.writing && !conn.reading) {
    int rc = uv_read_start(
        stream,
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(handle->data);
          *buf = uv_buf_init(c->buffer, sizeof c->buffer);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(s->data);
          c->server.on_read(*c, nread, buf);
        });
    if (rc != 0) {
      close_connection(conn);
      return;
    }
    conn.reading = true;
  }
}

void HttpServer::send(Connection& conn, std::string head, std::string body, bool with_metrics,
                      bool close) {
  auto* write = new WriteRequest;
  write->head = std::move(head);
  write->body = std::move(body);
  if (with_metrics) write->metrics = body_;  // the text stays alive until written
  write->req.data = &conn;
  uv_buf_t bufs[2] = {
      uv_buf_init(write->head.data(), static_cast<unsigned>(write->head.size())),
      with_metrics ? uv_buf_init(const_cast<char*>(write->metrics->data()),
                                 static_cast<unsigned>(write->metrics->size()))
                   : uv_buf_init(write->body.data(), static_cast<unsigned>(write->body.size()))};
  conn.writing = true;
  conn.close_after_write = close;
  int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&conn.tcp), bufs, 2,
                    [](uv_write_t* req, int status) {
                      auto* c = static_cast<Connection*>(req->data);
                      delete reinterpret_cast<WriteRequest*>(req);
                      c->server.on_written(*c, status);
                    });
  if (rc != 0) {
    delete write;
    conn.writing = false;
    close_connection(conn);
  }
}

void HttpServer::on_written(Connection& conn, int status) {
  conn.writing = false;
  if (conn.closing) return;
  if (status < 0 || conn.close_after_write) {
    close_connection(conn);
    return;
  }
  conn.reader.next();
  if (conn.pending.empty()) {
    conn.idle = true;
    arm_timer(conn, limits_.idle_timeout_ms);
  } else {
    arm_timer(conn, limits_.request_timeout_ms);  // the next request is already arriving
  }
  process(conn);
}

void HttpServer::close_connection(Connection& conn) {
  if (conn.closing) return;
  conn.closing = true;
  uv_timer_stop(&conn.timer);
  auto closed = [](uv_handle_t* handle) {
    auto* c = static_cast<Connection*>(handle->data);
    if (--c->open_handles == 0) c->server.connections_.erase(c->self);
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&conn.tcp), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&conn.timer), closed);
}

}  // namespace netacct
