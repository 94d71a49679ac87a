# Rollgate's front door. Everything goes through CMake + Ninja:
#   make          release build in build/
#   make test     deps, build, every CTest test but the package build's
#                 (label pkg), then unit tests under ASan+UBSan
#   make test-pkg the Debian packages built, installed in a throwaway root
#                 and run (CTest label pkg; minutes; CI runs it)
#   make demo     deps, build, start rollgated on ./var and walk through the CLI
#   make bench    benchmarks in bench/ (tables; never run by make test)
#   make install  the programs under $(DESTDIR)$(PREFIX) (default /usr/local):
#                 rollgated, rollgate-agent in sbin; rollgate, rollgate-sim,
#                 rollgate-engine in bin, man pages, bash completion,
#                 the web dashboard in share/rollgate/web,
#                 systemd units and their users (docs/operations.md)
#   make deb      Debian packages rollgate-server, rollgate-agent,
#                 rollgate-cli in $(DEB_OUT) (default build-deb/), built by
#                 dpkg-buildpackage from debian/ (scripts/deb.sh)
#   make asan     the sanitizer build in build-asan/
#   make fuzz     libFuzzer harnesses (clang) in build-fuzz/, SECONDS=N each
#   make builds   compile-only checks: Release (gcc -O3) in build-release/ and
#                 clang in build-clang/, warnings as errors (CI runs it)
# Every build here passes -DRG_WERROR=ON (warnings are errors); a plain
# `cmake` build leaves it off.
# Variables: DEMO_EXIT=1 (demo exits after its walk), DEMO_VAR=DIR (where demo
# writes, ./var by default), DEMO_PORT=N (7400), JOBS=N, SECONDS=N (fuzz).

JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
CLANG_BUILD ?= build-clang
CTEST_ARGS ?= -LE pkg
SECONDS ?= 60
PREFIX ?= /usr/local
DESTDIR ?=
DEB_OUT ?= build-deb

.PHONY: all deps build asan builds test demo bench fuzz format format-check clean install deb test-pkg

all: build

# web: the dashboard's npm packages (copied into the build) and what its
# browser tests need (docs/dashboard.md)
deps:
	@./scripts/deps.sh
	@./scripts/deps.sh web

# configured every time, so a build directory made without RG_WERROR gets it
build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRG_WERROR=ON >/dev/null
	ninja -C $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRG_SANITIZE=ON -DRG_WERROR=ON >/dev/null
	ninja -C $(ASAN_BUILD) -j $(JOBS)

builds: deps
	./scripts/deps.sh clang
	cmake -S . -B $(RELEASE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DRG_WERROR=ON >/dev/null
	ninja -C $(RELEASE_BUILD) -j $(JOBS)
	CC=clang cmake -S . -B $(CLANG_BUILD) -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRG_WERROR=ON >/dev/null
	ninja -C $(CLANG_BUILD) -j $(JOBS)

test: build asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -L unit

test-pkg: build
	cd $(BUILD) && ctest --output-on-failure -L pkg

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

deb: deps
	./scripts/deps.sh deb
	./scripts/deb.sh $(DEB_OUT)

demo: build
	./scripts/demo.sh $(BUILD)

bench: build
	./bench/checkin/run.sh $(BUILD)
	./bench/events/run.sh $(BUILD)
	./bench/canary/run.sh $(BUILD)
	./bench/web/bench.py $(BUILD)
	./bench/store/run.sh $(BUILD)
	./bench/cluster/run.sh $(BUILD)

fuzz: deps
	FUZZ_JOBS=$(JOBS) ./scripts/fuzz.sh $(SECONDS)

# One formatter, pinned: clang-format 14 (Debian 12's), whose output other
# versions do not reproduce. format rewrites, format-check fails on any
# file that format would change (CI runs it).
CLANG_FORMAT ?= clang-format-14

format:
	$(CLANG_FORMAT) -i $$(git ls-files '*.c' '*.h')

format-check: deps
	./scripts/deps.sh clang
	$(CLANG_FORMAT) --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(CLANG_BUILD) $(DEB_OUT)
