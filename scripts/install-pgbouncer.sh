#!/usr/bin/env bash
# Installs Debian's PgBouncer for the pooler test (test/store/pgbouncer.test.ts), when it is missing.
# The test starts its own pgbouncer (transaction mode, a temp ini) in front of the test PostgreSQL; it is
# skipped with a notice when pgbouncer is absent, unless WATTSWARM_REQUIRE_PGBOUNCER=1.
set -euo pipefail

if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
  echo "install-pgbouncer: pgbouncer is present ($( (command -v pgbouncer || echo /usr/sbin/pgbouncer) ))" >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "install-pgbouncer: pgbouncer is missing and this is not root: skipping (run: sudo apt-get install -y pgbouncer)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-pgbouncer: no apt-get here: skipping; the pgbouncer test will be skipped" >&2
  exit 0
fi
echo "install-pgbouncer: installing Debian's pgbouncer" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends pgbouncer >/dev/null || {
  apt-get update -q >/dev/null
  apt-get install -y --no-install-recommends pgbouncer >/dev/null
}
# The package starts a system service where there is an init; the test runs its own instance.
if command -v service >/dev/null 2>&1; then service pgbouncer stop >/dev/null 2>&1 || true; fi
echo "install-pgbouncer: $(/usr/sbin/pgbouncer --version 2>/dev/null | head -1 || echo 'installed')" >&2
