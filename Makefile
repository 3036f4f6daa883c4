# exim-greylist: see README. Targets: all deps check demo bench fuzz install clean
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
B       ?= build
SAN     ?=
SO      ?= module/greylist.so
ADMIN   ?= tools/greylist-admin

WARN    = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Werror
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
LDFLAGS += $(if $(filter 1,$(SAN)),-fsanitize=address$(comma)undefined)
comma   := ,
LIBS    = -lcidr -lgdbm -lhiredis -llmdb

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
           $(B)/tests/gl-load $(B)/tests/gl-storebench

# Packages needed to build, test and demo (see README).
DEB_PKGS = gcc make libc6-dev exim4-daemon-heavy exim4-dev libcidr-dev \
           libgdbm-dev libjansson-dev libcmocka-dev swaks iproute2 \
           libhiredis-dev redis-server redis-sentinel liblmdb-dev \
           clang libclang-rt-14-dev

.PHONY: all deps check check-deps demo bench fuzz fuzzers install clean units FORCE

all: $(SO) $(ADMIN)

$(B)/core/%.o: module/core/%.c $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

# The module exports only greylist(); -z now makes a missing Exim symbol
# fail at dlopen() rather than at the first RCPT. Exim's own symbols
# (log_write, string_copy_function) resolve against the exim binary.
$(SO): module/greylist.c $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fvisibility=hidden -isystem /usr/include/exim4 -shared \
	  -Wl,-z,now -Wl,-z,relro -Wl,--exclude-libs,ALL -o $@ module/greylist.c $(CORE_LIB) \
	  $(LDFLAGS) $(LIBS)

ADMIN_SRC = tools/greylist-admin.c tools/admin_check.c tools/admin_user.c
$(ADMIN): $(ADMIN_SRC) tools/admin.h $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ADMIN_SRC) $(CORE_LIB) $(LDFLAGS) \
	  $(LIBS) -ljansson

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(CORE_LIB) $(CORE_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(CORE_LIB) $(LDFLAGS) \
	  $(LIBS) -lcmocka

$(B)/tests/gl-load: tests/bench/gl-load.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lpthread

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
	@sh tests/deps.sh check $(DEB_PKGS) || $(MAKE) deps

# Builds twice (plain, and with AddressSanitizer and UBSan) and runs the
# whole suite against each; the last line is "N passed, N failed".
check: check-deps
	$(MAKE) all units
	$(MAKE) B=build/san SAN=1 SO=build/san/greylist.so \
	  ADMIN=build/san/greylist-admin build/san/greylist.so \
	  build/san/greylist-admin units
	$(MAKE) fuzzers
	@sh tests/run.sh

demo: check-deps all
	@sh tests/demo.sh

# Benchmarks against Exim alone, greylistd and postgrey; see README.
BENCH_PKGS = greylistd postgrey redis-server
bench: check-deps all units
	@sh tests/deps.sh check $(BENCH_PKGS) || sh tests/deps.sh install $(BENCH_PKGS)
	@sh tests/bench/bench.sh

# Each target for FUZZ_SECONDS (default 120) from its seed corpus; new
# inputs go to build/fuzz/corpus-NAME. A crash leaves its input there too.
fuzz: check-deps fuzzers
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/exim4 $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)$(PREFIX)/share/exim-greylist \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)/etc/cron.d
	install -m 0644 $(SO) $(DESTDIR)$(PREFIX)/lib/exim4/greylist.so
	install -m 0755 $(ADMIN) $(DESTDIR)$(PREFIX)/sbin/greylist-admin
	install -m 0644 exim-conf-snippets/* $(DESTDIR)$(PREFIX)/share/exim-greylist/
	install -m 0644 doc/greylist-admin.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 doc/greylist.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	sed 's,@SBIN@,$(PREFIX)/sbin,g' doc/greylist.cron > \
	  $(DESTDIR)/etc/cron.d/exim-greylist
	chmod 0644 $(DESTDIR)/etc/cron.d/exim-greylist

clean:
	rm -rf build $(SO) $(ADMIN)
