# SPDX-License-Identifier: ISC
# meshkit: build, test, install, demo, bench, fuzz.
#
#   make            every program into bin/
#   make check      install what the tests need, build, run every test
#   make check-asan the same under AddressSanitizer and UBSan
#   make fuzz       run every fuzz target (FUZZ_SECONDS each)
#   make bench      the benchmark (BENCH_QUICK=1 for a short one)
#   make demo       run the example mesh in the foreground
#   make install    PREFIX=/usr/local DESTDIR= (programs, man pages;
#                   examples, systemd units and the supervisor bundle
#                   under PREFIX/share/meshkit; the sysusers.d file, and
#                   as root without DESTDIR the user meshkit)

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/meshkit
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

CC	?= cc
BUILD	?= build
BIN	?= bin
SAN	?=
FUZZ_SECONDS ?= 60
# parallel jobs of the builds check, check-asan, fuzz, bench and demo run
JOBS	?= $(shell nproc 2>/dev/null || echo 2)

PKGS	 = libevent_core libevent_extra libevent_pthreads \
	   yaml-0.1 libssl \
	   libcrypto libpcre2-8
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = -Wl,--as-needed $(shell pkg-config --libs $(PKGS)) -lnng -lpthread

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CFLAGS	?= -O2 -g
ifeq ($(SAN),1)
CFLAGS	 = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib $(PKG_CFLAGS)

