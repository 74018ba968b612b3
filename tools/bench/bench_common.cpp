// SPDX-License-Identifier: GPL-2.0-only
#include "bench_common.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "empty.skel.h"
#include "tests/support/packet.hpp"

namespace netacct::bench {

double test_run_ns(int prog_fd, const Frame& frame, uint32_t repeat) {
  // The kernel may write to its copy of the frame; ours stays untouched.
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = frame.data();
  opts.data_size_in = static_cast<uint32_t>(frame.size());
  opts.repeat = static_cast<int>(repeat);
  if (int err = bpf_prog_test_run_opts(prog_fd, &opts); err != 0)
    throw std::runtime_error("BPF_PROG_TEST_RUN: " + std::string(std::strerror(-err)));
  return static_cast<double>(opts.duration);
}

double mix_ns(int prog_fd, const std::vector<Frame>& frames, uint32_t repeat) {
  // Every call has the same repeat, so the weighted mean is the plain mean.
  double total = 0;
  for (const Frame& frame : frames) total += test_run_ns(prog_fd, frame, repeat);
  return frames.empty() ? 0 : total / static_cast<double>(frames.size());
}

double median(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t mid = samples.size() / 2;
  return samples.size() % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
}

Frame udp_frame(const std::string& src, const std::string& dst) {
  test::PacketSpec spec{.src = src, .dst = dst, .protocol = 17, .payload = 64};
  return test::build_packet(spec).frame;
}

uint64_t map_memlock(int map_fd) {
  std::ifstream file("/proc/self/fdinfo/" + std::to_string(map_fd));
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("memlock:", 0) == 0) return std::stoull(line.substr(8));
  }
  throw std::runtime_error("no memlock line in fdinfo of fd " + std::to_string(map_fd));
}

EmptyProgs::EmptyProgs() : skel_(empty_bpf::open_and_load()) {
  if (!skel_) throw std::runtime_error("load empty programs: " + std::string(std::strerror(errno)));
}

EmptyProgs::~EmptyProgs() {
  empty_bpf::destroy(skel_);
}

int EmptyProgs::xdp_fd() const {
  return bpf_program__fd(skel_->progs.empty_xdp);
}
int EmptyProgs::tc_fd() const {
  return bpf_program__fd(skel_->progs.empty_tc);
}

}  // namespace netacct::bench
