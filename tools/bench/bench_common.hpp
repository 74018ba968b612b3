// SPDX-License-Identifier: GPL-2.0-only
// Shared pieces of netacct-bench: running a program on a frame with
// BPF_PROG_TEST_RUN and taking the kernel's own timing, medians, the
// empty baseline programs, and the kernel memory a map is charged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct empty_bpf;

namespace netacct::bench {

using Frame = std::vector<uint8_t>;

// Runs `frame` through `prog_fd` `repeat` times in the kernel and returns
// the kernel's average ns per run (opts.duration). Throws on failure.
double test_run_ns(int prog_fd, const Frame& frame, uint32_t repeat);

// Runs each frame once per call with `repeat` runs, and returns the mean of
// the kernel-reported durations weighted by repeat: the ns/packet of a mix.
double mix_ns(int prog_fd, const std::vector<Frame>& frames, uint32_t repeat);

double median(std::vector<double> samples);

// Ethernet + IPv4/IPv6 + UDP frame with 64 bytes of payload.
Frame udp_frame(const std::string& src, const std::string& dst);

// The kernel memory charged to a map: "memlock" in /proc/self/fdinfo/<fd>.
uint64_t map_memlock(int map_fd);

// The empty XDP and TC programs (bpf/empty.bpf.c): the baseline.
class EmptyProgs {
 public:
  EmptyProgs();
  ~EmptyProgs();
  EmptyProgs(const EmptyProgs&) = delete;
  EmptyProgs& operator=(const EmptyProgs&) = delete;
  int xdp_fd() const;
  int tc_fd() const;

 private:
  empty_bpf* skel_ = nullptr;
};

// A 1 / 64k flows figure and the empty program's on the same hook and frames.
struct Pair {
  double empty_ns = 0;
  double ours_ns = 0;
  double ratio() const { return empty_ns > 0 ? ours_ns / empty_ns : 0; }
};

}  // namespace netacct::bench
