// SPDX-License-Identifier: GPL-2.0-only
// HTTP requests to /metrics: the http_parser-based reader fed the input in
// chunks (the first byte chooses the chunk size), pipelined requests
// answered one by one, as the server does, without a socket.
#include <cstdlib>

#include "daemon/metrics/http_request.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = (data[0] % 64) + 1;
  const char* text = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  netacct::RequestReader reader(8192);
  size_t requests = 0;
  while (left > 0 && requests < 64) {
    size_t used = reader.feed(text, std::min(chunk, left));
    if (used > std::min(chunk, left)) std::abort();
    text += used;
    left -= used;
    if (reader.state() == netacct::RequestReader::State::Error) {
      auto response = netacct::respond_error(reader.error_status());
      if (response.keep_alive || response.head.empty()) std::abort();
      break;
    }
    if (reader.state() == netacct::RequestReader::State::Complete) {
      auto response = netacct::respond(reader.request(), 1000);
      if (response.head.empty()) std::abort();
      requests++;
      if (!response.keep_alive) break;
      reader.next();
    } else if (used == 0) {
      break;
    }
  }
  return 0;
}
