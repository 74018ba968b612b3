// SPDX-License-Identifier: GPL-2.0-only
// Every link type, and no silent generic XDP.
//
// - A tun device (L3: no link-layer header) in a test namespace, its far
//   end a reflector thread of this process (tests/support/tun.hpp): IPv4
//   and IPv6, both directions, exact against the socket's counts. Each
//   datagram is echoed twice, so rx and tx differ and a swap shows.
// - --xdp where native XDP is unavailable: a bridge (Ethernet, no native
//   XDP in its driver) and the tun device fall back to TC ingress, said in
//   the report, the log and the JSON; --xdp=native refuses; --xdp=generic
//   attaches generic XDP and says so.
#include <doctest/doctest.h>
#include <signal.h>

#include "daemon/engine/netns.hpp"
#include "tests/integration/it_common.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/tun.hpp"

namespace netacct::test {

namespace {

constexpr const char* kTun = "natun0";

struct TunSide {
  std::string v4_local, v4_peer, v6_local, v6_peer;
};

TunSide tun_addresses(const Topology& topo) {
  const std::string n = std::to_string(topo.index());
  return {"10.201." + n + ".1", "10.201." + n + ".2", "fd00:201:" + n + "::1",
          "fd00:201:" + n + "::2"};
}

std::unique_ptr<Datapath> open_for(const std::string& tag, uint32_t framing) {
  DatapathOptions options;
  options.tag = tag;
  options.flow_capacity = 4096;
  options.whitelist_capacity = 64;
  options.link_framing = framing;
  auto opened = Datapath::open(options);
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? std::string() : opened.error().message()));
  return std::move(opened.value());
}

// Echo exchange over the tun device: `count` datagrams out, 2 x count back.
// Returns the counters the socket's truth implies for the flow.
netacct_counters echo_exact(const Topology& topo, const std::string& local, const std::string& peer,
                            uint16_t port, uint32_t count, uint32_t payload) {
  EchoResult echo = udp_echo(topo.a().netns, local, peer, port, count, payload, 2);
  REQUIRE(echo.sent == count);
  REQUIRE(echo.received == 2 * uint64_t{count});
  REQUIRE(echo.received_bytes == 2 * uint64_t{count} * payload);
  return udp_expect(local, static_cast<uint32_t>(echo.sent), payload,
                    static_cast<uint32_t>(echo.received), payload);
}

void check_tun_exact(const Topology& topo, Harvester& harvester, uint16_t port) {
  TunSide t = tun_addresses(topo);
  (void)harvest(harvester);  // start from empty buffers
  netacct_counters want4 = echo_exact(topo, t.v4_local, t.v4_peer, port, 300, 200);
  netacct_counters want6 = echo_exact(topo, t.v6_local, t.v6_peer, port + 2, 200, 1000);
  Delta delta = harvest(harvester);
  CHECK(flow_of(delta, t.v4_local, t.v4_peer, IPPROTO_UDP) == want4);
  CHECK(flow_of(delta, t.v6_local, t.v6_peer, IPPROTO_UDP) == want6);
  // Everything on a tun device is IP: nothing may land in these buckets.
  CHECK(delta.buckets[NETACCT_BUCKET_NON_IP] == netacct_counters{});
  CHECK(delta.buckets[NETACCT_BUCKET_MALFORMED] == netacct_counters{});
}

// A's veth becomes the port of a bridge that carries A's addresses: an
// Ethernet device whose driver has no native XDP.
Interface make_bridge(const Topology& topo) {
  const std::string ip = "ip -n " + topo.a().netns + " ";
  const std::string br = " dev nabr0";
  run_ok(ip + "link add nabr0 address " + topo.a().mac + " type bridge && " + ip +
         "addr flush dev " + topo.a().ifname + " && " + ip + "link set " + topo.a().ifname +
         " master nabr0 && " + ip + "addr add " + topo.a().ipv4 + "/24" + br + " && " + ip +
         "addr add " + topo.a().ipv6 + "/64" + br + " nodad && " + ip + "link set nabr0 up && " +
         ip + "neigh replace " + topo.b().ipv4 + " lladdr " + topo.b().mac + br +
         " nud permanent && " + ip + "neigh replace " + topo.b().ipv6 + " lladdr " + topo.b().mac +
         br + " nud permanent");
  return {"nabr0", topo.a().netns};
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) n++;
  return n;
}

// Runs netacctd on `ifname` in A's namespace until its first export.
void start_on(DaemonProcess& daemon, const Topology& topo, const std::string& ifname,
              const std::string& tag, const std::string& xdp_flag, const std::string& output,
              const std::string& log) {
  std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag",   tag,
                                   "--interval",  "0.5",          "--debug", "--no-metrics"};
  if (!xdp_flag.empty()) args.push_back(xdp_flag);
  args.push_back(ifname);
  args.push_back(output);
  daemon.start(args, log);
  bool ready = wait_until(
      [&] {
        return (count_of(read_text(log), "counting on") > 0 &&
                !read_source(output, tag).is_null()) ||
               !daemon.running();
      },
      15000);
  std::string text = read_text(log);
  INFO("daemon log:\n" << text);
  REQUIRE(ready);
  REQUIRE(daemon.running());
}

