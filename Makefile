# volley: make builds ./volley, make test runs every test, make demo rehearses a scenario.

include deps/libs.mk

CC ?= cc
VERSION := 0.1.0
CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -g -D_GNU_SOURCE \
	-DVOLLEY_VERSION=\"$(VERSION)\" -Isrc $(DEP_CFLAGS)

ifeq ($(SANITIZE),1)
BUILD := build/san
BIN := volley-san
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDOPT := -fsanitize=address,undefined
else
BUILD := build/rel
BIN := volley
OPT := -O2
LDOPT :=
endif

CFLAGS := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS := $(LDOPT) -static-libgcc

SRC := $(shell find src -name '*.c' | sort)
MAIN_OBJ := $(BUILD)/src/main.o
OBJ := $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(filter-out $(MAIN_OBJ),$(OBJ))
LLHTTP_OBJ := $(patsubst /usr/share/llhttp/%.c,$(BUILD)/llhttp/%.o,$(LLHTTP_SRC))
LUA_SRC := $(sort $(wildcard src/lua/*.lua))
LUA_OBJ := $(if $(LUA_SRC),$(BUILD)/lua_embed.o)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit integration check format clean demo bench

all: deps $(BIN)

deps:
	@deps/install.sh build

$(BIN): $(OBJ) $(LLHTTP_OBJ) $(LUA_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,-Bstatic $(DEP_STATIC) -Wl,-Bdynamic $(DEP_DYNAMIC)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/llhttp/%.o: /usr/share/llhttp/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -w -c -o $@ $<

# The Lua parts of the runtime are compiled into the binary as C arrays.
$(BUILD)/embed: deps/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $<

$(BUILD)/lua_embed.c: $(BUILD)/embed $(LUA_SRC)
	$(BUILD)/embed $@ $(LUA_SRC)

$(BUILD)/lua_embed.o: $(BUILD)/lua_embed.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/harness.h $(LIB_OBJ) $(LLHTTP_OBJ) $(LUA_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LLHTTP_OBJ) $(LUA_OBJ) \
		-Wl,-Bstatic $(DEP_STATIC) -Wl,-Bdynamic $(DEP_DYNAMIC)

test: all $(UNIT_BIN)
	@deps/install.sh test
	@VOLLEY=$(CURDIR)/$(BIN) SANITIZE=$(SANITIZE) UNIT_DIR=$(BUILD)/tests tests/run.sh

check:
	@clang-format --dry-run --Werror $$(find src tests/unit deps -name '*.[ch]') && echo "format ok"

format:
	clang-format -i $$(find src tests/unit deps -name '*.[ch]')

demo: all
	@scripts/demo.sh

bench: all
	@deps/install.sh bench
	@bench/vs-wrk.sh

clean:
	rm -rf build volley volley-san

-include $(OBJ:.o=.d)
