#!/usr/bin/env bash
# Install the Terraform CLI version pinned in .terraform-version from HashiCorp's release archive into
# $TERRAFORM_INSTALL_DIR (default /usr/local/bin). Three checks, each of which refuses the install:
# 1. HashiCorp's published terraform_<version>_SHA256SUMS must list the archive with the SHA-256 pinned here;
# 2. the downloaded archive must have that SHA-256 (sha256sum --check against the SHA256SUMS line);
# 3. the extracted binary must have the binary SHA-256 pinned here.
# Where the pins come from (docs/deploy.md, "Terraform"): ARCHIVE_SHA256 is the linux_amd64 line of
# terraform_1.11.4_SHA256SUMS; BINARY_SHA256 is the sha256sum of the binary the test suite ran against.
# Pipelines run it through `make terraform`; on a laptop, tenv/tfenv read .terraform-version as well.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(tr -d '[:space:]' < .terraform-version)
target_dir=${TERRAFORM_INSTALL_DIR:-/usr/local/bin}
# sha256 of terraform_<version>_linux_amd64.zip as HashiCorp's SHA256SUMS lists it, per pinned version.
declare -A ARCHIVE_SHA256=(
  [1.11.4]=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
)
# sha256 of the `terraform` binary inside that archive, per pinned version.
declare -A BINARY_SHA256=(
  [1.11.4]=268000fca5c61021c6396893d9483007ba589ad9d0aaccbd7dfa8c78bf7dbe23
)

if command -v terraform >/dev/null 2>&1 && terraform version -json | grep -q "\"terraform_version\": \"$version\""; then
  echo "terraform $version already installed: $(command -v terraform)"
  exit 0
fi
expected=${BINARY_SHA256[$version]:-}
archive_expected=${ARCHIVE_SHA256[$version]:-}
if [[ -z "$expected" || -z "$archive_expected" ]]; then
  echo "No pinned checksum for terraform $version in $0; add it before changing .terraform-version." >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  *) echo "Pinned checksums cover linux_amd64 only (this machine: $(uname -m))." >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archive="terraform_${version}_linux_${arch}.zip"
base="https://releases.hashicorp.com/terraform/${version}"
echo "Downloading $base/$archive and terraform_${version}_SHA256SUMS"
curl --fail --silent --show-error --location --retry 3 --output "$work/$archive" "$base/$archive"
curl --fail --silent --show-error --location --retry 3 --output "$work/SHA256SUMS" "$base/terraform_${version}_SHA256SUMS"
published=$(awk -v name="$archive" '$2 == name {print $1}' "$work/SHA256SUMS")
if [[ "$published" != "$archive_expected" ]]; then
  echo "HashiCorp's SHA256SUMS lists $archive as '${published:-nothing}', the pin in $0 is $archive_expected: refusing." >&2
  exit 3
fi
(cd "$work" && grep " $archive\$" SHA256SUMS | sha256sum --check --quiet)
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("terraform", sys.argv[2])' "$work/$archive" "$work"
echo "$expected  $work/terraform" | sha256sum --check --quiet
sudo=()
[[ -w "$target_dir" ]] || sudo=(sudo)
"${sudo[@]}" install -m 0755 "$work/terraform" "$target_dir/terraform"
echo "Installed terraform $version to $target_dir/terraform"
