# exim-greylist: see README. Targets: all deps check demo bench latency fuzz
# install uninstall deb clean
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
B       ?= build
SAN     ?=
SO      ?= module/greylist.so
ADMIN   ?= tools/greylist-admin

# Packagers: WERROR= builds without -Werror, OPT= leaves optimisation and
# hardening to CFLAGS, CPPFLAGS and LDFLAGS (debian/rules does both).
WERROR  ?= -Werror
WARN    = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes $(WERROR)
ifeq ($(FUZZ),1)
OPT     = -O1 -g -fno-omit-frame-pointer \
          -fsanitize=fuzzer-no-link,address,undefined
else ifeq ($(SAN),1)
OPT     = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=undefined
else
OPT     = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
endif
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE -fPIC $(OPT) $(WARN)
CPPFLAGS ?=
LDFLAGS += $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined)
comma   := ,
LIBS    = -lcidr -lgdbm -lhiredis -llmdb
# The module links only libcidr: it loads the store library the
# configuration names when it first opens the store (module/core/lazylib.h),
# by the soname found here.
MODULE_LIBS = -lcidr
soname  = $(shell objdump -p "$$($(CC) -print-file-name=lib$(1).so)" 2>/dev/null | \
            awk '$$1 == "SONAME" { print $$2 }')
S_GDBM  := $(call soname,gdbm)
S_LMDB  := $(call soname,lmdb)
S_REDIS := $(call soname,hiredis)
SONAME_DEFS = $(if $(S_GDBM),-DGL_SONAME_GDBM='"$(S_GDBM)"') \
              $(if $(S_LMDB),-DGL_SONAME_LMDB='"$(S_LMDB)"') \
              $(if $(S_REDIS),-DGL_SONAME_REDIS='"$(S_REDIS)"')

