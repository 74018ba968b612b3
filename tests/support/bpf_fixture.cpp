// SPDX-License-Identifier: GPL-2.0-only
#include "bpf_fixture.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstring>
#include <stdexcept>

namespace netacct::test {

namespace {

DatapathOptions capacities(uint32_t flow_capacity, uint32_t whitelist_capacity,
                           uint32_t link_framing) {
  DatapathOptions options;
  options.flow_capacity = flow_capacity;
  options.whitelist_capacity = whitelist_capacity;
  options.link_framing = link_framing;
  return options;
}

}  // namespace

BpfFixture::BpfFixture(uint32_t flow_capacity, uint32_t whitelist_capacity, uint32_t link_framing)
    : BpfFixture(capacities(flow_capacity, whitelist_capacity, link_framing)) {}

BpfFixture::BpfFixture(DatapathOptions options) {
  options.tag = "test";
  options.pin = false;
  auto opened = Datapath::open(options);
  if (!opened) throw std::runtime_error(opened.error().message());
  datapath_ = std::move(opened.value());
  harvester_ = std::make_unique<Harvester>(*datapath_);
}

int BpfFixture::prog_fd(Hook hook) const {
  switch (hook) {
    case Hook::XdpIngress: return datapath_->xdp_ingress_fd();
    case Hook::TcIngress: return datapath_->tc_ingress_fd();
    case Hook::TcEgress: return datapath_->tc_egress_fd();
  }
  return -1;
}

int BpfFixture::try_run(Hook hook, const std::vector<uint8_t>& frame, uint32_t repeat,
                        const SkbMeta* skb, int* retval) {
  std::vector<uint8_t> frame_copy = frame;
  std::vector<uint8_t> out(frame.size() + 256);
  __sk_buff ctx{};
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = frame_copy.data();
  opts.data_size_in = static_cast<uint32_t>(frame_copy.size());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<uint32_t>(out.size());
  opts.repeat = static_cast<int>(repeat);
  if (hook != Hook::XdpIngress && skb) {
    ctx.gso_segs = skb->gso_segs;
    ctx.gso_size = skb->gso_size;
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
  }
  if (int err = bpf_prog_test_run_opts(prog_fd(hook), &opts); err != 0) return err;
  if (retval) *retval = static_cast<int>(opts.retval);
  return 0;
}

int BpfFixture::run(Hook hook, const std::vector<uint8_t>& frame, uint32_t repeat,
                    const SkbMeta* skb) {
  int retval = 0;
  if (int err = try_run(hook, frame, repeat, skb, &retval); err != 0)
    throw std::runtime_error("BPF_PROG_TEST_RUN failed: " + std::string(std::strerror(-err)));
  return retval;
}

Delta BpfFixture::harvest() {
  auto delta = harvester_->harvest();
  if (!delta) throw std::runtime_error(delta.error().message());
  return std::move(delta.value());
}

void BpfFixture::whitelist(const std::string& prefix, uint32_t match) {
  netacct_wl_key key{};
  std::string address = prefix;
  int length = -1;
  if (auto slash = prefix.find('/'); slash != std::string::npos) {
    address = prefix.substr(0, slash);
    length = std::stoi(prefix.substr(slash + 1));
  }
  if (inet_pton(AF_INET, address.c_str(), key.addr) == 1) {
    key.family = NETACCT_FAMILY_IPV4;
    if (length < 0) length = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), key.addr) == 1) {
    key.family = NETACCT_FAMILY_IPV6;
    if (length < 0) length = 128;
  } else {
    throw std::invalid_argument(prefix);
  }
  key.prefixlen = NETACCT_WL_KEY_PREFIX_BITS + static_cast<uint32_t>(length);
  netacct_wl_value value{match, 0};
  if (bpf_map_update_elem(datapath_->whitelist_fd(), &key, &value, BPF_ANY) != 0)
    throw std::runtime_error("whitelist insert failed: " + std::string(std::strerror(errno)));
  whitelist_entries_++;
  datapath_->runtime().whitelist_entries = whitelist_entries_;
  if (match & NETACCT_WL_MATCH_LOCAL) datapath_->runtime().local_match = 1;
  datapath_->next_key_generation();
}

const FlowDelta* find_flow(const Delta& delta, const std::string& local, const std::string& remote,
                           uint8_t protocol, uint16_t prefix) {
  netacct_flow_key key{};
  if (!make_flow_key(local, remote, protocol, key)) return nullptr;
  key.pad = prefix;
  for (const FlowDelta& flow : delta.flows)
    if (flow.key == key) return &flow;
  return nullptr;
}

}  // namespace netacct::test
