# netacct build. `make` builds everything under $(BUILD); `make test` and
# `make bench` build what they need first, so on a fresh machine `make test`
# alone does all set-up (after `make deps`, which it also runs).
BUILD ?= build
# `make` alone builds everything (the first rule below would otherwise win).
.DEFAULT_GOAL := all
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

CXX ?= g++
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH_TRIPLET := $(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
# The version the binaries print and `make deb` packages: debian/changelog's,
# unless given (`make deb VERSION=0.1.1`).
CHANGELOG_VERSION := $(shell head -1 debian/changelog 2>/dev/null | cut -d' ' -f2 | tr -d '()')
VERSION ?= $(CHANGELOG_VERSION)

# Sanitizer builds trade optimisation and full debug info for build time
# (they exist for the storm tests; -g1 keeps file:line in reports).
SAN ?= 0
ifeq ($(SAN),0)
CXXFLAGS ?= -O2 -g
else
CXXFLAGS ?= -O1 -g1
endif
CXXFLAGS += -std=c++20 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -I$(BUILD)/bpf -I$(BUILD)/gen -I. -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -Wall -Wextra -Werror -I/usr/include/$(ARCH_TRIPLET) -Ibpf
NL_CFLAGS := -I/usr/include/libnl3
CXXFLAGS += $(NL_CFLAGS)

# SAN=1: ASan + UBSan; SAN=thread: TSan. Use a BUILD of its own for each.
SAN ?= 0
ifeq ($(SAN),1)
# -Wno-maybe-uninitialized: g++ 12 at -O1 with ASan reports std::regex and
# std::function internals (a known false positive).
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -Wno-maybe-uninitialized
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
CXXFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
# SAN=fuzz (with CXX=clang++-14): libFuzzer coverage + ASan + UBSan for the
# harnesses of tests/fuzz/; `make fuzz` sets it up in $(BUILD)-fuzz.
ifeq ($(SAN),fuzz)
CXXFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined -Wno-error
LDFLAGS += -fsanitize=address,undefined
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all binaries man deb deb-lint FORCE deps run sanitized test test-unit test-bpf test-integration soak bench clean format lint help

# ---- sources and libraries -----------------------------------------------
# Each layer is a static library with one job (docs/DESIGN.md draws them);
# every binary links only the libraries, and external libraries, it uses.
#   common  Result, fds, files, logging, flow/delta data     (libc, Boost.JSON)
#   pin     /sys/fs/bpf/netacct/<tag>                         (common)
#   config  instance configuration, whitelist parsing, examples (common, pin)
#   engine  load, attach, swap, drain                         (libbpf, libnl)
#   ledger  exactly-once protocol, SQLite store, JSON export, reader (SQLite)
#   loop    libuv handle ownership                            (libuv)
#   export  IPFIX records, libfixbuf sessions, exporter threads (common, libfixbuf)
COMMON_SRCS := $(wildcard daemon/common/*.cpp)
PIN_SRCS := $(wildcard pin/*.cpp)
CONFIG_SRCS := $(wildcard daemon/config/*.cpp)
ENGINE_SRCS := $(wildcard daemon/engine/*.cpp)
LEDGER_SRCS := $(wildcard daemon/ledger/*.cpp)
LOOP_SRCS := $(wildcard daemon/loop/*.cpp)
EXPORT_SRCS := $(wildcard daemon/export/*.cpp)
DAEMON_SRCS := $(filter-out daemon/main.cpp,$(wildcard daemon/*.cpp)) $(wildcard daemon/metrics/*.cpp)
UNIT_SRCS := $(wildcard tests/unit/*.cpp)
BPFTEST_SRCS := $(wildcard tests/bpf/*.cpp)
INTEG_SRCS := $(wildcard tests/integration/*.cpp)
SOAK_SRCS := $(wildcard tests/soak/*.cpp)
BENCH_SRCS := $(wildcard tools/bench/*.cpp)
SUPPORT_SRCS := $(wildcard tests/support/*.cpp)
# netacct-multi's modules (all but its main) are unit-tested too.
MULTI_LIB_SRCS := $(filter-out tools/multi/main.cpp,$(wildcard tools/multi/*.cpp))

obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(1))
SKELS := $(BUILD)/bpf/netacct.skel.h $(BUILD)/bpf/empty.skel.h
lib = $(BUILD)/lib/libnetacct_$(1).a
LIB_COMMON := $(call lib,common)
LIB_PIN := $(call lib,pin)
LIB_CONFIG := $(call lib,config)
LIB_ENGINE := $(call lib,engine)
LIB_LEDGER := $(call lib,ledger)
LIB_LOOP := $(call lib,loop)
LIB_EXPORT := $(call lib,export)
ALL_LIBS := $(LIB_COMMON) $(LIB_PIN) $(LIB_CONFIG) $(LIB_ENGINE) $(LIB_LEDGER) $(LIB_LOOP) \
            $(LIB_EXPORT)

# External libraries, per layer.
EXT_COMMON := -lboost_json
EXT_ENGINE := -lbpf -lnl-route-3 -lnl-3 -lelf -lz
EXT_LEDGER := -lsqlite3
EXT_LOOP := -luv -lpthread
EXT_METRICS := -lprometheus-cpp-core -lhttp_parser
# libfixbuf (and its glib) only for the export layer: its headers stay in
# daemon/export/*.cpp.
FIXBUF_CFLAGS := $(shell pkg-config --cflags libfixbuf 2>/dev/null)
EXT_EXPORT := $(shell pkg-config --libs libfixbuf 2>/dev/null || echo -lfixbuf)
EXT_SYSTEMD := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
EXT_ALL := $(EXT_ENGINE) $(EXT_LEDGER) $(EXT_LOOP) $(EXT_METRICS) $(EXT_EXPORT) $(EXT_SYSTEMD) \
           $(EXT_COMMON)
# Library order for the linker: users before what they use.
LINK_ALL := $(LIB_EXPORT) $(LIB_LEDGER) $(LIB_CONFIG) $(LIB_ENGINE) $(LIB_PIN) $(LIB_LOOP) \
            $(LIB_COMMON)

# Operator tools: tools/netacct-NAME/*.cpp becomes $(BUILD)/bin/netacct-NAME;
# TOOL_LIBS_netacct-NAME / TOOL_EXT_netacct-NAME say what each links.
TOOL_NAMES := $(sort $(notdir $(patsubst %/,%,$(wildcard tools/netacct-*/))) \
                     $(basename $(notdir $(wildcard tools/netacct-*.cpp))))
