#!/usr/bin/env bash
# Install the Debian packages the lab, the tests and the benchmarks run, when missing.
# As root it installs them; otherwise it prints the exact command to run.
set -euo pipefail
# binary -> package
declare -A need=(
  [knotd]=knot [knotc]=knot [kdig]=knot-dnsutils [pebble]=pebble [nginx]=nginx
  [testssl]=testssl.sh [sslscan]=sslscan [wrk]=wrk [hey]=hey [git]=git [shellcheck]=shellcheck
  [chromium]=chromium [crontab]=cron [supervisord]=supervisor
  [prometheus]=prometheus [promtool]=prometheus [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  [prometheus-alertmanager]=prometheus-alertmanager [amtool]=prometheus-alertmanager
)
missing=()
for bin in "${!need[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${need[$bin]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $pkgs" >&2
  exit 1
fi
echo "Installing system packages: $pkgs"
apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
