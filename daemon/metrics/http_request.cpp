// SPDX-License-Identifier: GPL-2.0-only
#include "http_request.hpp"

#include <algorithm>

namespace netacct {

namespace {

constexpr const char* kMetricsPath = "/metrics";
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

std::string head(int status, const char* content_type, size_t length, bool keep_alive,
                 const char* extra = "") {
  std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  text += std::string("Content-Type: ") + content_type + "\r\n";
  text += "Content-Length: " + std::to_string(length) + "\r\n";
  text += extra;
  text += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  text += "\r\n";
  return text;
}

}  // namespace

RequestReader::RequestReader(size_t max_request_bytes) : max_bytes_(max_request_bytes) {
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = on_message_begin;
  settings_.on_url = on_url;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_message_complete = on_message_complete;
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

int RequestReader::on_message_begin(http_parser* parser) {
  auto* self = static_cast<RequestReader*>(parser->data);
  self->url_.clear();
  self->headers_done_ = false;
  return 0;
}

int RequestReader::on_url(http_parser* parser, const char* at, size_t length) {
  static_cast<RequestReader*>(parser->data)->url_.append(at, length);
  return 0;
}

int RequestReader::on_headers_complete(http_parser* parser) {
  static_cast<RequestReader*>(parser->data)->headers_done_ = true;
  return 0;
}

int RequestReader::on_message_complete(http_parser* parser) {
  auto* self = static_cast<RequestReader*>(parser->data);
  self->request_.method = http_method_str(static_cast<http_method>(parser->method));
  self->request_.path.clear();
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(self->url_.data(), self->url_.size(), 0, &url) == 0 &&
      (url.field_set & (1 << UF_PATH)))
    self->request_.path =
        self->url_.substr(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
  // An upgrade (or CONNECT) hands the connection to another protocol we do
  // not speak: answer, then close.
  self->request_.keep_alive = http_should_keep_alive(parser) != 0 && parser->upgrade == 0;
  self->state_ = State::Complete;
  // One request at a time: the rest of the buffer waits until this one is
  // answered (the next feed() continues after next()).
  http_parser_pause(parser, 1);
  return 0;
}

size_t RequestReader::feed(const char* data, size_t size) {
  if (state_ != State::NeedMore || size == 0) return 0;
  size_t room = max_bytes_ - used_;
  size_t chunk = std::min(size, room);
  size_t parsed = http_parser_execute(&parser_, &settings_, data, chunk);
  used_ += parsed;
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (state_ == State::Complete) return parsed;
  if (err != HPE_OK) {
    state_ = State::Error;
    error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
    return parsed;
  }
  if (parser_.upgrade && state_ != State::Complete) {
    // http_parser stops at an upgrade whose message has no body; treat the
    // message as complete.
    on_message_complete(&parser_);
    return parsed;
  }
  if (used_ >= max_bytes_) {
    state_ = State::Error;
    error_status_ = headers_done_ ? 413 : 431;
  }
  return parsed;
}

void RequestReader::next() {
  if (state_ != State::Complete) return;
  http_parser_pause(&parser_, 0);
  used_ = 0;
  state_ = State::NeedMore;
  request_ = HttpRequest{};
}

HttpResponse respond(const HttpRequest& request, size_t metrics_size) {
  HttpResponse response;
  response.keep_alive = request.keep_alive;
  bool get = request.method == "GET", head_only = request.method == "HEAD";
  if (request.path != kMetricsPath) {
    response.status = 404;
    response.body = "404 Not Found: netacctd serves only /metrics\n";
  } else if (!get && !head_only) {
    response.status = 405;
    response.body = "405 Method Not Allowed: use GET /metrics\n";
  } else {
    response.head = head(200, kContentType, metrics_size, response.keep_alive);
    response.send_metrics = get;
    return response;
  }
  response.head = head(response.status, "text/plain; charset=utf-8", response.body.size(),
                       response.keep_alive, response.status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (head_only) response.body.clear();
  return response;
}

HttpResponse respond_error(int status) {
  HttpResponse response;
  response.status = status;
  response.body = std::to_string(status) + " " + reason(status) + "\n";
  response.head = head(status, "text/plain; charset=utf-8", response.body.size(), false);
  return response;
}

}  // namespace netacct
