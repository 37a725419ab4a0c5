#!/usr/bin/env bash
# Installs what the build needs and is missing, at pinned versions, from the package
# registries only. A second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version pinned in Cargo.toml (and so in Cargo.lock).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"

say() { printf '[toolchain] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo_install CRATE VERSION BINARY: installs CRATE@VERSION unless BINARY already
# reports that version. Tries the crate's own lockfile first; if the registry lacks a
# version that lockfile names, resolves afresh within the crate's requirements.
cargo_install() {
  local crate=$1 version=$2 bin=$3
  if [ -x "$CARGO_BIN/$bin" ] && "$CARGO_BIN/$bin" --version 2>/dev/null | grep -Eq "(^| )${version//./\\.}( |$)"; then
    return
  fi
  say "installing $crate $version (takes a few minutes, once)"
  if ! cargo install "$crate" --version "=$version" --locked; then
    say "$crate's lockfile names a version the registry lacks; resolving without it"
    cargo install "$crate" --version "=$version"
  fi
}
cargo_install worker-build "$WORKER_BUILD_VERSION" worker-build
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

# npm packages from the lockfile; reinstall when the lockfile changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi
