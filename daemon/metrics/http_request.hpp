// SPDX-License-Identifier: GPL-2.0-only
// RequestReader: one HTTP/1.x connection's requests, parsed by http_parser
// (libhttp-parser), bounded in size, one request at a time; and the
// responses of the metrics endpoint. No sockets: the server feeds it bytes,
// the unit tests feed it strings.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>

namespace netacct {

struct HttpRequest {
  std::string method;  // "GET"
  std::string path;    // "/metrics" (query string removed)
  bool keep_alive = false;
};

class RequestReader {
 public:
  enum class State { NeedMore, Complete, Error };

  // max_request_bytes bounds one request: request line, headers and body.
  explicit RequestReader(size_t max_request_bytes);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses up to one request from data; returns how many bytes it used.
  // Stops after a complete request (the rest belongs to the next one) or an
  // error; call next() after a Complete before feeding more.
  size_t feed(const char* data, size_t size);
  State state() const { return state_; }
  const HttpRequest& request() const { return request_; }
  // On Error: 400 (malformed), 431 (headers too large) or 413 (body too large).
  int error_status() const { return error_status_; }
  // Ready for the next request on a kept-alive connection.
  void next();
  // True once a request has started arriving (for the idle/read timeouts).
  bool in_request() const { return used_ > 0; }

 private:
  static int on_message_begin(http_parser* parser);
  static int on_url(http_parser* parser, const char* at, size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_message_complete(http_parser* parser);

  http_parser parser_{};
  http_parser_settings settings_{};
  size_t max_bytes_;
  size_t used_ = 0;  // bytes of the current request
  bool headers_done_ = false;
  std::string url_;
  HttpRequest request_;
  State state_ = State::NeedMore;
  int error_status_ = 0;
};

// The status line, headers and body the endpoint answers `request` with:
// GET or HEAD /metrics -> 200 with `metrics` (HEAD without the body),
// another path -> 404, another method on /metrics -> 405. `keep_alive` says
// whether the connection stays open afterwards. The body is not included
// for 200: the caller sends `metrics` after the head (no copy of the text).
struct HttpResponse {
  int status = 200;
  std::string head;  // status line + headers + blank line
  std::string body;  // small bodies of error responses
  bool send_metrics = false;
  bool keep_alive = false;
};
HttpResponse respond(const HttpRequest& request, size_t metrics_size);
// A response to a request that could not be read; it always closes.
HttpResponse respond_error(int status);

}  // namespace netacct
