// SPDX-License-Identifier: GPL-2.0-only
#include <doctest/doctest.h>

#include "daemon/common/flow.hpp"
#include "pin/pin_dir.hpp"

using namespace netacct;

TEST_CASE("tags are validated before they touch a path") {
  CHECK(pin::valid_tag("veth0"));
  CHECK(pin::valid_tag("host-1_a"));
  CHECK(pin::valid_tag(std::string(32, 'a')));
  CHECK_FALSE(pin::valid_tag(""));
  CHECK_FALSE(pin::valid_tag(std::string(33, 'a')));
  CHECK_FALSE(pin::valid_tag("../etc"));
  CHECK_FALSE(pin::valid_tag("a/b"));
  CHECK_FALSE(pin::valid_tag("Eth0"));
  CHECK(pin::tag_error("a/b").find("'a/b'") != std::string::npos);
}

TEST_CASE("flow keys are built from text addresses") {
  netacct_flow_key key{};
  REQUIRE(make_flow_key("10.0.0.1", "10.0.0.2", 17, key));
  CHECK(key.family == NETACCT_FAMILY_IPV4);
  CHECK(address_string(key.family, key.local) == "10.0.0.1");
  CHECK(address_string(key.family, key.remote) == "10.0.0.2");
  REQUIRE(make_flow_key("fd00::1", "fd00::2", 6, key));
  CHECK(key.family == NETACCT_FAMILY_IPV6);
  CHECK(address_string(key.family, key.remote) == "fd00::2");
  CHECK_FALSE(make_flow_key("10.0.0.1", "fd00::2", 6, key));
  CHECK_FALSE(make_flow_key("10.0.0.300", "10.0.0.2", 6, key));
  CHECK(protocol_name(6) == "TCP");
  CHECK(protocol_name(200) == "200");
  CHECK(bucket_name(NETACCT_BUCKET_OVERFLOW_V6) == "overflow_v6");
}
