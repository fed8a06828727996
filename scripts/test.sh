#!/usr/bin/env bash
# The whole test suite: unit tests beside the code, integration tests in test/, on both backends.
# Installs missing system packages first, so `npm ci && npm test` passes on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh

# Types and lint first: a suppressed rule or a type error fails the run before any database starts.
npx --no-install tsc --noEmit
npx --no-install tsc -p web
npx --no-install eslint .

mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# One test file at a time: the machine has two cores and each embedded database is a WASM PostgreSQL.
node --import tsx --test --test-concurrency=1 "${files[@]}"

# Then the current LTS lines (22, 24) on a named subset: see the script.
bash scripts/node-lines.sh
