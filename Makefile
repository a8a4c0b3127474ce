# pasalista — build, test, install.
#
#   make              library (build/libpasalista.a, .so) and CLI (build/pasalista)
#   make test         build and run the test suite (tests/run.sh prints the summary)
#   make asan         the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz         libFuzzer targets (clang) in build-fuzz/
#   make fuzz-smoke   a short run of every fuzz target over its seeds
#   make bench        benchmarks against the peers (needs tools/golden npm peers)
#   make models       fetch and verify the pretrained models (npm)
#   make install      PREFIX=/usr/local: lib, header, pkg-config, CLI, models
#
# Sources are found by folder: every src/**/*.c is in the library except
# src/cli/, which is the CLI. Files named *_avx2.c / *_avx512.c are compiled
# with those instruction sets and only called after a run-time CPU check.

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
VERSION := 0.1.0

PKGS    := libjpeg libpng libwebp libheif sqlite3 libcurl libzip expat xlsxwriter freetype2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -fPIC -pthread $(WARN) $(PKG_CFLAGS) \
           -Iinclude -Isrc -DPL_VERSION=\"$(VERSION)\" \
           -DPL_DEFAULT_MODELS_DIR=\"$(PREFIX)/share/pasalista/models\"
LDLIBS  += $(PKG_LIBS) -ldnnl -lm -pthread
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c

LIB_SRC  := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(shell find tests -name 'test_*.c' | sort)
BENCH_SRC:= $(shell find bench -name 'bench_*.c' 2>/dev/null | sort)
FUZZ_SRC := $(shell find fuzz -name 'fuzz_*.c' 2>/dev/null | sort)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(foreach t,$(TEST_SRC),$(BUILD)/tests/$(basename $(notdir $(t))))
BENCH_BIN:= $(foreach t,$(BENCH_SRC),$(BUILD)/bench/$(basename $(notdir $(t))))

LIB_A    := $(BUILD)/libpasalista.a
LIB_SO   := $(BUILD)/libpasalista.so
CLI_BIN  := $(BUILD)/pasalista

.PHONY: all test check asan fuzz fuzz-smoke bench models install uninstall clean
all: $(LIB_A) $(LIB_SO) $(CLI_BIN)

$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libpasalista.so.0 $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(CLI_BIN): $(CLI_OBJ) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIB_A) $(LDFLAGS) $(LDLIBS)

# Each tests/**/test_X.c is one binary build/tests/test_X.
define test_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(1) $(LIB_A) tests/test.h
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Itests -MMD -MP -o $$@ $(1) $(LIB_A) $$(LDFLAGS) $$(LDLIBS)
endef
$(foreach t,$(TEST_SRC),$(eval $(call test_rule,$(t))))

define bench_rule
$(BUILD)/bench/$(basename $(notdir $(1))): $(1) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Ibench -o $$@ $(1) $(LIB_A) $$(LDFLAGS) $$(LDLIBS)
endef
$(foreach t,$(BENCH_SRC),$(eval $(call bench_rule,$(t))))

tests: $(TEST_BIN) $(CLI_BIN)
test: tests
	PASALISTA_CLI=$(abspath $(CLI_BIN)) tests/run.sh $(BUILD) $(T)
# The full check CI runs: the suite, then the suite under ASan+UBSan.
check:
	$(MAKE) test
	$(MAKE) asan

asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g $(SANITIZE)" LDFLAGS="$(SANITIZE)" tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	PASALISTA_CLI=$(abspath build-asan/pasalista) PASALISTA_ASAN=1 tests/run.sh build-asan $(T)

# Fuzz targets: clang's libFuzzer with ASan+UBSan, the library rebuilt the same way.
FUZZ_BUILD := build-fuzz
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
fuzz:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g $(FUZZ_FLAGS)" $(FUZZ_BUILD)/libpasalista.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f"; \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(FUZZ_BUILD)/fuzz/$$n $$f $(FUZZ_BUILD)/libpasalista.a $(LDLIBS) || exit 1; done
fuzz-smoke: fuzz
	tools/fuzz-smoke.sh $(FUZZ_BUILD)/fuzz

bench: $(BENCH_BIN) $(CLI_BIN)

models:
	tools/fetch-models.sh models

$(BUILD)/pasalista.pc: Makefile
	@mkdir -p $(BUILD)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: pasalista\nDescription: class attendance from photos: face detection, recognition, records\nVersion: %s\nLibs: -L$${libdir} -lpasalista\nLibs.private: %s -ldnnl -lm -pthread\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' '$(VERSION)' '$(PKG_LIBS)' > $@

install: all $(BUILD)/pasalista.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/pasalista/models
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libpasalista.so.0
	ln -sf libpasalista.so.0 $(DESTDIR)$(PREFIX)/lib/libpasalista.so
	install -m 644 include/pasalista.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/pasalista.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(CLI_BIN) $(DESTDIR)$(PREFIX)/bin/
	if [ -f models/manifest.tsv ]; then cp -r models/. $(DESTDIR)$(PREFIX)/share/pasalista/models/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libpasalista.* $(DESTDIR)$(PREFIX)/include/pasalista.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/pasalista.pc $(DESTDIR)$(PREFIX)/bin/pasalista
	rm -rf $(DESTDIR)$(PREFIX)/share/pasalista

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
