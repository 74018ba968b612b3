// SPDX-License-Identifier: GPL-2.0-only
// The libfixbuf side of the exporter. libfixbuf encodes (templates, sets,
// records, sequence numbers) into a message buffer (fbExporterAllocBuffer);
// this file sends each message on a socket it owns. libfixbuf's own UDP
// writer cannot be used: it reports a refused datagram once per process, as
// a warning, and returns success (fbexporter.c, fbExporterWriteUDP), so a
// collector that went away would be invisible. Records are appended in
// manual mode (fBufAppend reports the end of a message instead of emitting
// it), so the caller learns exactly which records a failed message held.
#include "ipfix_session.hpp"

#include <fcntl.h>
#include <fixbuf/public.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "../common/log.hpp"
#include "../common/unique_fd.hpp"

namespace netacct {

namespace {

// libfixbuf's glib warnings go to our log instead of raw stderr.
void glib_to_log(const gchar*, GLogLevelFlags level, const gchar* message, gpointer) {
  const char* text = message ? message : "";
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    NA_WARN("libfixbuf: %s", text);
  else
    NA_DEBUG("libfixbuf: %s", text);
}

void route_glib_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_log_set_handler(nullptr, static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_RECURSION),
                      glib_to_log, nullptr);
  });
}

// The wire records, packed in template order: libfixbuf copies fields by
// the template's lengths, with no padding between them.
struct __attribute__((packed)) WireV4 {
  uint64_t start_ms;
  uint64_t end_ms;
  uint64_t octets;
  uint64_t packets;
  uint32_t source;  // host order: libfixbuf encodes ipv4Address as a number
  uint32_t destination;
  uint32_t ingress_interface;
  uint32_t egress_interface;
  uint8_t protocol;
  uint8_t direction;
};
struct __attribute__((packed)) WireV6 {
  uint64_t start_ms;
  uint64_t end_ms;
  uint64_t octets;
  uint64_t packets;
  uint8_t source[16];
  uint8_t destination[16];
  uint32_t ingress_interface;
  uint32_t egress_interface;
  uint8_t protocol;
  uint8_t direction;
};

// libfixbuf's spec arrays take non-const names.
#define NETACCT_IE(name, length) \
  { const_cast<char*>(name), length, 0 }
fbInfoElementSpec_t kSpecV4[] = {NETACCT_IE("flowStartMilliseconds", 8),
                                 NETACCT_IE("flowEndMilliseconds", 8),
                                 NETACCT_IE("octetDeltaCount", 8),
                                 NETACCT_IE("packetDeltaCount", 8),
                                 NETACCT_IE("sourceIPv4Address", 4),
                                 NETACCT_IE("destinationIPv4Address", 4),
                                 NETACCT_IE("ingressInterface", 4),
                                 NETACCT_IE("egressInterface", 4),
                                 NETACCT_IE("protocolIdentifier", 1),
                                 NETACCT_IE("flowDirection", 1),
                                 FB_IESPEC_NULL};
fbInfoElementSpec_t kSpecV6[] = {NETACCT_IE("flowStartMilliseconds", 8),
                                 NETACCT_IE("flowEndMilliseconds", 8),
                                 NETACCT_IE("octetDeltaCount", 8),
                                 NETACCT_IE("packetDeltaCount", 8),
                                 NETACCT_IE("sourceIPv6Address", 16),
                                 NETACCT_IE("destinationIPv6Address", 16),
                                 NETACCT_IE("ingressInterface", 4),
                                 NETACCT_IE("egressInterface", 4),
                                 NETACCT_IE("protocolIdentifier", 1),
                                 NETACCT_IE("flowDirection", 1),
                                 FB_IESPEC_NULL};
#undef NETACCT_IE
static_assert(sizeof(WireV4) == 50 && sizeof(WireV6) == 74);

struct ModelFree {
  void operator()(fbInfoModel_t* model) const { fbInfoModelFree(model); }
};
struct SessionFree {
  void operator()(fbSession_t* session) const { fbSessionFree(session); }
};
struct TemplateFree {
  void operator()(fbTemplate_t* tmpl) const { fbTemplateFreeUnused(tmpl); }
};
struct BufFree {
  void operator()(fBuf_t* buf) const { fBufFree(buf); }
};
// A GError freed on every path.
struct GErrorHolder {
  GError* error = nullptr;
  ~GErrorHolder() { g_clear_error(&error); }
  GError** out() {
    g_clear_error(&error);
    return &error;
  }
  std::string text() const { return error ? error->message : "unknown libfixbuf error"; }
  bool is_end_of_message() const { return g_error_matches(error, FB_ERROR_DOMAIN, FB_ERROR_EOM); }
};

Error fixbuf_error(const std::string& op, const CollectorAddress& collector,
                   const GErrorHolder& error) {
  return Error{op + ": " + error.text(), 0, collector.text};
}

// Message sizes: one UDP datagram below the path MTU (libfixbuf's own UDP
// default); TCP messages may be larger.
constexpr uint16_t kUdpMessage = 1420;
constexpr uint16_t kTcpMessage = 8192;
// A connect, or a send a collector does not drain, fails after this long.
constexpr int kSocketTimeoutMs = 5000;

struct AddrInfoFree {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

// A connected socket to the collector: UDP (connected, so a closed port's
// ICMP error comes back as ECONNREFUSED) or TCP with bounded connect and
// send times.
Result<UniqueFd> connect_collector(const CollectorAddress& collector) {
  const bool tcp = collector.transport == CollectorTransport::Tcp;
  addrinfo hints{};
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(collector.host.c_str(), collector.port.c_str(), &hints, &found);
  if (rc != 0)
    return Error{std::string("IPFIX collector address: ") + gai_strerror(rc), 0, collector.text};
  std::unique_ptr<addrinfo, AddrInfoFree> list(found);
  Error last{"IPFIX connect", 0, collector.text};
  for (addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (!fd) {
      last.err = errno;
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last.err = errno;
        continue;
      }
      pollfd p{fd.get(), POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      if (::poll(&p, 1, kSocketTimeoutMs) != 1) {
        last.err = ETIMEDOUT;
        continue;
      }
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        last.err = error ? error : errno;
        continue;
      }
    }
    // Blocking from here, with a send timeout: the worker may wait for a
    // slow collector, never forever.
    ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
    timeval tv{kSocketTimeoutMs / 1000, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
  }
  return last;
}

// libfixbuf keeps process-wide state behind its info models and sessions
// (the sanitizer storm caught two exporter threads racing inside
// fbInfoModelAlloc), so every libfixbuf call runs under this one lock. The
// socket I/O does not: a slow collector never holds up another's encoding.
std::mutex& fixbuf_mutex() {
  static std::mutex mutex;
  return mutex;
}

class FixbufSession final : public IpfixTransport {
 public:
  explicit FixbufSession(IpfixSessionConfig config) : config_(std::move(config)) {}
  ~FixbufSession() override {
    std::lock_guard<std::mutex> lock(fixbuf_mutex());
    buf_.reset();
    model_.reset();
  }
  FixbufSession(const FixbufSession&) = delete;
  FixbufSession& operator=(const FixbufSession&) = delete;

  Result<void> open() {
    route_glib_log();
    auto connected = connect_collector(config_.collector);
    if (!connected) return connected.error();
    socket_ = std::move(connected.value());
    // Held until the objects below are owned or freed (declared first).
    std::lock_guard<std::mutex> lock(fixbuf_mutex());
    model_.reset(fbInfoModelAlloc());
    std::unique_ptr<fbSession_t, SessionFree> session(fbSessionAlloc(model_.get()));
    GErrorHolder error;
    fbSessionSetDomain(session.get(), config_.observation_domain);
    for (auto [spec, tid] : {std::pair{kSpecV4, kIpfixTemplateV4}, {kSpecV6, kIpfixTemplateV6}}) {
      std::unique_ptr<fbTemplate_t, TemplateFree> tmpl(fbTemplateAlloc(model_.get()));
      if (!fbTemplateAppendSpecArray(tmpl.get(), spec, UINT32_MAX, error.out()))
        return fixbuf_error("IPFIX template", config_.collector, error);
      // The same template serves as internal (our struct) and external
      // (the wire); the session then owns it.
      if (!fbSessionAddTemplate(session.get(), TRUE, tid, tmpl.get(), error.out()))
        return fixbuf_error("IPFIX internal template", config_.collector, error);
      fbTemplate_t* owned = tmpl.release();
      if (!fbSessionAddTemplate(session.get(), FALSE, tid, owned, error.out()))
        return fixbuf_error("IPFIX external template", config_.collector, error);
    }
    message_.resize(config_.collector.transport == CollectorTransport::Tcp ? kTcpMessage
                                                                           : kUdpMessage);
    fbExporter_t* exporter =
        fbExporterAllocBuffer(message_.data(), static_cast<uint16_t>(message_.size()));
    // The buffer owns the session and the exporter from here on.
    buf_.reset(fBufAllocForExport(session.release(), exporter));
    fBufSetAutomaticMode(buf_.get(), FALSE);
    return ok();
  }

