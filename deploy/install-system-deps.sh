#!/usr/bin/env bash
# System packages the test suite and the benchmarks use, installed when missing (Debian/Ubuntu, as root):
#   openssh-server + sshpass  real sshd logins in the end-to-end tests
#   aide                      the baseline the file-integrity benchmark is compared with
#   (lint) shellcheck         checks the install scripts in deploy/
# Elsewhere, or without root, it says what is missing; the tests that need it then skip with a reason.
set -euo pipefail

wanted=(openssh-server sshpass aide shellcheck)
missing=()
for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-system-deps: missing ${missing[*]} (needs root and apt-get); tests that need them will skip" >&2
    exit 0
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the package's own sshd from starting on port 22: the tests start theirs on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" -eq 1 ] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
