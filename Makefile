# gongzhi - the two commands (make run, make test) and a few helpers.
# meson + ninja do the building; scripts/ do the rest.

BUILD      ?= build
TESTBUILD  ?= build-test
FUZZBUILD  ?= build-fuzz
DATA       ?= data
LISTEN     ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 5

.PHONY: all build run test fuzz bench clean deps

all: build

deps:
	@scripts/install-deps run

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=release >/dev/null
	@ninja -C $(BUILD) --quiet

# Builds the server and the console, creates the demo database on first use, and
# serves on $(LISTEN).
run: build
	@scripts/web-build || echo "warning: the web console was not built (see above); serving the API only" >&2
	@scripts/run-demo $(BUILD)/gongzhi $(DATA) $(LISTEN)

# Every test: unit, API against the real binary, fuzz smoke runs; under ASan+UBSan.
test: build
	@scripts/install-deps test
	@[ -f $(TESTBUILD)/build.ninja ] || meson setup $(TESTBUILD) -Dtests=true \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null
	@ninja -C $(TESTBUILD) --quiet
	@[ -f $(FUZZBUILD)/build.ninja ] || CC=clang meson setup $(FUZZBUILD) -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null
	@ninja -C $(FUZZBUILD) --quiet
	@scripts/run-tests $(TESTBUILD) $(FUZZBUILD) $(FUZZ_SECONDS)

# Longer fuzzing on demand: make fuzz FUZZ_SECONDS=600
fuzz:
	@scripts/install-deps fuzz
	@[ -f $(FUZZBUILD)/build.ninja ] || CC=clang meson setup $(FUZZBUILD) -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null
	@ninja -C $(FUZZBUILD) --quiet
	@scripts/run-fuzz $(FUZZBUILD) $(FUZZ_SECONDS)

bench: build
	@scripts/install-deps bench
	@bench/run $(BUILD)/gongzhi
	@bench/run-backends $(BUILD)/gongzhi

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