PROGRAMS = proxy-d route-d breaker-d authz-d tls-d stats-d meshctl
LIB_SRCS = $(sort $(wildcard lib/*.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBMESHKIT = $(BUILD)/libmeshkit.a

UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# what the unit tests share (tests/unit/helpers.h), linked into each
UNIT_HELPERS = $(BUILD)/tests/unit/helpers.o
TOOL_SRCS = $(sort $(wildcard tests/tools/*.c))
TOOL_BINS = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/%)
FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
EXAMPLE_SRCS = $(sort $(wildcard examples/*.c))
EXAMPLE_BINS = $(EXAMPLE_SRCS:examples/%.c=$(BIN)/%)

# keep the objects of chained rules (tests, tools) between runs
.SECONDARY:

.PHONY: all deps check check-asan test-progs run-tests fuzz fuzz-build \
	bench demo install uninstall clean lint

all: $(PROGRAMS:%=$(BIN)/%) $(EXAMPLE_BINS)

deps:
	@./scripts/install-deps

# -MMD: every object depends on exactly the headers it includes
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(LIBMESHKIT): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

define program_rule
$(BIN)/$(1): $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard cmd/$(1)/*.c)) $(LIBMESHKIT)
	@mkdir -p $(BIN)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# the graph page goes in by the assembler's .incbin
$(BUILD)/cmd/stats-d/page.o: cmd/stats-d/page.html

$(BIN)/%: $(BUILD)/examples/%.o $(LIBMESHKIT)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A unit test of a program's own files names the objects it links, as
# OpenBGPD's regress compiles daemon files into its tests:
# TEST_OBJS_test_x = cmd/program/file.o ...  (the test stubs the rest)
TEST_OBJS_test_proxy_head  = cmd/proxy-d/head.o
TEST_OBJS_test_proxy_stage = cmd/proxy-d/stage.o
TEST_OBJS_test_proxy_key   = cmd/proxy-d/key.o
TEST_OBJS_test_proxy_tlsio = cmd/proxy-d/tlsio.o
TEST_OBJS_test_proxy_evmem = cmd/proxy-d/evmem.o

$(BUILD)/tests/unit/test_proxy_%.o: ALL_CFLAGS += -Icmd/proxy-d

.SECONDEXPANSION:
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(UNIT_HELPERS) \
    $$(addprefix $(BUILD)/,$$(TEST_OBJS_test_$$*)) $(LIBMESHKIT)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(LIBMESHKIT)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

test-progs: all $(UNIT_BINS) $(TOOL_BINS)

# The README's test command: everything a fresh Debian 12 needs, then
# every unit, fuzz-smoke and end-to-end test.
check: deps
	$(MAKE) -j$(JOBS) test-progs
	$(MAKE) -j$(JOBS) fuzz-build
	MESHKIT_BIN=$(BIN) MESHKIT_BUILD=$(BUILD) tests/run

check-asan: deps
	$(MAKE) -j$(JOBS) BUILD=build/asan BIN=build/asan/bin SAN=1 test-progs
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	MESHKIT_SANITIZED=1 \
	MESHKIT_BIN=build/asan/bin MESHKIT_BUILD=build/asan tests/run

run-tests: test-progs
	MESHKIT_BIN=$(BIN) MESHKIT_BUILD=$(BUILD) tests/run

# libFuzzer targets, built with clang: the library once, instrumented
# for coverage and the sanitizers (libmeshkit-fuzz.a), then each target
# linked against it with libFuzzer's main.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Ilib $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_LIB = $(BUILD)/fuzz/libmeshkit-fuzz.a
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)

$(BUILD)/fuzz/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# a target of a program's own files names them, as the unit tests do
FUZZ_OBJS_fuzz_proxy_head = cmd/proxy-d/head.o
$(BUILD)/fuzz/obj/tests/fuzz/fuzz_proxy_%.o: FUZZ_CFLAGS += -Icmd/proxy-d

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o \
    $$(addprefix $(BUILD)/fuzz/obj/,$$(FUZZ_OBJS_fuzz_$$*)) $(FUZZ_LIB)
	clang $(FUZZ_LDFLAGS) -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	$(MAKE) -j$(JOBS) fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) MESHKIT_BUILD=$(BUILD) tests/fuzz/run

bench: deps
	$(MAKE) -j$(JOBS) test-progs
	MESHKIT_BIN=$(BIN) MESHKIT_BUILD=$(BUILD) scripts/bench

demo: deps
	$(MAKE) -j$(JOBS) all
	MESHKIT_BIN=$(BIN) MESHKIT_BUILD=$(BUILD) scripts/demo run

lint:
	mandoc -Tlint -Wwarning man/*.[1-9]

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/examples \
	    $(DESTDIR)$(DATADIR)/examples/walkthrough \
	    $(DESTDIR)$(DATADIR)/systemd $(DESTDIR)$(DATADIR)/supervisor \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 $(BIN)/proxy-d $(BIN)/route-d $(BIN)/breaker-d \
	    $(BIN)/authz-d $(BIN)/tls-d $(BIN)/stats-d $(DESTDIR)$(SBINDIR)/
	install -m 755 $(BIN)/meshctl $(DESTDIR)$(BINDIR)/
	for f in man/*.5; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(MANDIR)/man5/; done; true
	for f in man/*.7; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(MANDIR)/man7/; done; true
	for f in man/*.8; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(MANDIR)/man8/; done; true
	# examples, not live config: /etc/meshkit is the operator's
	for f in etc/meshkit/*.yaml etc/bookstore/*.yaml etc/quickstart/*.yaml; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(DATADIR)/examples/; done; true
	for f in etc/bookstore/walkthrough/*; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(DATADIR)/examples/walkthrough/; done; true
	for f in etc/systemd/*; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(DATADIR)/systemd/; done; true
	for f in etc/supervisor/*; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(DATADIR)/supervisor/; done; true
	install -m 644 etc/sysusers.d/meshkit.conf $(DESTDIR)$(SYSUSERSDIR)/
	# the daemons' user: created here only on this system, never when
	# staging into DESTDIR (a package runs systemd-sysusers instead)
	@if [ -z "$(DESTDIR)" ]; then scripts/install-user; else \
	    echo "DESTDIR: the user meshkit is left to systemd-sysusers"; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/proxy-d $(DESTDIR)$(SBINDIR)/route-d \
	    $(DESTDIR)$(SBINDIR)/breaker-d $(DESTDIR)$(SBINDIR)/authz-d \
	    $(DESTDIR)$(SBINDIR)/tls-d $(DESTDIR)$(SBINDIR)/stats-d \
	    $(DESTDIR)$(BINDIR)/meshctl \
	    $(DESTDIR)$(SYSUSERSDIR)/meshkit.conf

clean:
	rm -rf $(BUILD) $(BIN)
