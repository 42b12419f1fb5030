#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests (test/console), when it is missing.
# Only apt: playwright-core drives /usr/bin/chromium and never downloads a browser of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-chromium: /usr/bin/chromium is present ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))" >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install-chromium: /usr/bin/chromium is missing and this is not root: skipping (run: sudo apt-get install -y chromium)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here: skipping; the browser tests will be skipped" >&2
  exit 0
fi
echo "install-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y chromium >/dev/null || {
  apt-get update -q >/dev/null
  apt-get install -y chromium >/dev/null
}
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo 'installed')" >&2
