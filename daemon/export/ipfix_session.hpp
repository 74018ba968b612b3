// SPDX-License-Identifier: GPL-2.0-only
// IpfixSession: one libfixbuf export session to one collector: the
// information model, the session (observation domain, the IPv4 and IPv6
// flow templates) and the exporter, all owned by one fBuf. libfixbuf's
// types stay inside ipfix_session.cpp; this header needs no glib.
#pragma once

#include <memory>

#include "ipfix_transport.hpp"

namespace netacct {

// The libfixbuf transport (ipfix_session.cpp).
Result<std::unique_ptr<IpfixTransport>> open_ipfix_session(const IpfixSessionConfig& config);

// Template ids of the two flow templates.
inline constexpr uint16_t kIpfixTemplateV4 = 256;
inline constexpr uint16_t kIpfixTemplateV6 = 257;

}  // namespace netacct
