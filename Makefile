# simple-http-server - plain GNU make.
#   make            build ./simple-http-server
#   make run        build and serve ./public on http://127.0.0.1:8080/
#   make test       unit + integration tests (needs Check: apt-get install check pkg-config)
#   make asan       the whole suite again under ASan+UBSan
#   make install / uninstall   (PREFIX, DESTDIR)
CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
BUILD ?= build
BIN ?= simple-http-server
SAN ?=

SHS_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -MMD -MP \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith
WERROR ?= -Werror
# The user's CPPFLAGS (Debian's -D_FORTIFY_SOURCE=2) and CFLAGS come after
# ours, so they can add to and override them; -Iinclude stays first.
ALL_CFLAGS = $(SHS_CFLAGS) $(CPPFLAGS) $(WERROR) $(SAN) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.o)
RUNNER := $(BUILD)/check_runner

.PHONY: all run test check asan fuzz bench install uninstall clean format

all: $(BIN)

$(BIN): $(BUILD)/main.o $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

run: $(BIN)
	./$(BIN) --top-dir ./public

# Check is looked up only here, so a plain `make` needs nothing but a compiler.
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

$(BUILD)/tests/%.o: tests/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(RUNNER): $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# The integration suites start the real binary named by SHS_BIN. First,
# tests/layers.sh checks that no two modules call each other (doc/design.md).
test check: $(BIN) $(RUNNER)
	sh tests/layers.sh $(BUILD)
	SHS_BIN=$(abspath $(BIN)) ./$(RUNNER)

asan:
	SHS_TEST_TIME_SCALE=$${SHS_TEST_TIME_SCALE:-3} $(MAKE) BUILD=build-asan BIN=build-asan/simple-http-server CFLAGS="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

# libFuzzer harnesses (clang): each runs FUZZ_SECONDS on a corpus seeded from
# tests/fuzz/corpus/NAME; a crash stops the run and leaves build-fuzz/crash-*.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZERS := http path range cond rules
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB := src/http.c src/http_fields.c src/http_chunked.c src/http_coding.c src/path.c src/path_trace.c src/range.c src/cond.c src/response.c \
	src/rules_parse.c src/rules_set.c src/rules_match.c src/options_value.c

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(wildcard include/*.h)
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB)

fuzz: $(FUZZERS:%=build-fuzz/fuzz_%)
	@for f in $(FUZZERS); do \
		mkdir -p build-fuzz/corpus-$$f && \
		echo "== fuzz_$$f for $(FUZZ_SECONDS) s" && \
		./build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-artifact_prefix=build-fuzz/ -print_final_stats=0 \
			build-fuzz/corpus-$$f tests/fuzz/corpus/$$f 2>build-fuzz/fuzz_$$f.log \
			|| { tail -n 40 build-fuzz/fuzz_$$f.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' build-fuzz/fuzz_$$f.log | tail -n 1; \
	done

bench: $(BIN)
	bash tests/bench/run.sh

MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# logrotate reads /etc/logrotate.d only, whatever PREFIX is (as with
# ./configure --sysconfdir=/etc); DESTDIR still applies for staging.
SYSCONFDIR ?= /etc
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(LOGROTATEDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/simple-http-server
	install -m 644 doc/simple-http-server.1 $(DESTDIR)$(MANDIR)/man1/simple-http-server.1
	sed 's|/usr/local/bin/|$(BINDIR)/|g' doc/simple-http-server.service \
		> $(DESTDIR)$(UNITDIR)/simple-http-server.service
	chmod 644 $(DESTDIR)$(UNITDIR)/simple-http-server.service
	install -m 644 doc/simple-http-server.socket $(DESTDIR)$(UNITDIR)/simple-http-server.socket
	install -m 644 doc/simple-http-server.logrotate $(DESTDIR)$(LOGROTATEDIR)/simple-http-server

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/simple-http-server \
		$(DESTDIR)$(MANDIR)/man1/simple-http-server.1 \
		$(DESTDIR)$(UNITDIR)/simple-http-server.service \
		$(DESTDIR)$(UNITDIR)/simple-http-server.socket \
		$(DESTDIR)$(LOGROTATEDIR)/simple-http-server

format:
	clang-format -i src/*.c include/*.h tests/*.c

clean:
	rm -rf build build-asan build-fuzz simple-http-server

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
