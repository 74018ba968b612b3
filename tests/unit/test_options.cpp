// SPDX-License-Identifier: GPL-2.0-only
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "daemon/config/options.hpp"

using namespace netacct;

namespace {

Result<DaemonOptions> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "netacctd");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(args.size()), argv.data());
}

std::string write_temp(const std::string& content) {
  char path[] = "/tmp/netacct-unit-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

}  // namespace

TEST_CASE("positional arguments and flags follow the seed") {
  auto opts = parse({"--xdp", "--namespace", "blue", "-i", "2.5", "veth1", "out.json", "wl.json"});
  REQUIRE(opts.ok());
  CHECK(opts->xdp);
  CHECK(opts->netns == "blue");
  CHECK(opts->interval == doctest::Approx(2.5));
  CHECK(opts->interface == "veth1");
  CHECK(opts->output_file == "out.json");
  CHECK(opts->whitelist_file == "wl.json");
  opts->log_dir = "/logs";
  opts->config_dir = "/conf";
  REQUIRE(finalize_options(opts.value()).ok());
  CHECK(opts->tag == "blue-veth1");
  CHECK(opts->output_file == "/logs/out.json");    // bare name -> log dir
  CHECK(opts->whitelist_file == "/conf/wl.json");  // bare name -> config dir
}

TEST_CASE("paths with a slash are used as given") {
  CHECK(resolve_path("/abs/x.json", "/logs") == "/abs/x.json");
  CHECK(resolve_path("rel/x.json", "/logs") == "rel/x.json");
  CHECK(resolve_path("x.json", "/logs") == "/logs/x.json");
}

TEST_CASE("bad command lines give one clear error naming the culprit") {
  auto unknown = parse({"--bogus", "veth0"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message().find("--bogus") != std::string::npos);
  auto interval = parse({"--interval", "abc", "veth0"});
  REQUIRE_FALSE(interval.ok());
  CHECK(interval.error().message().find("abc") != std::string::npos);
  auto flows = parse({"--max-flows", "0", "veth0"});
  REQUIRE_FALSE(flows.ok());
  CHECK(flows.error().message().find("--max-flows") != std::string::npos);
  auto many = parse({"a", "b", "c", "d"});
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().message().find("'d'") != std::string::npos);
  auto missing = parse({"--tag"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("--tag") != std::string::npos);
  auto empty_tag = parse({"--tag", "", "veth0"});
  REQUIRE_FALSE(empty_tag.ok());
  CHECK(empty_tag.error().message().find("--tag: the tag must not be empty") != std::string::npos);
  std::string empty = write_temp(R"({"interface": "veth0", "tag": ""})");
  auto empty_in_config = parse({"--config", empty});
  REQUIRE_FALSE(empty_in_config.ok());
  CHECK(empty_in_config.error().message().find("'tag' must not be empty") != std::string::npos);
  unlink(empty.c_str());

  auto no_iface = parse({});
  REQUIRE(no_iface.ok());
  CHECK_FALSE(finalize_options(no_iface.value()).ok());
  auto bad_tag = parse({"--tag", "Bad/Tag", "veth0"});
  REQUIRE(bad_tag.ok());
  auto finalized = finalize_options(bad_tag.value());
  REQUIRE_FALSE(finalized.ok());
  CHECK(finalized.error().message().find("Bad/Tag") != std::string::npos);
}

TEST_CASE("--config reads one instance object; flags win over it") {
  std::string path = write_temp(R"({"tag": "host", "namespace": null, "interface": "veth9",
    "output_file": "host.json", "whitelist_file": "host_wl.json", "xdp": true, "debug": false,
    "interval": 3, "max_flows": 1000})");
  auto opts = parse({"--config", path, "--interval", "7"});
  REQUIRE(opts.ok());
  CHECK(opts->tag == "host");
  CHECK(opts->interface == "veth9");
  CHECK(opts->xdp);
  CHECK(opts->max_flows == 1000);
  CHECK(opts->interval == doctest::Approx(7));
  unlink(path.c_str());
}

TEST_CASE("config errors name the file, the line or the field") {
  std::string broken = write_temp("{\n  \"tag\": \"x\",\n  \"interface\": \n}\n");
  auto parsed = parse({"--config", broken});
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message().find(broken + ":4:") != std::string::npos);
  unlink(broken.c_str());

  std::string typed = write_temp(R"({"interface": "veth0", "xdp": "yes"})");
  auto wrong_type = parse({"--config", typed});
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error().message().find("'xdp'") != std::string::npos);
  unlink(typed.c_str());

  std::string unknown = write_temp(R"({"interface": "veth0", "colour": "red"})");
  auto unknown_key = parse({"--config", unknown});
  REQUIRE_FALSE(unknown_key.ok());
  CHECK(unknown_key.error().message().find("'colour'") != std::string::npos);
  unlink(unknown.c_str());

  auto missing = parse({"--config", "/nonexistent/netacct.json"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("/nonexistent/netacct.json") != std::string::npos);
}

