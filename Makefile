# ferry — the two entry points a fresh machine needs:
#   make demo   local registries, seeded images, a push with a merge, the report
#   make test   docs check + fmt + clippy (warnings denied) + every test against real registries
#   make stress long races against real registries (STRESS_RUNS, default 300)
#   make fuzz   each parser fuzz target for FUZZ_SECONDS (default 60), one after the other
# Each installs what it needs (apt: docker-registry, skopeo, apache2-utils, openssl).

SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test tools lint unit build bench stress fuzz

tools:
	@bash scripts/ensure-tools.sh
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup)" >&2; exit 1; }

build: tools
	$(CARGO) build --release -p ferry-cli -p ferry-testkit

demo: build
	@bash scripts/demo.sh

lint: tools
	@bash scripts/check-docs.sh
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: lint
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		echo "cargo-nextest not found: using cargo test"; \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi

bench: build
	@bash bench/run.sh

# Eight `ferry merge` processes into one tag, STRESS_RUNS times over (docs/reliability.md).
STRESS_RUNS ?= 300
stress: tools
	FERRY_MERGE_RACE_ROUNDS=$(STRESS_RUNS) $(CARGO) test -p ferry-cli --test workflows --locked \
		merges_from_several_processes_keep_every_platform -- --exact --nocapture

# The fuzz targets of fuzz/ (its own workspace, nightly toolchain, cargo-fuzz), each for
# FUZZ_SECONDS, one after the other, niced; stops at the first crash, which cargo-fuzz
# saves under fuzz/artifacts/TARGET/ (docs/reliability.md, "Fuzzing").
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := reference manifest items settings authfile challenge
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && nice -n 10 $(CARGO) +nightly fuzz build --sanitizer none
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		nice -n 10 $(CARGO) +nightly fuzz run --sanitizer none $$t -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done
