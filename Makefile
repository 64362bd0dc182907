# dockergate build. `make` leaves the CLI at build/dockergate; `make asan` builds
# the ASan+UBSan variant at build-asan/dockergate used by the tests, with the unit
# tests and the test tools (build-asan/tests-bin/).
CC      ?= cc
PKGS    := libarchive jansson libcrypto sqlite3 capstone libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wvla -Wnull-dereference \
        -Wimplicit-fallthrough -Wundef -Wcast-align -Wno-unused-parameter
STD  := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
OPT  ?= -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2

BUILD ?= build
CFLAGS_ALL = $(STD) $(WARN) $(OPT) $(EXTRA_CFLAGS) -Iinclude -Isrc/lib $(PKG_CFLAGS)
LDFLAGS_ALL = $(EXTRA_LDFLAGS) $(PKG_LIBS) -lpthread

LIB_SRC := $(sort $(wildcard src/lib/*/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
VERSION := $(shell cat VERSION)

.PHONY: all asan unit tools clean demo test check-format
all: $(BUILD)/dockergate

$(BUILD)/libdockergate.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/dockergate: $(CLI_OBJ) $(BUILD)/libdockergate.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libdockergate.a $(LDFLAGS_ALL)

# header dependencies from the compiler (-MMD): every object is rebuilt when a header it reads changes
$(BUILD)/%.o: %.c VERSION
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -DDG_VERSION='"$(VERSION)"' -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# data compiled into the program (.incbin)
$(BUILD)/src/lib/policy/profile.o: data/docker-default.json
$(BUILD)/src/lib/policy/runtime_base.o: data/runtime-base.json

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libdockergate.a
	@mkdir -p $(@D) $(BUILD)/tests-deps
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $(BUILD)/tests-deps/$*.d -Itests/unit -o $@ $< $(BUILD)/libdockergate.a $(LDFLAGS_ALL)

-include $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests-deps/%.d)

unit: $(UNIT_BIN)

# test tools (tests/tools/*.c) built from the library, never part of build/dockergate:
# dg-cachetest (test_cache.sh) links a copy of the cache compiled with its test-only row
# hook (-DDG_CACHE_TEST_HOOKS, src/lib/cache/cache_test.h) and the CLI's cache opening
TOOLS_BIN := $(BUILD)/tests-bin/dg-cachetest $(BUILD)/tests-bin/dg-fuzz-replay
CACHETEST_OBJ := $(BUILD)/tests-bin/cache-hooks.o $(BUILD)/src/cli/common.o $(BUILD)/src/cli/output.o \
	$(BUILD)/src/cli/json.o

$(BUILD)/tests-bin/cache-hooks.o: src/lib/cache/cache.c VERSION
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -DDG_CACHE_TEST_HOOKS -DDG_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD)/tests-bin/dg-cachetest: tests/tools/cachetest.c $(CACHETEST_OBJ) $(BUILD)/libdockergate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $(BUILD)/tests-bin/dg-cachetest.d -Isrc/cli -o $@ $< $(CACHETEST_OBJ) \
	  $(BUILD)/libdockergate.a $(LDFLAGS_ALL)

-include $(BUILD)/tests-bin/cache-hooks.d $(BUILD)/tests-bin/dg-cachetest.d

tools: $(TOOLS_BIN)

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" build-asan/dockergate unit tools

demo: all
	bash tests/tools/realimage.sh sample >/dev/null
	$(BUILD)/dockergate inspect build/sample/sample.tar
	$(BUILD)/dockergate graph --exclude '*/gconv/*' build/sample/sample.tar >build/sample/graph.dot
	@echo "dependency graph (Graphviz DOT): build/sample/graph.dot"
	$(BUILD)/dockergate syscalls build/sample/sample.tar /bin/busybox
	$(BUILD)/dockergate generate build/sample/sample.tar -o build/sample/profile.json
	@echo "seccomp profile (Docker format): build/sample/profile.json"

test: $(BUILD)/dockergate
	bash tests/run.sh

clean:
	rm -rf build build-asan

# Coverage-guided fuzzing (libFuzzer, Debian's clang): one target, tests/fuzz/fuzz.c, whose
# first byte picks the parser (or DG_FUZZ_TARGET=NAME fixes it). `make fuzz` builds it, makes
# a seed corpus per parser from real files (tests/fuzz/seeds.py) and runs each parser for
# FUZZ_SECONDS (default 60); crashes are left in build-fuzz/crashes/. Not part of `make test`;
# the inputs it found are replayed by tests/e2e/test_fuzz_regress.sh under the ASan build.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= elf elfinfo fnsum reach dyninfo sh trace profile layer image
.PHONY: fuzz fuzz-build
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Wno-cast-align" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" build-fuzz/dg-fuzz

$(BUILD)/dg-fuzz: tests/fuzz/fuzz.c $(BUILD)/libdockergate.a
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libdockergate.a $(LDFLAGS_ALL)

# the same target without libFuzzer: a main() that runs each file given (the replay in make test)
$(BUILD)/tests-bin/dg-fuzz-replay: tests/fuzz/fuzz.c tests/fuzz/replay.c $(BUILD)/libdockergate.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ tests/fuzz/fuzz.c tests/fuzz/replay.c $(BUILD)/libdockergate.a $(LDFLAGS_ALL)

fuzz:
	scripts/deps.sh --fuzz
	$(MAKE) fuzz-build all
	bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
