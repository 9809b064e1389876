#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs lint,
# type check, build and every vitest project (the integration tests start their own
# redis-server, Alertmanager and Prometheus on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

need_debian=()
command -v redis-server >/dev/null || need_debian+=(redis-server)
command -v prometheus >/dev/null || need_debian+=(prometheus)
command -v promtool >/dev/null || need_debian+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_debian+=(prometheus-alertmanager)
if [ ${#need_debian[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_debian[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${need_debian[@]}" | sort -u) >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm run --silent lint
npm run --silent typecheck
npm run --silent build

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$report" || true
exit "$status"
