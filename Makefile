# AURA -- top-level Makefile.  Two commands matter on a fresh machine:
#   make demo   the main job
#   make test   every test, built with -Werror, ASan and UBSan
# Both install what is missing (Debian packages via scripts/deps.sh,
# Python tools into build/venv) before they build.

BUILD      ?= build
SAN_BUILD  ?= $(BUILD)/san
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
SANITIZE   ?= address,undefined
PYTHON     ?= /usr/bin/python3
VENV       ?= $(BUILD)/venv

FUZZ_BUILD   ?= $(BUILD)/fuzzbuild
FUZZ_SECONDS ?= 60

.PHONY: all build deps test test-build tsan demo bench venv fuzz clean help

all: build

help:
	@echo "make          build the library and build/aura (release)"
	@echo "make demo     run the main job"
	@echo "make test     build with sanitizers and run every test"
	@echo "make tsan     the same tests under ThreadSanitizer (build/tsan)"
	@echo "make bench    run the benchmarks against the reference tools"
	@echo "make fuzz     build the libFuzzer targets (clang) and run each FUZZ_SECONDS"
	@echo "make clean    remove build/"

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# ---- tests: a separate sanitizer build in build/san ----
test-build:
	@scripts/deps.sh test
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAURA_WERROR=ON \
	      -DAURA_SANITIZE=$(SANITIZE) -DCMAKE_C_FLAGS_DEBUG="-O1 -g" $(CMAKE_ARGS)
	cmake --build $(SAN_BUILD) -j $(JOBS)

test: test-build
	@AURA_BUILD=$(SAN_BUILD) scripts/run-tests.sh

# ---- the same tests under ThreadSanitizer (by hand; not part of make test;
# no -Werror: GCC warns that TSan does not model atomic_thread_fence) ----
TSAN_BUILD ?= $(BUILD)/tsan
tsan:
	@scripts/deps.sh test
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAURA_WERROR=OFF \
	      -DAURA_SANITIZE=thread -DCMAKE_C_FLAGS_DEBUG="-O1 -g" $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	@AURA_BUILD=$(TSAN_BUILD) AURA_TEST_TIMEOUT=900 scripts/run-tests.sh

# ---- the main job ----
demo: build
	@scripts/demo.sh $(BUILD)

# ---- Python tools for benchmarks (pinned) ----
$(VENV)/.stamp: bench/requirements.txt
	@scripts/deps.sh bench
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r bench/requirements.txt
	touch $@

venv: $(VENV)/.stamp

bench: build venv
	@scripts/bench.sh $(BUILD)

# ---- libFuzzer targets (clang, ASan+UBSan); corpora under build/fuzz ----
fuzz:
	@scripts/deps.sh fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	      -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	      -DAURA_SANITIZE=address,undefined -DAURA_FUZZ=ON -DAURA_BUILD_TESTS=OFF $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