void stop(DaemonProcess& daemon, const std::string& log) {
  daemon.signal(SIGTERM);
  int code = daemon.wait(15000);
  std::string text = read_text(log);
  INFO("daemon log:\n" << text);
  CHECK(code == 0);
}

}  // namespace

TEST_CASE("tun (no link-layer header): TC counts IPv4 and IPv6 both directions exactly") {
  Topology topo;
  TunSide t = tun_addresses(topo);
  TunReflector reflector(topo.a().netns, kTun, t.v4_local, t.v4_peer, t.v6_local, t.v6_peer, 2);
  Interface iface{kTun, topo.a().netns};
  auto type = link_type(iface);
  IT_REQUIRE_OK(type);
  CHECK(type->arphrd == 65534);  // ARPHRD_NONE
  CHECK(type->framing == NETACCT_LINK_IP);

  TagGuard tag("tun-tc");
  auto datapath = open_for(tag.tag(), type->framing);
  auto report = attach_all(*datapath, iface, IngressMode::Tc);
  IT_REQUIRE_OK(report);
  Harvester harvester(*datapath);
  check_tun_exact(topo, harvester, 42100);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface));
}

TEST_CASE("tun: programs loaded for Ethernet miscount it (what the framing fixes)") {
  Topology topo;
  TunSide t = tun_addresses(topo);
  TunReflector reflector(topo.a().netns, kTun, t.v4_local, t.v4_peer, t.v6_local, t.v6_peer, 2);
  Interface iface{kTun, topo.a().netns};
  TagGuard tag("tun-eth");
  auto datapath = open_for(tag.tag(), NETACCT_LINK_ETHERNET);
  IT_REQUIRE_OK(attach_all(*datapath, iface, IngressMode::Tc));
  Harvester harvester(*datapath);
  (void)harvest(harvester);
  echo_exact(topo, t.v4_local, t.v4_peer, 42200, 50, 200);
  Delta delta = harvest(harvester);
  CHECK(flow_of(delta, t.v4_local, t.v4_peer, IPPROTO_UDP) == netacct_counters{});
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface));
}

TEST_CASE("tun: --xdp falls back to TC ingress, --xdp=native refuses, --xdp=generic counts") {
  Topology topo;
  TunSide t = tun_addresses(topo);
  TunReflector reflector(topo.a().netns, kTun, t.v4_local, t.v4_peer, t.v6_local, t.v6_peer, 2);
  Interface iface{kTun, topo.a().netns};
  TagGuard tag("tun-xdp");
  auto datapath = open_for(tag.tag(), NETACCT_LINK_IP);
  Harvester harvester(*datapath);

  auto report = attach_all(*datapath, iface, IngressMode::Xdp, XdpRequest::Auto);
  IT_REQUIRE_OK(report);
  CHECK(report->ingress == IngressMode::Tc);
  CHECK(report->xdp_mode == XdpMode::None);
  CHECK(report->fallback.find("no link-layer header") != std::string::npos);
  auto status = query_attachments(datapath->pin_path(), iface);
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress);
  CHECK(status->xdp == XdpMode::None);
  check_tun_exact(topo, harvester, 42300);

  auto native = attach_all(*datapath, iface, IngressMode::Xdp, XdpRequest::Native);
  REQUIRE_FALSE(native.ok());
  CHECK(native.error().err == EOPNOTSUPP);
  CHECK(native.error().message().find("no link-layer header") != std::string::npos);
  CHECK(native.error().message().find('\n') == std::string::npos);
  MESSAGE("--xdp=native on tun: " << native.error().message());

  auto generic = attach_all(*datapath, iface, IngressMode::Xdp, XdpRequest::Generic);
  IT_REQUIRE_OK(generic);
  CHECK(generic->ingress == IngressMode::Xdp);
  CHECK(generic->xdp_mode == XdpMode::Generic);
  status = query_attachments(datapath->pin_path(), iface);
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == XdpMode::Generic);
  CHECK_FALSE(status->tc_ingress);
  // Generic XDP on an L3 device sees the IP header first, as TC does.
  check_tun_exact(topo, harvester, 42400);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface));
}