TEST_CASE("derived tags are valid tags") {
  CHECK(derive_tag("", "veth0") == "veth0");
  CHECK(derive_tag("Blue", "veth.1") == "blue-veth-1");
  CHECK(derive_tag("/proc/123/ns/net", "veth0") == "net-veth0");
  CHECK(derive_tag("", std::string(40, 'a')).size() == 32);
}

TEST_CASE("--retention sets each history level; bad ones name the item") {
  auto parsed = parse({"--retention", "5min=12h,hour=7d,month=forever", "veth0"});
  REQUIRE(parsed.ok());
  CHECK(parsed->retention.five_minutes == 12 * 3600);
  CHECK(parsed->retention.hour == 7 * 86400);
  CHECK(parsed->retention.day == 400 * 86400);  // default kept
  CHECK(parsed->retention.month == 0);
  for (const char* bad : {"week=1d", "hour=", "hour=5x", "hour=-1d", "hour=3dd"}) {
    auto refused = parse({"--retention", bad, "veth0"});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message().find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("--xdp takes an optional mode; --xdp-generic is --xdp=generic") {
  auto plain = parse({"--xdp", "veth1"});
  REQUIRE(plain.ok());
  CHECK(plain->xdp);
  CHECK_FALSE(plain->xdp_native);
  CHECK_FALSE(plain->xdp_generic);
  auto native = parse({"--xdp=native", "veth1"});
  REQUIRE(native.ok());
  CHECK(native->xdp);
  CHECK(native->xdp_native);
  CHECK_FALSE(native->xdp_generic);
  for (const char* generic_flag : {"--xdp=generic", "--xdp-generic"}) {
    INFO(generic_flag);
    auto generic = parse({generic_flag, "veth1"});
    REQUIRE(generic.ok());
    CHECK(generic->xdp);
    CHECK(generic->xdp_generic);
    CHECK_FALSE(generic->xdp_native);
  }
  auto wrong = parse({"--xdp=fast", "veth1"});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message().find("--xdp must be native or generic") != std::string::npos);

  std::string config = write_temp(R"({"interface": "veth0", "xdp": "generic"})");
  auto from_file = parse({"--config", config.c_str()});
  REQUIRE(from_file.ok());
  CHECK(from_file->xdp);
  CHECK(from_file->xdp_generic);
}

TEST_CASE("ipfix: --ipfix is repeatable, takes udp:/tcp: and [IPV6]:PORT; the config key too") {
  auto opts = parse({"--ipfix", "127.0.0.1:4739", "--ipfix", "tcp:[::1]:4740", "--ipfix",
                     "udp:collector.example:2055", "--ipfix-template-refresh", "30", "veth0"});
  REQUIRE(opts.ok());
  REQUIRE(opts->ipfix.size() == 3);
  CHECK(opts->ipfix[0].transport == CollectorTransport::Udp);
  CHECK(opts->ipfix[0].host == "127.0.0.1");
  CHECK(opts->ipfix[0].port == "4739");
  CHECK(opts->ipfix[1].transport == CollectorTransport::Tcp);
  CHECK(opts->ipfix[1].host == "::1");
  CHECK(opts->ipfix[1].text == "tcp:[::1]:4740");
  CHECK(opts->ipfix[2].host == "collector.example");
  CHECK(opts->ipfix_template_refresh == doctest::Approx(30));
  for (const char* bad : {"4739", "host:", "tcp:host:0", "[::1:4739", ":4739", "host:99999"}) {
    INFO(bad);
    auto refused = parse({"--ipfix", bad, "veth0"});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message().find("--ipfix") != std::string::npos);
  }
  std::string one = write_temp(R"({"interface": "veth0", "ipfix": "10.0.0.9:4739"})");
  auto single = parse({"--config", one});
  REQUIRE(single.ok());
  REQUIRE(single->ipfix.size() == 1);
  CHECK(single->ipfix[0].host == "10.0.0.9");
  std::string two = write_temp(
      R"({"interface": "veth0", "ipfix": ["10.0.0.9:4739", "tcp:10.0.0.8:4739"],
          "ipfix_template_refresh": 60})");
  auto pair = parse({"--config", two});
  REQUIRE(pair.ok());
  REQUIRE(pair->ipfix.size() == 2);
  CHECK(pair->ipfix[1].transport == CollectorTransport::Tcp);
  CHECK(pair->ipfix_template_refresh == doctest::Approx(60));
  std::string wrong = write_temp(R"({"interface": "veth0", "ipfix": 4739})");
  auto refused = parse({"--config", wrong});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("'ipfix'") != std::string::npos);
  ::unlink(one.c_str());
  ::unlink(two.c_str());
  ::unlink(wrong.c_str());
}

TEST_CASE("options: a parse that stopped inside a cluster of short flags leaves nothing behind") {
  // Regression (fuzz_options, a use after free): "-Qd" fails at Q with d
  // still pending; the next parse must not see that d.
  CHECK_FALSE(parse({"-Qd", "veth0"}).ok());
  auto next = parse({"veth0"});
  REQUIRE(next.ok());
  CHECK_FALSE(next->debug);
  CHECK(next->interface == "veth0");
}
