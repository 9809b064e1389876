#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs lint,
# type check, build and every vitest project (the integration tests start their own
# redis-server, Sentinels, Alertmanager, Prometheus and Chromium on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."

need_debian=()
command -v redis-server >/dev/null || need_debian+=(redis-server)
command -v redis-sentinel >/dev/null || need_debian+=(redis-sentinel)
command -v prometheus >/dev/null || need_debian+=(prometheus)
command -v promtool >/dev/null || need_debian+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_debian+=(prometheus-alertmanager)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need_debian+=(chromium)
command -v openssl >/dev/null || need_debian+=(openssl)
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

# No high or critical advisory against a production dependency: a finding stops the suite. A
# registry without the audit endpoint (some mirrors) cannot check: that is said loudly, not hidden.
# npm audit exits non-zero both on findings and on errors: the JSON tells them apart.
audit_json=$(npm audit --omit=dev --json 2>/dev/null || true)
printf '%s' "$audit_json" | node -e '
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
    const report = JSON.parse(text || "{}");
    const counts = report.metadata?.vulnerabilities;
    if (counts === undefined) {
      const why = report.message ?? report.error?.summary ?? "no answer";
      console.error(`WARNING: npm audit could not run (${why}): production dependencies NOT checked for advisories`);
      return;
    }
    const serious = (counts.high ?? 0) + (counts.critical ?? 0);
    console.log(`npm audit --omit=dev: ${counts.total ?? 0} advisories, ${serious} high or critical`);
    if (serious > 0) process.exit(1);
  });
' || { npm audit --omit=dev --audit-level=high >&2; exit 1; }

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
