#!/usr/bin/env bash
# One-time set-up of a fresh machine, run by `make` before any target needs it:
# Debian packages (graphviz, Chromium, wrk), the Python virtual environment pinned by
# constraints.txt, and the project-local npm tools (Node 22 for cdktn-cli, Azurite, Cosmos emulator).
# SETUP_PROFILE=deploy (pipeline deploy jobs) installs the Python environment only: no Debian packages,
# no dev tools, no npm tools. Terraform is checked, not installed: `make terraform` installs the version
# pinned in .terraform-version (pipelines run it; on a laptop this script prints the command).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

profile=${SETUP_PROFILE:-full}
case "$profile" in full|deploy) ;; *) echo "SETUP_PROFILE must be full or deploy, not '$profile'" >&2; exit 2 ;; esac

APT_PACKAGES=(graphviz wrk fonts-dejavu-core)
# Prep's Spark engine in local mode (parity test, make bench-prep): PySpark 4.0 runs on Java 17 or 21;
# Debian's headless OpenJDK 17 unless one of those is on PATH (the engine prefers Debian's 17 when installed).
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1 || true)
if [[ $java_major != 17 && $java_major != 21 ]]; then
  APT_PACKAGES+=(openjdk-17-jre-headless)
fi
# The browser tests need a headless Chromium: Debian's package, unless a Chrome is already installed
# (Microsoft-hosted Ubuntu agents ship Google Chrome; Ubuntu's own chromium package is only a snap stub).
if [[ ! -x /usr/bin/chromium ]] && ! command -v google-chrome >/dev/null 2>&1; then
  APT_PACKAGES+=(chromium chromium-driver)
fi
[[ $profile == deploy ]] && APT_PACKAGES=()
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
if [[ $profile == deploy ]]; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e .
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
  step "npm tools (project-local Node 22, cdktn-cli, Azurite, Cosmos DB emulator)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The synth runs under `python -O` (stacks/__init__.py says why), which reads .opt-1.pyc files. With
# PYTHONDONTWRITEBYTECODE set (the Makefile sets it) no run writes them, so every synth would compile the jsii
# bindings again (about 4 s). Compiling them here needs no Node, so deploy jobs get them too.
step "Bytecode for the synth's optimized mode (the jsii bindings)"
site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
.venv/bin/python -m compileall -q -o 1 -j 0 "$site_packages"/cdktn "$site_packages"/cdktn_provider_* \
  "$site_packages"/constructs "$site_packages"/jsii >/dev/null

terraform_version=$(tr -d '[:space:]' < .terraform-version)
if ! command -v terraform >/dev/null 2>&1 || ! terraform version -json | grep -q "\"terraform_version\": \"$terraform_version\""; then
  echo
  echo "Note: Terraform $terraform_version (.terraform-version) is not on PATH; make plan/apply/deploy need it."
  echo "      Install it with: make terraform   (or: tenv tf install, which reads .terraform-version)"
fi

echo
echo "Set-up finished in $((SECONDS - start)) s."
