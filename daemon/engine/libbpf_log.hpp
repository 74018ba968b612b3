// SPDX-License-Identifier: GPL-2.0-only
// libbpf's messages, routed into netacct's logger (common/log.hpp).
//
// libbpf has one process-wide print hook with no user pointer; it is set
// once at start-up. Which lines pass is decided per message: warnings at
// info level, libbpf's own info/debug chatter only with --debug=libbpf, and
// the kernel's extended acks for netlink requests whose failure is expected
// ("no such filter", "exists") never while a QuietNetlink lives on the
// calling thread (thread-local, so the harvest thread and the loop thread
// do not silence each other).
#pragma once

namespace netacct {

// Installs the hook. `loader_details`: also pass libbpf's info and debug
// lines (at debug level).
void route_libbpf_to_log(bool loader_details);

// While alive, drops libbpf's "Kernel error message" lines on this thread.
class QuietNetlink {
 public:
  QuietNetlink();
  ~QuietNetlink();
  QuietNetlink(const QuietNetlink&) = delete;
  QuietNetlink& operator=(const QuietNetlink&) = delete;
};

}  // namespace netacct