TEST_CASE("bridge (no native XDP): --xdp falls back to TC, --xdp=generic attaches generic") {
  Topology topo;
  Interface bridge = make_bridge(topo);
  auto type = link_type(bridge);
  IT_REQUIRE_OK(type);
  CHECK(type->framing == NETACCT_LINK_ETHERNET);
  TagGuard tag("br-xdp");
  auto datapath = open_for(tag.tag(), NETACCT_LINK_ETHERNET);
  Harvester harvester(*datapath);

  auto report = attach_all(*datapath, bridge, IngressMode::Xdp, XdpRequest::Auto);
  IT_REQUIRE_OK(report);
  CHECK(report->ingress == IngressMode::Tc);
  CHECK(report->xdp_mode == XdpMode::None);
  CHECK(report->fallback.find("no native XDP") != std::string::npos);
  MESSAGE("--xdp on a bridge: " << report->fallback);
  auto status = query_attachments(datapath->pin_path(), bridge);
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress);
  CHECK(status->xdp == XdpMode::None);  // never silently generic
  exchange_and_check(topo, harvester, false, 42500);
  exchange_and_check(topo, harvester, true, 42501);

  auto native = attach_xdp(*datapath, bridge, XdpMode::Native);
  REQUIRE_FALSE(native.ok());
  CHECK(native.error().err == EOPNOTSUPP);
  CHECK(native.error().message().find("no native XDP") != std::string::npos);

  auto generic = attach_all(*datapath, bridge, IngressMode::Xdp, XdpRequest::Generic);
  IT_REQUIRE_OK(generic);
  CHECK(generic->xdp_mode == XdpMode::Generic);
  exchange_and_check(topo, harvester, false, 42502);

  // From generic XDP back to plain --xdp: the generic link goes, TC counts.
  auto again = attach_all(*datapath, bridge, IngressMode::Xdp, XdpRequest::Auto);
  IT_REQUIRE_OK(again);
  CHECK(again->ingress == IngressMode::Tc);
  CHECK(again->fallback.find("no native XDP") != std::string::npos);
  status = query_attachments(datapath->pin_path(), bridge);
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress);
  CHECK(status->xdp == XdpMode::None);
  exchange_and_check(topo, harvester, true, 42503);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), bridge));
}

TEST_CASE("daemon: --xdp on a bridge falls back to TC (logged, ingress_mode tc in the JSON)") {
  for (const char* flag : {"--xdp", "--xdp=generic"}) {
    bool generic = std::string(flag) == "--xdp=generic";
    INFO(flag);
    Topology topo;  // a fresh one: the programs stay attached after SIGTERM
    make_bridge(topo);
    TagGuard tag(generic ? "dbr-gen" : "dbr-xdp");
    std::string dir = make_temp_dir("netacct-it");
    std::string output = dir + "/out.json", log = dir + "/daemon.log";
    DaemonProcess daemon;
    start_on(daemon, topo, "nabr0", tag.tag(), flag, output, log);
    const uint32_t n = 400, p = 300;
    udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv4, n, p, 42600);
    udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv4, n + 1, p + 1, 42601);
    stop(daemon, log);
    std::string text = read_text(log);
    INFO("daemon log:\n" << text);
    boost::json::value source = read_source(output, tag.tag());
    REQUIRE(source.is_object());
    const auto& meta = source.at("metadata");
    if (generic) {
      CHECK(meta.at("ingress_mode") == "xdp");
      CHECK(meta.at("xdp_mode") == "generic");
      CHECK(text.find("XDP attached (generic mode)") != std::string::npos);
      CHECK(text.find("xdp ingress mode generic") != std::string::npos);
    } else {
      CHECK(meta.at("ingress_mode") == "tc");
      CHECK(meta.at("xdp_mode") == "none");
      CHECK(text.find("no native XDP in the driver") != std::string::npos);
      CHECK(text.find("counting ingress with TC instead") != std::string::npos);
    }
    netacct_counters v4 = flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP");
    CHECK(v4.tx_packets == n);
    CHECK(v4.tx_bytes == n * udp_ip_bytes(topo.b().ipv4, p));
    CHECK(v4.rx_packets == n + 1);
    CHECK(v4.rx_bytes == (n + 1) * udp_ip_bytes(topo.a().ipv4, p + 1));
    run("rm -rf " + dir);
  }
}

TEST_CASE("daemon: --xdp on tun counts with TC ingress, both directions exact") {
  Topology topo;
  TunSide t = tun_addresses(topo);
  TunReflector reflector(topo.a().netns, kTun, t.v4_local, t.v4_peer, t.v6_local, t.v6_peer, 2);
  TagGuard tag("dtun");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_on(daemon, topo, kTun, tag.tag(), "--xdp", output, log);
  netacct_counters want4 = echo_exact(topo, t.v4_local, t.v4_peer, 42700, 300, 200);
  netacct_counters want6 = echo_exact(topo, t.v6_local, t.v6_peer, 42702, 200, 1000);
  stop(daemon, log);
  std::string text = read_text(log);
  INFO("daemon log:\n" << text);
  CHECK(text.find("link type none (tun, wireguard), ip framing") != std::string::npos);
  boost::json::value source = read_source(output, tag.tag());
  REQUIRE(source.is_object());
  CHECK(source.at("metadata").at("ingress_mode") == "tc");
  CHECK(flow_counters(source, t.v4_local, t.v4_peer, "UDP") == want4);
  CHECK(flow_counters(source, t.v6_local, t.v6_peer, "UDP") == want6);
  run("rm -rf " + dir);
}

}  // namespace netacct::test
