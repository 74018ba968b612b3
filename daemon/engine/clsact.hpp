// SPDX-License-Identifier: GPL-2.0-only
// The clsact qdisc netacct creates when an interface has none, and its
// removal. netacct records each clsact it created as a marker in the tag's
// pin directory (pin::kClsactMarkerPrefix), keyed by the namespace's
// identity and the ifindex, so that any later process (netacct-cleanup,
// --cleanup-on-exit, a refused start's rollback) knows which qdiscs are
// netacct's to remove. A clsact is removed only when netacct created it and
// no filter at all remains on it, ingress or egress; one someone else
// created is never touched.
#pragma once

#include <string>
#include <vector>

#include "../common/result.hpp"

namespace netacct {

// Must run inside the interface's namespace (a NetnsScope).
// The marker's name for `ifindex` in the current namespace.
std::string clsact_marker(int ifindex);
// Records that this tag created the clsact of `ifindex` (pin_path "" : no-op).
Result<void> note_clsact_created(const std::string& pin_path, int ifindex);

struct ClsactState {
  bool present = false;
  size_t filters = 0;  // ingress + egress
};
Result<ClsactState> clsact_state(int ifindex);

// For every clsact marker of the tag pinned at pin_path: deletes the qdisc
// when it holds no filter, and drops the marker when the qdisc (or its
// interface or namespace) is gone. A qdisc that still holds filters stays,
// and so does its marker. Returns one line per qdisc removed or kept.
Result<std::vector<std::string>> remove_created_clsact(const std::string& pin_path);

}  // namespace netacct
