# ferry — the two entry points a fresh machine needs:
#   make demo   local registries, seeded images, a push with a merge, the report
#   make test   docs check + fmt + clippy (warnings denied) + every test against real registries
#   make stress long races against real registries (STRESS_RUNS, default 300)
#   make fault-matrix  every writing command under every fault; table in docs/reliability.md
#   make fuzz   each parser fuzz target for FUZZ_SECONDS (default 60), one after the other
# Each installs what it needs (apt: docker-registry, skopeo, apache2-utils, openssl).

SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test tools lint unit build bench bench-pubtools stress fault-matrix fuzz

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

# 8 faults x 6 commands with the real `ferry` binary (debug build) against real registries;
# rewrites the table between the fault-matrix markers of docs/reliability.md and fails on
# any dangling tag, corrupted image, incomplete re-run or blob uploaded twice.
FAULT_JOBS ?= 3
fault-matrix: tools
	FERRY_FAULT_JOBS=$(FAULT_JOBS) FERRY_FAULT_MATRIX_DOC=$(CURDIR)/docs/reliability.md \
		$(CARGO) test -p ferry-cli --test faults --locked fault_matrix -- --ignored --exact --nocapture

# P1: ferry push vs pubtools-quay's ContainerImagePusher (creates a pubtools-quay venv under
# ~/.cache/ferry-bench on first use, ~5 min; writes test CAs under /etc/containers/certs.d).
bench-pubtools: build
	@SCENARIOS=P1 bash bench/run.sh

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
