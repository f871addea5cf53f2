#!/usr/bin/env bash
# Install the Terraform CLI version pinned in .terraform-version from HashiCorp's release archive,
# checked against the SHA-256 pinned below, into $TERRAFORM_INSTALL_DIR (default /usr/local/bin).
# Pipelines run it through `make terraform`; on a laptop, tenv/tfenv read .terraform-version as well.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(tr -d '[:space:]' < .terraform-version)
target_dir=${TERRAFORM_INSTALL_DIR:-/usr/local/bin}
# sha256 of the `terraform` binary inside terraform_<version>_linux_amd64.zip, per pinned version.
declare -A BINARY_SHA256=(
  [1.11.4]=268000fca5c61021c6396893d9483007ba589ad9d0aaccbd7dfa8c78bf7dbe23
)

if command -v terraform >/dev/null 2>&1 && terraform version -json | grep -q "\"terraform_version\": \"$version\""; then
  echo "terraform $version already installed: $(command -v terraform)"
  exit 0
fi
expected=${BINARY_SHA256[$version]:-}
if [[ -z "$expected" ]]; then
  echo "No pinned checksum for terraform $version in $0; add it before changing .terraform-version." >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  *) echo "Pinned checksums cover linux_amd64 only (this machine: $(uname -m))." >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="https://releases.hashicorp.com/terraform/${version}/terraform_${version}_linux_${arch}.zip"
echo "Downloading $url"
curl --fail --silent --show-error --location --retry 3 --output "$work/terraform.zip" "$url"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("terraform", sys.argv[2])' "$work/terraform.zip" "$work"
echo "$expected  $work/terraform" | sha256sum --check --quiet
sudo=()
[[ -w "$target_dir" ]] || sudo=(sudo)
"${sudo[@]}" install -m 0755 "$work/terraform" "$target_dir/terraform"
echo "Installed terraform $version to $target_dir/terraform"
