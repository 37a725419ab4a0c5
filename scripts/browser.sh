#!/usr/bin/env bash
# Installs the headless browser the page's end-to-end tests drive, when missing:
# Debian's chromium (driven by playwright-core from npm). `CHROMIUM=/path` uses
# another Chromium instead.
set -euo pipefail

say() { printf '[browser] %s\n' "$*"; }

if [ -n "${CHROMIUM:-}" ]; then
  [ -x "$CHROMIUM" ] || { say "CHROMIUM=$CHROMIUM is not an executable"; exit 1; }
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "the page's tests need Chromium: install it, or set CHROMIUM=/path/to/chromium"
  exit 1
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    say "the page's tests need Chromium: run 'sudo apt-get install chromium', or set CHROMIUM=/path/to/chromium"
    exit 1
  fi
fi
say "installing Debian's chromium for the page's tests (once)"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium >/dev/null; then
  $SUDO apt-get update >/dev/null
  $SUDO apt-get install -y --no-install-recommends chromium >/dev/null
fi
say "$(chromium --version)"
