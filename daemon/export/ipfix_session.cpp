// SPDX-License-Identifier: GPL-2.0-only
// The libfixbuf side of the exporter. Records are appended in manual mode
// (fBufAppend reports the end of a message instead of emitting it), so the
// caller learns exactly which records were in a message that failed.
#include "ipfix_session.hpp"

#include <fixbuf/public.h>

#include <cstring>

namespace netacct {

namespace {

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

class FixbufSession final : public IpfixTransport {
 public:
  explicit FixbufSession(IpfixSessionConfig config) : config_(std::move(config)) {}

  Result<void> open() {
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
    fbConnSpec_t spec = FB_CONNSPEC_INIT;
    spec.transport = config_.collector.transport == CollectorTransport::Tcp ? FB_TCP : FB_UDP;
    spec.host = const_cast<char*>(config_.collector.host.c_str());
    spec.svc = const_cast<char*>(config_.collector.port.c_str());
    fbExporter_t* exporter = fbExporterAllocNet(&spec);
    if (!exporter)
      return Error{"IPFIX collector address does not resolve", 0, config_.collector.text};
    // The buffer owns the session and the exporter from here on.
    buf_.reset(fBufAllocForExport(session.release(), exporter));
    fBufSetAutomaticMode(buf_.get(), FALSE);
    return ok();
  }

  Sent send(const IpfixRecord* records, size_t count, int64_t now_ms, Error* error) override {
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
      if (!exported && gerror.is_end_of_message() && fBufEmit(buf_.get(), gerror.out()))
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
        if (!fBufEmit(buf_.get(), gerror.out())) {
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
    if (!fBufEmit(buf_.get(), gerror.out())) {
      fail("IPFIX send");
      return {message_start, count - message_start};
    }
    return {count, 0};
  }

 private:
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
  // Declared first, destroyed last: the buffer's templates point into it.
  std::unique_ptr<fbInfoModel_t, ModelFree> model_;
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
