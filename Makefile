# Steward — the two user-facing targets are `make run` and `make test`
# (`make fuzz` and `make bench` are longer campaigns and measurements).
# Everything else here is a step they use.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# make install: the release build, installed under DESTDIR/PREFIX (PAM,
# fail2ban and /etc/steward go to DESTDIR/etc whatever the prefix).
RELEASE_BUILD ?= build-release
PREFIX     ?= /usr/local
DESTDIR    ?=
# make deb: where the package and its build tree go (inside the clone, ignored by git).
DEB_OUT    ?= build-deb
PYTHON     ?= /usr/bin/python3
# make bench: how long the idle sampler is measured, and how many event streams.
SAMPLER_SECONDS ?= 600
EVENT_STREAMS   ?= 1000
# make bench: a build of the code before a change, to compare whoami under
# slow requests with (bench/slow.py), e.g. SLOW_BASELINE=/path/to/old/build.
# LOGIN_BASELINE likewise for the cost of a password login (bench/login.sh).
SLOW_BASELINE   ?=
LOGIN_BASELINE  ?=
# Seconds each fuzz target runs: in make test (a check that the fuzz build
# and its targets work) and in make fuzz (a campaign).
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_SECONDS       ?= 600

.PHONY: run test build build-asan build-fuzz web-deps unit fuzz-smoke integration browser fuzz \
	bench clean install deb container systemd-ct

run:
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "stewardd serves TCP and UDP port 660, which needs root (or CAP_NET_BIND_SERVICE)." >&2; \
	  echo "Run 'sudo make run', or start ./$(BUILD)/stewardd --listen 127.0.0.1:6600 ... yourself." >&2; \
	  exit 1; fi
	@scripts/install-deps.sh build
	@scripts/install-system.sh
	@$(MAKE) --no-print-directory build
	@scripts/link-cli.sh $(BUILD)
	./$(BUILD)/stewardd --foreground

# The console's npm packages (uPlot; playwright-core and axe-core for the
# browser tests), pinned by web/package-lock.json; again when the lock changes.
web-deps:
	@[ web/node_modules/.package-lock.json -nt web/package-lock.json ] || \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error)

build: web-deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dtests=false >/dev/null
	ninja -C $(BUILD)

# The test build: AddressSanitizer and UndefinedBehaviorSanitizer, with
# errors fatal, so a memory error fails the run.
build-asan: web-deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) \
	  -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fno-sanitize-recover=all >/dev/null
	ninja -C $(ASAN_BUILD)

# The libFuzzer targets (tests/fuzz), as docs/architecture.md documents the
# build: clang, ASan+UBSan, the libraries instrumented for coverage.  All of
# it is built, the unit tests too, so that the clang build cannot rot.
build-fuzz: web-deps
	@[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
	ninja -C $(FUZZ_BUILD)

# Installs stewardd, steward, the man pages, the units, the sysusers.d file,
# PAM, fail2ban and a default /etc/steward/stewardd.conf (docs/packaging.md).
install: web-deps
	@[ -f $(RELEASE_BUILD)/build.ninja ] || meson setup $(RELEASE_BUILD) -Dbuildtype=release \
	  -Dtests=false --prefix=$(PREFIX) >/dev/null
	meson configure $(RELEASE_BUILD) --prefix=$(PREFIX)
	ninja -C $(RELEASE_BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(RELEASE_BUILD) --no-rebuild

# The Debian package, built by dpkg-buildpackage from a copy of the tree in
# $(DEB_OUT), so the clone stays clean; the .deb lands in $(DEB_OUT)/.
deb: web-deps
	@scripts/install-deps.sh deb
	scripts/build-deb.sh $(DEB_OUT)

# The booted-container layer (tests/container/): the package installed,
# started by its socket, driven, restarted and purged in a booted Debian 12.
container: deb
	STEWARD_DEB_DIR=$(abspath $(DEB_OUT)) $(PYTHON) -m pytest -q tests/container

test:
	@scripts/install-deps.sh test
	@scripts/install-system.sh
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory build-asan
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory build-fuzz
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory container

unit:
	meson test -C $(ASAN_BUILD) --print-errorlogs

# Each fuzz target for a few seconds over a copy of its corpus (the corpora
# also replay as plain tests in unit).
fuzz-smoke:
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS)

# Includes the tests against the booted systemd container (marker systemd,
# tests/integration/systemd_ct.py): one container for the whole run.
integration:
	STEWARD_BUILD=$(abspath $(ASAN_BUILD)) $(PYTHON) -m pytest -q tests/integration

# The console in a real browser (tests/browser/, driven by pytest, which
# starts the daemons).
browser:
	STEWARD_BUILD=$(abspath $(ASAN_BUILD)) STEWARD_ARTIFACTS=$(abspath $(ASAN_BUILD))/browser-artifacts \
	  $(PYTHON) -m pytest -q tests/browser

# Only the tests against the booted systemd container (the services, logs
# and console tests on a real systemd; they are part of integration and
# browser too), one container per pytest run.  Exit status 5 is pytest's
# "no test selected".
systemd-ct: build-asan
	STEWARD_BUILD=$(abspath $(ASAN_BUILD)) $(PYTHON) -m pytest -q -m systemd tests/integration
	STEWARD_BUILD=$(abspath $(ASAN_BUILD)) STEWARD_ARTIFACTS=$(abspath $(ASAN_BUILD))/browser-artifacts \
	  $(PYTHON) -m pytest -q -m systemd tests/browser || [ $$? -eq 5 ]

# A fuzzing campaign: FUZZ_SECONDS per target, one after the other; the
# grown corpora stay in $(FUZZ_BUILD)/fuzz-corpus for the next one.
fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory build-fuzz
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BUILD)/fuzz-corpus

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	bench/run.sh $(BUILD)
	BUILD_DIR=$(BUILD) bench/ports.sh
	bench/login.sh $(BUILD) 20 3 $(LOGIN_BASELINE)
	bench/processes.sh $(BUILD)
	bench/metrics.sh $(BUILD)
	bench/sampler.sh $(BUILD) $(SAMPLER_SECONDS)
	bench/events.sh $(BUILD) $(EVENT_STREAMS)
	$(PYTHON) bench/users.py $(BUILD)
	$(PYTHON) bench/slow.py $(BUILD) $(SLOW_BASELINE)
	$(PYTHON) bench/run-container.py --build $(BUILD) bench/ct-baseline.py
	$(PYTHON) bench/shares-serve --build $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RELEASE_BUILD) $(DEB_OUT)
