#!/usr/bin/env bash
# Ensure the external tools ferry's test kit drives are installed:
# docker-registry (CNCF distribution 2.8), skopeo, htpasswd (apache2-utils), openssl,
# gpg and gpgconf (gnupg, for the signing tests),
# and GNU time (/usr/bin/time, for peak-memory measurements).
# Idempotent: does nothing when every tool is already on PATH.
set -euo pipefail

tools=(docker-registry skopeo htpasswd openssl gpg gpgconf /usr/bin/time)
missing=()
for t in "${tools[@]}"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
echo "ensure-tools: missing ${missing[*]}; installing with apt-get" >&2

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo -n)
    else
        echo "ensure-tools: ERROR: not root and sudo is unavailable; cannot install ${missing[*]}" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: ERROR: apt-get not found; install ${missing[*]} by hand" >&2
    exit 1
fi

if ! "${sudo_cmd[@]}" apt-get update -qq; then
    echo "ensure-tools: ERROR: apt-get update failed" >&2
    exit 1
fi
if ! "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq docker-registry skopeo apache2-utils openssl gnupg time; then
    echo "ensure-tools: ERROR: apt-get install failed" >&2
    exit 1
fi

still=()
for t in "${tools[@]}"; do
    command -v "$t" >/dev/null 2>&1 || still+=("$t")
done
if [ "${#still[@]}" -ne 0 ]; then
    echo "ensure-tools: ERROR: still missing after install: ${still[*]}" >&2
    exit 1
fi
echo "ensure-tools: installed" >&2
