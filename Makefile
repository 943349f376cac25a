# Steward — the two user-facing targets are `make run` and `make test`.
# Everything else here is a step they use.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3

.PHONY: run test build build-asan unit integration bench clean

run:
	@if [ "$$(id -u)" -ne 0 ]; then \
	  echo "stewardd serves TCP and UDP port 660, which needs root (or CAP_NET_BIND_SERVICE)." >&2; \
	  echo "Run 'sudo make run', or start ./$(BUILD)/stewardd --listen 127.0.0.1:6600 ... yourself." >&2; \
	  exit 1; fi
	@scripts/install-deps.sh build
	@scripts/install-system.sh
	@$(MAKE) --no-print-directory build
	./$(BUILD)/stewardd --foreground

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dtests=false >/dev/null
	ninja -C $(BUILD)

# The test build: AddressSanitizer and UndefinedBehaviorSanitizer, with
# errors fatal, so a memory error fails the run.
build-asan:
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) \
	  -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fno-sanitize-recover=all >/dev/null
	ninja -C $(ASAN_BUILD)

test:
	@scripts/install-deps.sh test
	@scripts/install-system.sh
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory build-asan
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

unit:
	meson test -C $(ASAN_BUILD) --print-errorlogs

integration:
	STEWARD_BUILD=$(abspath $(ASAN_BUILD)) $(PYTHON) -m pytest -q tests/integration

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	bench/run.sh $(BUILD)
	bench/ports.sh
	bench/metrics.sh $(BUILD)
	$(PYTHON) bench/users.py $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
