#!/usr/bin/env bash
# Microsoft-hosted agents run as a non-root user with passwordless sudo; tools/setup.sh installs Debian
# packages only as root, so install its list here first. The list is read from tools/setup.sh itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
packages=$(sed -n 's/^APT_PACKAGES=(\(.*\))$/\1/p' tools/setup.sh)
if [[ -z "$packages" ]]; then
  echo "could not read APT_PACKAGES from tools/setup.sh" >&2
  exit 1
fi
# shellcheck disable=SC2086  # word splitting of the package list is intended
sudo apt-get update -qq
# shellcheck disable=SC2086
sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages
