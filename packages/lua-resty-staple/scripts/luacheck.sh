#!/bin/sh
# npm run lint:lua: luacheck over lib/ with the package's .luacheckrc; any warning fails.
# luacheck is Debian's lua-check (apt-get install lua-check). Under CI=true a missing luacheck
# fails; on a developer's machine it is reported and skipped, like the other optional tools.
set -eu
cd "$(dirname "$0")/.."
if ! command -v luacheck >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "lint:lua: luacheck not found and CI=true (apt-get install lua-check)" >&2
    exit 1
  fi
  echo "lint:lua: luacheck not found, skipping the Lua lint (apt-get install lua-check)" >&2
  exit 0
fi
# luacheck exits 1 on warnings, 2 on errors, 3+ on a fatal problem: all fail the lint.
exec luacheck --no-color --codes lib