TOOL_BINS := $(addprefix $(BUILD)/bin/,$(TOOL_NAMES))
tool_srcs = $(wildcard tools/$(1)/*.cpp tools/$(1).cpp)
TOOL_LIBS_netacct-cleanup := $(LIB_CONFIG) $(LIB_ENGINE) $(LIB_PIN) $(LIB_COMMON)
TOOL_EXT_netacct-cleanup := $(EXT_ENGINE) $(EXT_COMMON)
TOOL_LIBS_netacct-health := $(LIB_LEDGER) $(LIB_CONFIG) $(LIB_ENGINE) $(LIB_PIN) $(LIB_COMMON)
TOOL_EXT_netacct-health := $(EXT_ENGINE) $(EXT_LEDGER) $(EXT_COMMON)

# netacct: the operator's command (status; the ledger's history queries).
# It links no libbpf: the kernel-side checks are netacct-health's.
NETACCT_LIBS := $(LIB_LEDGER) $(LIB_CONFIG) $(LIB_PIN) $(LIB_COMMON)
$(BUILD)/bin/netacct: $(call obj,$(wildcard tools/netacct/*.cpp)) $(NETACCT_LIBS)
	$(Q)$(call LINK,$(NETACCT_LIBS) $(EXT_LEDGER) $(EXT_COMMON))
TOOL_BINS += $(BUILD)/bin/netacct

all: $(ALL_LIBS) $(if $(wildcard daemon/main.cpp),$(BUILD)/bin/netacctd) \
     $(BUILD)/tests/unit_tests $(BUILD)/tests/bpf_tests $(BUILD)/tests/integration_tests \
     $(BUILD)/tests/soak_tests $(if $(BENCH_SRCS),$(BUILD)/bin/netacct-bench) $(TOOL_BINS)

# The binaries an installation holds (`make deb` builds only these).
INSTALL_NAMES := netacctd netacct $(TOOL_NAMES) $(if $(wildcard tools/multi/main.cpp),netacct-multi)
binaries: $(addprefix $(BUILD)/bin/,$(INSTALL_NAMES))

# ---- manual pages (scdoc) --------------------------------------------------
# docs/man/NAME.SECTION.scd -> $(BUILD)/man/manSECTION/NAME.SECTION (a MANPATH
# directory: `MANPATH=$(BUILD)/man man netacctd` reads the build's pages).
MAN_SRCS := $(wildcard docs/man/*.scd)
man_page = $(BUILD)/man/man$(subst .,,$(suffix $(1)))/$(1)
MAN_PAGES := $(foreach src,$(MAN_SRCS),$(call man_page,$(basename $(notdir $(src)))))
man: $(MAN_PAGES)
all: $(if $(shell command -v scdoc),$(MAN_PAGES))

define man_rule
$(BUILD)/man/man$(1)/%.$(1): docs/man/%.$(1).scd
	@mkdir -p $$(dir $$@)
	@echo "  SCDOC   $$@"
	$$(Q)scdoc < $$< > $$@
endef
$(eval $(call man_rule,1))
$(eval $(call man_rule,8))

# ---- dependencies (Debian packages only) -------------------------------
deps:
	$(Q)./tools/install-deps.sh

# ---- BPF -----------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.h | $(BUILD)/bpf
	@echo "  BPF     $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/bpf:
	$(Q)mkdir -p $@

# Benchmark only: the same programs with per-CPU flow values and no atomics,
# to measure that alternative (tools/bench/bench_percpu.cpp).
$(BUILD)/bpf/netacct_percpu.bpf.o: bpf/netacct.bpf.c bpf/*.h | $(BUILD)/bpf
	@echo "  BPF     $@"
	$(Q)$(CLANG) $(BPF_CFLAGS) -DNETACCT_PERCPU_VALUES -c $< -o $@

$(call obj,tools/bench/bench_percpu.cpp): $(BUILD)/bpf/netacct_percpu.skel.h

# ---- C++ -----------------------------------------------------------------
$(BUILD)/obj/%.o: %.cpp $(SKELS) | $(BUILD)/gen/netacct_version.h
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

# Rewritten only when VERSION changes: the objects that include it (their .d
# files say which) recompile then, and nothing else does.
$(BUILD)/gen/netacct_version.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)line='#define NETACCT_VERSION "$(VERSION)"'; \
	  if [ -z "$(VERSION)" ]; then line='/* no VERSION: version.hpp has the default */'; fi; \
	  if [ "$$(cat $@ 2>/dev/null)" != "$$line" ]; then echo "$$line" > $@; fi
FORCE:

define lib_rule
$(call lib,$(1)): $$(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@echo "  AR      $$@"
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(eval $(call lib_rule,common,$(COMMON_SRCS)))
$(eval $(call lib_rule,pin,$(PIN_SRCS)))
$(eval $(call lib_rule,config,$(CONFIG_SRCS)))
$(eval $(call lib_rule,engine,$(ENGINE_SRCS)))
$(eval $(call lib_rule,ledger,$(LEDGER_SRCS)))
$(eval $(call lib_rule,loop,$(LOOP_SRCS)))
$(eval $(call lib_rule,export,$(EXPORT_SRCS)))
$(call obj,$(EXPORT_SRCS)): CXXFLAGS += $(FIXBUF_CFLAGS)

LINK = mkdir -p $(dir $@); echo "  LD      $@"; $(CXX) $(LDFLAGS) -o $@ $(filter %.o,$^) $(1)

$(BUILD)/bin/netacctd: $(call obj,daemon/main.cpp $(DAEMON_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

$(BUILD)/tests/unit_tests: $(call obj,$(UNIT_SRCS) $(DAEMON_SRCS) $(MULTI_LIB_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

$(BUILD)/tests/bpf_tests: $(call obj,$(BPFTEST_SRCS) $(SUPPORT_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

$(BUILD)/tests/integration_tests: $(call obj,$(INTEG_SRCS) $(SUPPORT_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

$(BUILD)/tests/soak_tests: $(call obj,$(SOAK_SRCS) $(SUPPORT_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

$(BUILD)/bin/netacct-bench: $(call obj,$(BENCH_SRCS) $(SUPPORT_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

define tool_rule
$(BUILD)/bin/$(1): $$(call obj,$$(call tool_srcs,$(1))) $$(TOOL_LIBS_$(1))
	$$(Q)$$(call LINK,$$(TOOL_LIBS_$(1)) $$(TOOL_EXT_$(1)))
endef
$(foreach tool,$(TOOL_NAMES),$(eval $(call tool_rule,$(tool))))

# ---- install, uninstall, cleanup, check ----------------------------------
# `make install [PREFIX=/usr/local] [DESTDIR=]`: binaries into $(PREFIX)/bin,
# the unit into $(PREFIX)/lib/systemd/system (systemd reads both /usr/lib and
# /usr/local/lib), example configs into /etc/netacct (an existing file is
# kept), the logrotate snippet into /etc/logrotate.d. The BPF objects are
# embedded in the binaries (skeletons): nothing else is needed at run time.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/netacct
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
CONFIG_EXAMPLES := $(wildcard config/*.json)
# AppArmor profile, SELinux module, sysctl.d example: documentation, not activated.
SECURITY_FILES := config/apparmor/usr.local.bin.netacctd config/selinux/netacctd.te \
                  config/selinux/netacctd.fc config/sysctl.d/60-netacct-hardening.conf
DOCS := README.md docs/DESIGN.md
.PHONY: install uninstall cleanup check

install: $(addprefix $(BUILD)/bin/,$(INSTALL_NAMES)) $(MAN_PAGES)
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/netacct $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	$(Q)for name in $(INSTALL_NAMES); do \
	  echo "  INSTALL $(DESTDIR)$(BINDIR)/$$name"; \
	  install -m 0755 $(BUILD)/bin/$$name $(DESTDIR)$(BINDIR)/$$name || exit 1; done
	@echo "  INSTALL $(DESTDIR)$(UNITDIR)/netacctd@.service"
	$(Q)sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/usr/local/share/doc/netacct|$(DOCDIR)|g' \
	  systemd/netacctd@.service > $(DESTDIR)$(UNITDIR)/netacctd@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/netacctd@.service
	$(Q)install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	$(Q)for page in $(MAN_PAGES); do \
	  install -m 0644 $$page $(DESTDIR)$(MANDIR)/man$${page##*.}/ || exit 1; done
	$(Q)install -m 0644 config/bash-completion/netacct $(DESTDIR)$(COMPLETIONDIR)/netacct
	$(Q)for name in $(filter-out netacct,$(INSTALL_NAMES)); do \
	  ln -sf netacct $(DESTDIR)$(COMPLETIONDIR)/$$name || exit 1; done
	$(Q)install -d $(DESTDIR)$(DOCDIR)/security
	$(Q)install -m 0644 SECURITY.md $(SECURITY_FILES) $(DESTDIR)$(DOCDIR)/security/
	$(Q)install -m 0644 config/logrotate.d/netacct $(DESTDIR)$(SYSCONFDIR)/logrotate.d/netacct
	$(Q)for file in $(CONFIG_EXAMPLES); do \
	  target=$(DESTDIR)$(SYSCONFDIR)/netacct/$$(basename $$file); \
	  if [ -e "$$target" ]; then echo "  KEEP    $$target (exists)"; \
	  else echo "  INSTALL $$target"; install -m 0644 $$file "$$target" || exit 1; fi; done

# Removes what install wrote; a config under /etc/netacct goes only while it
# is still the shipped example (an edited one stays).
uninstall:
	$(Q)for name in $(INSTALL_NAMES); do rm -f $(DESTDIR)$(BINDIR)/$$name; done
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)/security
	$(Q)rm -f $(DESTDIR)$(UNITDIR)/netacctd@.service $(DESTDIR)$(SYSCONFDIR)/logrotate.d/netacct \
	  $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
	  $(foreach page,$(notdir $(MAN_PAGES)),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(page)))/$(page)) \
	  $(addprefix $(DESTDIR)$(COMPLETIONDIR)/,$(INSTALL_NAMES))
	$(Q)for file in $(CONFIG_EXAMPLES); do \
	  target=$(DESTDIR)$(SYSCONFDIR)/netacct/$$(basename $$file); \
	  if [ -e "$$target" ] && ! cmp -s $$file "$$target"; then echo "  KEEP    $$target (edited)"; \
	  else rm -f "$$target"; fi; done
	$(Q)rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/netacct 2>/dev/null || true
	@echo "  removed netacct from $(DESTDIR)$(PREFIX) and $(DESTDIR)$(SYSCONFDIR)"

# `make cleanup [TAGS="a b"]`: remove the programs, filters and pins of
# those tags (all when none), even while a daemon runs.
cleanup: $(BUILD)/bin/netacct-cleanup
	$(Q)$(BUILD)/bin/netacct-cleanup --force --verbose $(TAGS)

# `make check`: what this host lacks to run netacct, in plain words.
check:
	$(Q)BUILD=$(BUILD) ./tools/check-host.sh

# ---- Debian package --------------------------------------------------------
# `make deb [VERSION=x.y.z]`: $(BUILD)/deb/netacct_<version>_<arch>.deb, built
# by debhelper (debian/rules) in a build tree of its own, $(BUILD)/deb/tree,
# with Debian's hardening flags; a second `make deb` only relinks what
# changed. `make deb-lint` runs lintian on it.
DEB_DIR := $(BUILD)/deb
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_FILE := $(DEB_DIR)/netacct_$(VERSION)_$(DEB_ARCH).deb
deb:
	@mkdir -p $(DEB_DIR)
	@echo "  DEB     $(DEB_FILE)"
	$(Q)BUILD_DIR=$(abspath $(DEB_DIR))/tree DEB_OUT=$(abspath $(DEB_DIR)) \
	  $(if $(filter-out $(CHANGELOG_VERSION),$(VERSION)),DEB_VERSION_OVERRIDE=$(VERSION)) \
	  $(if $(filter 0,$(shell id -u)),,fakeroot) debian/rules binary $(if $(filter 1,$(V)),,>$(DEB_DIR)/build.log 2>&1) \
	  || { tail -40 $(DEB_DIR)/build.log 2>/dev/null; exit 1; }
	$(Q)rm -rf debian/.debhelper debian/debhelper-build-stamp debian/files debian/netacct \
	  debian/*.substvars debian/*.debhelper.log debian/*.debhelper
	$(Q)test -f $(DEB_FILE) && echo "  built   $(DEB_FILE)"

deb-lint: deb
	$(Q)lintian --no-tag-display-limit $(DEB_FILE)

# ---- running ---------------------------------------------------------------
# `make run`: the demo (own namespaces, own traffic, live table).
# `make run IFACE=veth0 [NS=blue] [XDP=1] [ARGS=...]`: netacctd on that interface.
run: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bin/netacctd
ifeq ($(IFACE),)
	$(Q)BUILD=$(BUILD) ./tools/netacct-demo.sh $(if $(XDP),--xdp) $(SECONDS)
else
	$(Q)$(BUILD)/bin/netacctd $(if $(XDP),--xdp) $(if $(NS),--namespace $(NS)) $(ARGS) $(IFACE)
endif

# ---- tests and benchmark -------------------------------------------------
# netacct-bench too: the --help test (test_docs.cpp) runs every binary.
TEST_BINS := $(BUILD)/tests/unit_tests $(BUILD)/tests/bpf_tests $(BUILD)/tests/integration_tests \
             $(BUILD)/tests/soak_tests $(if $(BENCH_SRCS),$(BUILD)/bin/netacct-bench) \
             $(if $(wildcard daemon/main.cpp),$(BUILD)/bin/netacctd) $(TOOL_BINS)

# netacctd built with TSan and with ASan+UBSan, each in a build of its own:
# the integration suite's sanitizer storm runs them (tests/integration/test_sanitizers.cpp).
SANITIZED := $(BUILD)-tsan/bin/netacctd $(BUILD)-asan/bin/netacctd
JOBS ?= $(shell nproc)

sanitized:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(BUILD)-tsan SAN=thread $(BUILD)-tsan/bin/netacctd
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(BUILD)-asan SAN=1 $(BUILD)-asan/bin/netacctd

test: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) $(TEST_BINS)
	$(Q)$(MAKE) --no-print-directory sanitized
	$(Q)BUILD=$(BUILD) ./tests/run-all.sh

test-unit: $(BUILD)/tests/unit_tests
	$(Q)$(BUILD)/tests/unit_tests

test-bpf: $(BUILD)/tests/bpf_tests
	$(Q)$(BUILD)/tests/bpf_tests

test-integration: $(BUILD)/tests/integration_tests sanitized
	$(Q)$(BUILD)/tests/integration_tests

# The soak (tests/soak/soak.cpp): SOAK_S seconds of traffic under random
# faults, then exact totals; `make test` runs a 60 s variant.
SOAK_S ?= 300
soak: deps $(BUILD)/tests/soak_tests $(BUILD)/bin/netacctd
	$(Q)SOAK_S=$(SOAK_S) $(BUILD)/tests/soak_tests

bench: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bin/netacct-bench
	$(Q)$(BUILD)/bin/netacct-bench

clean:
	rm -rf $(BUILD) $(BUILD)-tsan $(BUILD)-asan $(BUILD)-fuzz

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' 'bpf/*.c' 'bpf/*.h')

lint:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp' 'bpf/*.c' 'bpf/*.h')

help:
	@echo "netacct make targets:"
	@echo "  all            build BPF objects, skeletons, library, binaries, tests (default)"
	@echo "  deps           install Debian packages and mount bpffs when absent"
	@echo "  run            demo in its own namespaces; IFACE=dev [NS=ns] [XDP=1] runs netacctd"
	@echo "  debug          like run, netacctd with --debug (debug log and live table)"
	@echo "  multi-run      netacct-multi on MULTI_CONFIG (default config/multi_accounting_config.json)"
	@echo "  examples       write example whitelist.json and multi_accounting_config.json into config/"
	@echo "  verify         load every BPF program through the verifier, report instruction counts"
	@echo "  check          report what this host lacks (kernel, BTF, bpffs, clsact, capabilities)"
	@echo "  cleanup        remove netacct programs, filters and pins [TAGS=\"a b\"] (all tags when none)"
	@echo "  install        binaries, systemd unit, example configs, logrotate, man pages, bash"
	@echo "                 completion [PREFIX=/usr/local DESTDIR=]"
	@echo "  man            manual pages from docs/man/*.scd into $(BUILD)/man"
	@echo "  deb            Debian package $(BUILD)/deb/netacct_VERSION_ARCH.deb [VERSION=]; deb-lint: lintian"
	@echo "  uninstall      remove what install wrote (edited configs stay)"
	@echo "  test           run every test suite; last line: N passed, N failed"
	@echo "  test-unit | test-bpf | test-integration   one suite"
	@echo "  soak           SOAK_S (300) seconds of traffic under random faults; exact totals at the end"
	@echo "  bench          kernel-measured ns/packet and harvest rate, vs empty programs"
	@echo "  fuzz           libFuzzer on every parser of outside input, FUZZ_S=60 s each [FUZZ=name]"
	@echo "  fuzz-replay    replay the committed corpora (regression cases) once"
	@echo "  test-asan      unit and integration suites built with ASan+UBSan"
	@echo "  format | lint  clang-format the C++ sources / check them"
	@echo "  clean          remove $(BUILD)/"
	@echo "  help           this list"
	@echo "Variables: BUILD=dir V=1 SAN=1 (ASan/UBSan) SAN=thread (TSan) IFACE NS XDP ARGS MULTI_CONFIG TAGS PREFIX DESTDIR VERSION"

# ---- netacct-multi, netacct-verify and their targets ---------------------
MULTI_BINS := $(BUILD)/bin/netacct-multi $(BUILD)/bin/netacct-verify
all: $(MULTI_BINS)
TEST_BINS += $(MULTI_BINS)
MULTI_CONFIG ?= config/multi_accounting_config.json
.PHONY: debug examples multi-run verify

MULTI_LIBS := $(LIB_LEDGER) $(LIB_CONFIG) $(LIB_PIN) $(LIB_COMMON)
$(BUILD)/bin/netacct-multi: $(call obj,tools/multi/main.cpp $(MULTI_LIB_SRCS)) $(MULTI_LIBS)
	$(Q)$(call LINK,$(MULTI_LIBS) $(EXT_LEDGER) $(EXT_LOOP) $(EXT_COMMON))

VERIFY_LIBS := $(LIB_ENGINE) $(LIB_PIN) $(LIB_COMMON)
$(BUILD)/bin/netacct-verify: $(call obj,$(wildcard tools/verify/*.cpp)) $(VERIFY_LIBS)
	$(Q)$(call LINK,$(VERIFY_LIBS) $(EXT_ENGINE) $(EXT_COMMON))

# `make debug`: netacctd --debug (debug log and live table) on IFACE=dev [NS=ns] [XDP=1];
# without IFACE the demo, whose netacctd already runs with --debug.
debug: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bin/netacctd
ifeq ($(IFACE),)
	$(Q)BUILD=$(BUILD) ./tools/netacct-demo.sh $(if $(XDP),--xdp) $(SECONDS)
else
	$(Q)$(BUILD)/bin/netacctd --debug $(if $(XDP),--xdp) $(if $(NS),--namespace $(NS)) $(ARGS) $(IFACE)
endif

examples: $(BUILD)/bin/netacctd
	$(Q)$(BUILD)/bin/netacctd --create-examples --config-dir config

multi-run: $(BUILD)/bin/netacctd $(BUILD)/bin/netacct-multi
	$(Q)if [ ! -f "$(MULTI_CONFIG)" ]; then \
	  echo "make multi-run: $(MULTI_CONFIG) does not exist; 'make examples' writes an example to edit" >&2; \
	  exit 2; fi
	$(Q)$(BUILD)/bin/netacct-multi $(ARGS) $(MULTI_CONFIG)

verify: $(BUILD)/bin/netacct-verify
	$(Q)$(BUILD)/bin/netacct-verify

# ---- fuzzing ---------------------------------------------------------------
# `make fuzz`: each harness of tests/fuzz/ runs FUZZ_S seconds (default 60)
# from its committed seed corpus tests/fuzz/corpus/NAME/ (new inputs go to a
# scratch copy), then prints time, executions and corpus size. FUZZ=name
# runs one. A crash stops with the reproducer in $(BUILD)-fuzz/crashes/NAME/;
# commit it into the corpus: `make fuzz-replay` (a `make test` step) runs
# every corpus file once. fuzz_bpf needs root (BPF_PROG_TEST_RUN).
FUZZ_CXX ?= clang++-14
FUZZ_S ?= 60
FUZZ_NAMES := $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.cpp))))
FUZZ ?= $(FUZZ_NAMES)
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
.PHONY: fuzz fuzz-build fuzz-replay test-asan

$(BUILD)/fuzz/fuzz_%: $(call obj,tests/fuzz/fuzz_%.cpp $(SUPPORT_SRCS) $(MULTI_LIB_SRCS) $(DAEMON_SRCS)) $(LINK_ALL)
	$(Q)mkdir -p $(dir $@); echo "  LD      $@"
	$(Q)$(CXX) $(LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(LINK_ALL) $(EXT_ALL)

# The same harnesses in the normal build, driven by replay_main.cpp: `make
# test` replays every committed corpus once (tests/run-all.sh).
REPLAY_BINS := $(addprefix $(BUILD)/tests/replay/,$(FUZZ_NAMES))
TEST_BINS += $(REPLAY_BINS)
$(BUILD)/tests/replay/fuzz_%: $(call obj,tests/fuzz/fuzz_%.cpp tests/fuzz/replay_main.cpp $(SUPPORT_SRCS) $(MULTI_LIB_SRCS) $(DAEMON_SRCS)) $(LINK_ALL)
	$(Q)$(call LINK,$(LINK_ALL) $(EXT_ALL))

fuzz-build:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(BUILD)-fuzz SAN=fuzz CXX=$(FUZZ_CXX) \
	  $(addprefix $(BUILD)-fuzz/fuzz/,$(FUZZ))

fuzz: fuzz-build
	$(Q)BUILD=$(BUILD)-fuzz FUZZ_S=$(FUZZ_S) ./tests/fuzz/run.sh $(FUZZ)

fuzz-replay: fuzz-build
	$(Q)BUILD=$(BUILD)-fuzz ./tests/fuzz/run.sh --replay $(FUZZ)

# ASan + UBSan builds of the unit and integration suites (CI runs this
# after `make test`); the daemon they start is the ASan build too.
test-asan: deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) BUILD=$(BUILD)-asan SAN=1 \
	  $(BUILD)-asan/tests/unit_tests $(BUILD)-asan/tests/integration_tests \
	  $(BUILD)-asan/bin/netacctd $(BUILD)-asan/bin/netacct \
	  $(addprefix $(BUILD)-asan/bin/,$(TOOL_NAMES) netacct-multi netacct-verify netacct-bench)
	$(Q)BUILD=$(BUILD)-asan ./tests/run-asan.sh

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