  Sent send(const IpfixRecord* records, size_t count, int64_t now_ms, Error* error) override {
    std::unique_lock<std::mutex> lock(fixbuf_mutex());
    GErrorHolder gerror;
    auto fail = [&](const std::string& op) {
      if (error) *error = fixbuf_error(op, config_.collector, gerror);
    };
    fBufSetExportTime(buf_.get(), static_cast<uint32_t>(now_ms / 1000));
    const bool udp = config_.collector.transport == CollectorTransport::Udp;
    const bool templates_due =
        templates_sent_ms_ < 0 || (udp && now_ms - templates_sent_ms_ >=
                                              static_cast<int64_t>(config_.template_refresh * 1e3));
    if (templates_due) {
      // A fresh buffer answers "end of message" once, to make the caller
      // start the message the templates go into (automatic mode hides this).
      fbSession_t* session = fBufGetSession(buf_.get());
      bool exported = fbSessionExportTemplates(session, gerror.out());
      if (!exported && gerror.is_end_of_message() && emit(gerror, lock))
        exported = fbSessionExportTemplates(session, gerror.out());
      if (!exported) {
        fail("IPFIX templates");
        return {0, 0};
      }
      templates_sent_ms_ = now_ms;
      current_tid_ = 0;
    }
    size_t message_start = 0;  // first record of the message being filled
    for (size_t i = 0; i < count; i++) {
      if (!append(records[i], gerror)) {
        if (!gerror.is_end_of_message()) {
          fail("IPFIX append");
          return {message_start, 0};
        }
        if (!emit(gerror, lock)) {
          fail("IPFIX send");
          return {message_start, i - message_start};
        }
        message_start = i;
        fBufSetExportTime(buf_.get(), static_cast<uint32_t>(now_ms / 1000));
        if (!append(records[i], gerror)) {
          fail("IPFIX append");
          return {message_start, 0};
        }
      }
    }
    if (!emit(gerror, lock)) {
      fail("IPFIX send");
      return {message_start, count - message_start};
    }
    return {count, 0};
  }

 private:
  // fBufEmit encodes the message into message_ (under the lock); then it
  // goes on the socket (one datagram, or the whole message on the TCP
  // stream) with the lock released: only this thread uses message_.
  bool emit(GErrorHolder& error, std::unique_lock<std::mutex>& lock) {
    if (!fBufEmit(buf_.get(), error.out())) return false;
    size_t length = fbExporterGetMsgLen(fBufGetExporter(buf_.get()));
    lock.unlock();
    struct Relock {
      std::unique_lock<std::mutex>& lock;
      ~Relock() { lock.lock(); }
    } relock{lock};
    size_t at = 0;
    while (at < length) {
      ssize_t n = ::send(socket_.get(), message_.data() + at, length - at, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : EIO;
        g_set_error(error.out(), FB_ERROR_DOMAIN, FB_ERROR_IO, "send: %s",
                    std::strerror(err == EAGAIN ? ETIMEDOUT : err));
        return false;
      }
      at += static_cast<size_t>(n);
    }
    return true;
  }

  bool append(const IpfixRecord& record, GErrorHolder& error) {
    const uint16_t tid = record.family == NETACCT_FAMILY_IPV6 ? kIpfixTemplateV6 : kIpfixTemplateV4;
    if (tid != current_tid_) {
      if (!fBufSetInternalTemplate(buf_.get(), tid, error.out()) ||
          !fBufSetExportTemplate(buf_.get(), tid, error.out()))
        return false;
      current_tid_ = tid;
    }
    if (tid == kIpfixTemplateV6) {
      WireV6 wire{record.start_ms,
                  record.end_ms,
                  record.octets,
                  record.packets,
                  {},
                  {},
                  record.ingress_interface,
                  record.egress_interface,
                  record.protocol,
                  record.direction};
      std::memcpy(wire.source, record.source.data(), 16);
      std::memcpy(wire.destination, record.destination.data(), 16);
      return fBufAppend(buf_.get(), reinterpret_cast<uint8_t*>(&wire), sizeof wire, error.out());
    }
    auto v4 = [](const std::array<uint8_t, 16>& address) {
      return (uint32_t{address[0]} << 24) | (uint32_t{address[1]} << 16) |
             (uint32_t{address[2]} << 8) | uint32_t{address[3]};
    };
    WireV4 wire{record.start_ms,          record.end_ms,           record.octets,
                record.packets,           v4(record.source),       v4(record.destination),
                record.ingress_interface, record.egress_interface, record.protocol,
                record.direction};
    return fBufAppend(buf_.get(), reinterpret_cast<uint8_t*>(&wire), sizeof wire, error.out());
  }

  IpfixSessionConfig config_;
  UniqueFd socket_;
  // Declared before the buffer, destroyed after it: its templates point
  // into the model, its exporter writes into message_.
  std::unique_ptr<fbInfoModel_t, ModelFree> model_;
  std::vector<uint8_t> message_;
  std::unique_ptr<fBuf_t, BufFree> buf_;
  int64_t templates_sent_ms_ = -1;
  uint16_t current_tid_ = 0;
};

}  // namespace

Result<std::unique_ptr<IpfixTransport>> open_ipfix_session(const IpfixSessionConfig& config) {
  auto session = std::make_unique<FixbufSession>(config);
  if (auto opened = session->open(); !opened) return opened.error();
  return std::unique_ptr<IpfixTransport>(std::move(session));
}

}  // namespace netacct
