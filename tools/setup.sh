#!/usr/bin/env bash
# One-time set-up of a fresh machine, run by `make` before any target needs it:
# Debian packages (graphviz, Chromium, wrk), the Python virtual environment pinned by
# constraints.txt, and the project-local npm tools (Node 22 for cdktn-cli, Azurite, Cosmos emulator).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

APT_PACKAGES=(graphviz wrk fonts-dejavu-core)
# The browser tests need a headless Chromium: Debian's package, unless a Chrome is already installed
# (Microsoft-hosted Ubuntu agents ship Google Chrome; Ubuntu's own chromium package is only a snap stub).
if [[ ! -x /usr/bin/chromium ]] && ! command -v google-chrome >/dev/null 2>&1; then
  APT_PACKAGES+=(chromium chromium-driver)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif sudo -n true 2>/dev/null; then
    sudo=(sudo)  # CI agents: passwordless sudo
  else
    echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "Python virtual environment (.venv, pinned by constraints.txt)"
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip==26.3"
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"

step "npm tools (project-local Node 22, cdktn-cli, Azurite, Cosmos DB emulator)"
npm ci --no-audit --no-fund --loglevel=error

echo
echo "Set-up finished in $((SECONDS - start)) s."
