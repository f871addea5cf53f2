"""Finding: hosted ubuntu-24.04 images ship no Terraform and nothing installed it. One pinned version,
read by the install step, the set-up script, the plan/apply tool and the README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tools.checks.pipelines import expand
from tools.deploy.infra.terraform import VERSION_FILE, required_version

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_pinned_once_and_every_reader_uses_that_file() -> None:
    version = required_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version) and VERSION_FILE == ROOT / ".terraform-version"
    installer = (ROOT / "tools" / "install_terraform.sh").read_text()
    assert ".terraform-version" in installer and f"[{version}]=" in installer  # a checksum for this version
    assert ".terraform-version" in (ROOT / "tools" / "setup.sh").read_text()
    assert "bash tools/install_terraform.sh" in (ROOT / "make" / "pipelines.mk").read_text()
    readme = (ROOT / "docs" / "deploy.md").read_text()
    assert ".terraform-version" in readme and version in readme
    for text in (installer, (ROOT / "tools" / "setup.sh").read_text(), readme):
        other = set(re.findall(r"terraform[ _]v?(1\.\d+\.\d+)", text, re.IGNORECASE)) - {version}
        assert not other, other


def test_every_job_that_plans_or_applies_installs_terraform_first() -> None:
    jobs = 0
    for path in expand.pipeline_paths():
        for stage in expand.expand(path).stages:
            for job in stage.jobs:
                commands = [s.get("script") or s.get("inputs", {}).get("arguments", "") for s in job.steps]
                uses = [i for i, c in enumerate(commands) if re.search(r"make (plan|apply|deploy)\b", c or "")]
                if uses:
                    jobs += 1
                    installs = [i for i, c in enumerate(commands) if c == "make terraform"]
                    assert installs and installs[0] < uses[0], f"{path.stem}: {job.name}"
    assert jobs == 24  # plan and apply of six rounds, dev and prod


def test_setup_tells_a_machine_without_terraform_how_to_install_it(tmp_path: Path) -> None:
    # Only the Terraform check of tools/setup.sh, on a PATH without terraform (/usr/local/bin left out).
    script = (ROOT / "tools" / "setup.sh").read_text()
    check = script[script.index("terraform_version=$("):script.index('echo\necho "Set-up finished')]
    done = subprocess.run(["bash", "-c", check], cwd=ROOT, env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "is not on PATH" in done.stdout
    assert "make terraform" in done.stdout and required_version() in done.stdout


def _install_with_a_fake_release_server(tmp_path: Path, listed_hash: str) -> subprocess.CompletedProcess[str]:
    """tools/install_terraform.sh with a fake `curl` serving a made-up archive and a SHA256SUMS listing it."""
    import zipfile

    version = required_version()
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / f"terraform_{version}_linux_amd64.zip", "w") as archive:
        archive.writestr("terraform", "#!/bin/sh\necho not terraform\n")
    (served / f"terraform_{version}_SHA256SUMS").write_text(f"{listed_hash}  terraform_{version}_linux_amd64.zip\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_curl = bin_dir / "curl"
    fake_curl.write_text(f'#!/bin/bash\nout=""; url=""\nwhile [[ $# -gt 0 ]]; do '
                         f'case "$1" in --output) out=$2; shift 2;; '
                         f'-*) shift;; *) url=$1; shift;; esac; done\ncp "{served}/$(basename "$url")" "$out"\n')
    fake_curl.chmod(0o755)
    return subprocess.run(["bash", str(ROOT / "tools" / "install_terraform.sh")], cwd=ROOT, capture_output=True,
                          text=True, check=False,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "TERRAFORM_INSTALL_DIR": str(tmp_path / "out")})


def test_install_refuses_when_hashicorps_sha256sums_disagrees_with_the_pin(tmp_path: Path) -> None:
    done = _install_with_a_fake_release_server(tmp_path, "0" * 64)
    assert done.returncode == 3 and "HashiCorp's SHA256SUMS lists" in done.stderr
    assert not (tmp_path / "out" / "terraform").exists()


def test_install_refuses_an_archive_that_does_not_match_the_published_sum(tmp_path: Path) -> None:
    installer = (ROOT / "tools" / "install_terraform.sh").read_text()
    pinned = re.search(r"ARCHIVE_SHA256=\(\n  \[[\d.]+\]=([0-9a-f]{64})", installer).group(1)  # type: ignore[union-attr]
    done = _install_with_a_fake_release_server(tmp_path, pinned)  # the listing agrees, the archive does not
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
    assert not (tmp_path / "out" / "terraform").exists()