CORE_SRC = $(wildcard module/core/*.c)
CORE_HDR = $(wildcard module/core/*.h)
CORE_OBJ = $(CORE_SRC:module/core/%.c=$(B)/core/%.o)
CORE_LIB = $(B)/libglcore.a
UNIT_SRC = $(wildcard tests/unit/test_*.c)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 120
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELPERS  = $(B)/tests/gl-hammer $(B)/tests/gl-holdlock $(B)/tests/gl-poke \
           $(B)/tests/gl-smtp \
           $(B)/tests/gl-load $(B)/tests/gl-storebench $(B)/tests/gl-floor.so \
           $(B)/tests/gl-conncost $(B)/tests/gl-nametime

# Debian packages. DEB_PKGS: what building and running need ("make deps").
# The others are what a target adds for itself: tests, demo, benchmark,
# fuzzing, the package build.
DEB_PKGS   = gcc make libc6-dev exim4-daemon-heavy exim4-dev libcidr-dev \
             libgdbm-dev libjansson-dev libhiredis-dev liblmdb-dev \
             libpsl-dev publicsuffix libpcre2-dev
CHECK_PKGS = libcmocka-dev swaks iproute2 redis-server redis-sentinel clang \
             libclang-rt-14-dev valgrind postgrey prometheus \
             python3-prometheus-client dnsmasq-base strace
DEMO_PKGS  = iproute2
BENCH_PKGS = libcmocka-dev iproute2 greylistd postgrey redis-server
LATENCY_PKGS = iproute2 dnsmasq-base
FUZZ_PKGS  = clang libclang-rt-14-dev
DEB_BUILD_PKGS = debhelper dpkg-dev fakeroot

.PHONY: print-sonames all deps check check-deps demo bench latency fuzz fuzzers \
        install uninstall deb clean units FORCE

all: $(SO) $(ADMIN)

# The store libraries' sonames (debian/rules: the package depends on the
# packages that ship them).
print-sonames:
	@echo $(S_GDBM) $(S_LMDB) $(S_REDIS)

$(B)/core/%.o: module/core/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/core/lazylib.o: CPPFLAGS += $(SONAME_DEFS)

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

# The module exports only greylist() and greylist_version(); -z now makes
# a missing Exim symbol fail at dlopen() rather than at the first RCPT.
# Exim's own symbols (log_write, string_copy_function) resolve against
# the exim binary. Of the libraries, only libcidr is linked (MODULE_LIBS).
$(SO): module/greylist.c $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden -isystem /usr/include/exim4 -shared \
	  -Wl,-z,now -Wl,-z,relro -Wl,--exclude-libs,ALL -o $@ module/greylist.c $(CORE_LIB) \
	  $(LDFLAGS) $(MODULE_LIBS)

ADMIN_SRC = $(wildcard tools/admin/*.c)
$(ADMIN): $(ADMIN_SRC) tools/admin/admin.h $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(ADMIN_SRC) $(CORE_LIB) $(LDFLAGS) \
	  $(LIBS) -ljansson

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(CORE_LIB) $(LDFLAGS) \
	  $(LIBS) -lcmocka

$(B)/tests/gl-load: tests/bench/gl-load.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lpthread

# The benchmark's floor: a ${dlfunc} with the module's name, arguments and
# yields, and its table in the Exim process's memory (tests/bench/gl-floor.c).
$(B)/tests/gl-floor.so: tests/bench/gl-floor.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden -isystem /usr/include/exim4 -shared \
	  -Wl,-z,now -o $@ $< $(LDFLAGS)

# Exports log_write and string_copy_function to the module it loads.
$(B)/tests/gl-conncost: tests/bench/gl-conncost.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -rdynamic -o $@ $< $(LDFLAGS)

$(B)/tests/gl-storebench: tests/bench/gl-storebench.c $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_LIB) $(LDFLAGS) $(LIBS)

$(B)/tests/gl-%: tests/tools/gl-%.c $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_LIB) $(LDFLAGS) $(LIBS)

units: $(UNIT_BIN) $(HELPERS)

# libFuzzer targets (clang), built against a core built for them.
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_HDR) FORCE
	$(MAKE) B=build/fuzz CC=clang FUZZ=1 build/fuzz/libglcore.a
	clang -std=c11 -D_GNU_SOURCE -O1 -g $(WARN) \
	  -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libglcore.a \
	  $(LIBS)

fuzzers: $(FUZZ_BIN)

FORCE:

deps:
	@sh tests/deps.sh install $(DEB_PKGS)

check-deps:
	@sh tests/deps.sh install $(DEB_PKGS) $(CHECK_PKGS)

# Builds twice (plain, and with AddressSanitizer and UBSan) and runs the
# whole suite against each; the last line is "N passed, N failed".
check: check-deps
	$(MAKE) all units
	$(MAKE) B=build/san SAN=1 SO=build/san/greylist.so \
	  ADMIN=build/san/greylist-admin build/san/greylist.so \
	  build/san/greylist-admin units
	$(MAKE) fuzzers
	@sh tests/run.sh

demo:
	@sh tests/deps.sh install $(DEB_PKGS) $(DEMO_PKGS)
	$(MAKE) all
	@sh tests/demo.sh

# Benchmarks against Exim alone, greylistd and postgrey; see README.
bench:
	@sh tests/deps.sh install $(DEB_PKGS) $(BENCH_PKGS)
	$(MAKE) all units
	@sh tests/bench/bench.sh

# How long real senders wait: their published retry schedules replayed
# through real Exim daemons and a real DNS server in private namespaces,
# time scaled by LATENCY_SCALE (default 60); see README.
latency:
	@sh tests/deps.sh install $(DEB_PKGS) $(LATENCY_PKGS)
	$(MAKE) all $(B)/tests/gl-smtp
	@GL_SMTP=$(B)/tests/gl-smtp sh tests/latency/replay.sh

# Each target for FUZZ_SECONDS (default 120) from its seed corpus; new
# inputs go to build/fuzz/corpus-NAME. A crash leaves its input there too.
fuzz:
	@sh tests/deps.sh install $(DEB_PKGS) $(FUZZ_PKGS)
	$(MAKE) fuzzers
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# install: the module, the admin and setup commands, man pages, snippets,
# systemd units (not enabled) and, never over an edited copy, the
# configuration, the whitelist and the cron file (see tools/install.sh).
# It records what it installed in $(PREFIX)/share/exim-greylist/installed-files;
# uninstall removes exactly that. MANIFEST=no (the package) records nothing.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANIFEST ?= yes
INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SO='$(SO)' ADMIN='$(ADMIN)' \
              SYSTEMDUNITDIR='$(SYSTEMDUNITDIR)' MANIFEST='$(MANIFEST)'
install: all
	@$(INSTALL_ENV) sh tools/install.sh install

uninstall:
	@$(INSTALL_ENV) sh tools/install.sh uninstall

# deb: the binary package exim-greylist, built by dpkg-buildpackage from a
# copy of the tree in build/deb/src (so nothing is written outside build/);
# the .deb ends up in build/deb/.
deb:
	@sh tests/deps.sh install $(DEB_PKGS) $(DEB_BUILD_PKGS)
	rm -rf build/deb
	mkdir -p build/deb/src
	tar -cf - --exclude=./build --exclude=./.git --exclude='./debian/exim-greylist' \
	  --exclude=./module/greylist.so --exclude=./tools/greylist-admin . | \
	  tar -xf - -C build/deb/src
	cd build/deb/src && dpkg-buildpackage -b -us -uc
	rm -rf build/deb/src
	@ls -1 build/deb/*.deb

clean:
	rm -rf build $(SO) $(ADMIN)
