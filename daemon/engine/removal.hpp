// SPDX-License-Identifier: GPL-2.0-only
// Removing a tag's attachments one by one, as netacct-cleanup does after
// discover_attachments(): only what belongs to the tag pinned at pin_path
// is ever touched (a tc filter is ours by program name *and* the tag's
// active_flows map; the XDP and tcx links by their pins).
#pragma once

#include <string>

#include "../common/result.hpp"
#include "clsact.hpp"
#include "discover.hpp"

namespace netacct {

Result<void> remove_attachment(const FoundAttachment& found, const std::string& pin_path);

// After the attachments: remove_created_clsact(pin_path) (clsact.hpp) drops
// the clsact qdiscs the tag created that nothing else uses any more.

}  // namespace netacct
