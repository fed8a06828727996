#!/usr/bin/env bash
# Installs the Debian packages Tenure's tests need beyond npm. Idempotent: installs only what is
# missing, and does nothing when everything is present. Servers are started by the tests themselves.
set -euo pipefail

# chromium: Debian's browser for the web console's end-to-end tests (playwright-core drives it; no browser is
# downloaded), and a font for it to render the screenshots with (chromium only depends on fontconfig).
# prometheus: a real server scrapes `tenure serve` in test/metrics-prometheus.test.ts, and its promtool checks
# the shipped alert rules. Installing it starts no service here (the tests run their own, on a free port).
# podman, runc, debootstrap: scripts/image.sh builds the container image and test/image.test.ts runs it
# (runc named, or apt picks crun for podman; these machines run containers with Debian's runc).
# rsyslog, rsyslog-gnutls: test/siem-syslog.test.ts streams the audit log to a private rsyslogd (its own
# config and port) over TCP and over TLS (the gtls driver). The system's own rsyslog service is not used.
# pgbouncer: test/pgbouncer.test.ts runs Tenure through it in transaction pooling mode. patroni, etcd-server,
# etcd-client, haproxy: the failover topology of test/ha (docs/high-availability.md). None starts a service here.
# wrk: the closed-loop load of `npm run bench -- --only http` (its smoke size runs in test/bench-smoke.test.ts).
PACKAGES=(postgresql postgresql-client slapd ldap-utils openssh-server openssh-client chromium fonts-dejavu-core prometheus
  podman runc debootstrap rsyslog rsyslog-gnutls pgbouncer patroni etcd-server etcd-client haproxy wrk)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "system-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
