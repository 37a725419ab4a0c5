# The two commands: `make dev` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export WRANGLER_SEND_METRICS := false
export WASM_BINDGEN_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin/wasm-bindgen
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
export ESBUILD_BIN := $(CURDIR)/node_modules/.bin/esbuild
WORKER_BUILD := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin/worker-build

.PHONY: dev test build toolchain browser unit e2e bench bench-smoke fmt lint clean

## dev: build, start the local git host and serve the Worker on http://127.0.0.1:$(PORT|8787)
dev: build
	node scripts/dev.mjs

## test: lints, unit tests, end-to-end tests against the built Worker, and a tiny benchmark run
test: build lint unit browser e2e bench-smoke

## build: the Worker (build/index.js + build/index_bg.wasm) and the local git host
build: toolchain
	$(WORKER_BUILD) --release
	node scripts/strip-names.mjs build/index_bg.wasm
	cargo build -p githost

toolchain:
	@scripts/toolchain.sh

## browser: Debian's chromium for the page's end-to-end tests, when missing
browser:
	@scripts/browser.sh

unit:
	cargo test --workspace

e2e:
	node --test --test-concurrency=1 tests/e2e/

## bench: latency, GitHub requests and throughput beside the naive approach; writes bench/results/latest.json
bench: build
	node bench/run.mjs

bench-smoke:
	node bench/run.mjs --smoke

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	rm -rf build target .wrangler
