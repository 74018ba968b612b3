// SPDX-License-Identifier: GPL-2.0-only
// A loaded, unpinned datapath plus helpers to run crafted frames through its
// programs with BPF_PROG_TEST_RUN and harvest what they counted.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "daemon/engine/datapath.hpp"
#include "daemon/engine/harvester.hpp"

namespace netacct::test {

enum class Hook { XdpIngress, TcIngress, TcEgress };

struct SkbMeta {
  uint32_t gso_segs = 0;
  uint32_t gso_size = 0;
};

class BpfFixture {
 public:
  explicit BpfFixture(uint32_t flow_capacity = 1024, uint32_t whitelist_capacity = 1024,
                      uint32_t link_framing = NETACCT_LINK_ETHERNET);
  // Any options; tag and pin are forced to the unpinned test datapath.
  explicit BpfFixture(DatapathOptions options);

  Datapath& datapath() { return *datapath_; }
  Harvester& harvester() { return *harvester_; }
  int prog_fd(Hook hook) const;
  // Runs the frame through the hook `repeat` times; returns the program's
  // return value. Fails the test if the kernel refuses the run.
  int run(Hook hook, const std::vector<uint8_t>& frame, uint32_t repeat = 1,
          const SkbMeta* skb = nullptr);
  // Like run(), but returns 0 or the kernel's negative errno instead of
  // failing; the program's return value goes to *retval on success.
  int try_run(Hook hook, const std::vector<uint8_t>& frame, uint32_t repeat, const SkbMeta* skb,
              int* retval);
  Delta harvest();
  // Adds a whitelist prefix straight into the trie and enables lookups.
  void whitelist(const std::string& prefix, uint32_t match);

 private:
  std::unique_ptr<Datapath> datapath_;
  std::unique_ptr<Harvester> harvester_;
  uint32_t whitelist_entries_ = 0;
};

// Finds the flow in a delta; nullptr if absent. A non-zero prefix finds
// the prefix row of that remote prefix (remote given as its network).
const FlowDelta* find_flow(const Delta& delta, const std::string& local, const std::string& remote,
                           uint8_t protocol, uint16_t prefix = 0);

}  // namespace netacct::test
