"""The Terraform CLI this project pins (.terraform-version) and a way to run it in one stack's folder.

Every place that needs Terraform reads the version from .terraform-version: `make terraform` (the
pipelines' install step), tools/setup.sh (which tells a laptop what to install) and this module (which
refuses another version before anything touches state).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VERSION_FILE = ROOT / ".terraform-version"
INSTALL_COMMAND = "bash tools/install_terraform.sh   (or: tenv tf install, which reads .terraform-version)"


class TerraformMissing(Exception):
    """No Terraform on PATH, or not the pinned version."""


def required_version(version_file: Path = VERSION_FILE) -> str:
    return version_file.read_text(encoding="utf-8").strip()


def installed_version(binary: str) -> str | None:
    try:
        completed = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    return json.loads(completed.stdout).get("terraform_version")


def check_terraform(path: str | None = None, version_file: Path = VERSION_FILE) -> str:
    """Path of the pinned Terraform; TerraformMissing (with the install command) otherwise."""
    wanted = required_version(version_file)
    binary = shutil.which("terraform", path=path)
    if binary is None:
        raise TerraformMissing(f"terraform {wanted} is required and not on PATH. Install it with:\n  {INSTALL_COMMAND}")
    found = installed_version(binary)
    if found != wanted:
        raise TerraformMissing(
            f"terraform {wanted} is required (.terraform-version), {binary} is {found or 'unreadable'}. "
            f"Install the pinned version with:\n  {INSTALL_COMMAND}"
        )
    return binary


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


# (arguments after `terraform`, working folder, environment) -> outcome; tests pass a recording fake.
Runner = Callable[[list[str], Path, Mapping[str, str]], Outcome]


def run_terraform(args: list[str], workdir: Path, env: Mapping[str, str]) -> Outcome:
    """Run terraform in `workdir`, streaming its output to the log and keeping a copy."""
    # Read, not logged: warnings go to the log, never into the JSON.
    shown = args[:1] == ["show"] or args[:2] == ["state", "pull"]
    process = subprocess.Popen(
        ["terraform", *args], cwd=workdir, env=dict(env), stdout=subprocess.PIPE,
        stderr=None if shown else subprocess.STDOUT, text=True,
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        if not shown:
            sys.stdout.write(line)
        lines.append(line)
    return Outcome(process.wait(), "".join(lines))


def terraform_environment(subscription_id: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every terraform call gets: the environment file's subscription, no prompts, no telemetry."""
    env = dict(os.environ if base is None else base)
    env["ARM_SUBSCRIPTION_ID"] = subscription_id
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    env.setdefault("CHECKPOINT_DISABLE", "1")
    env.setdefault("TF_CLI_CONFIG_FILE", str(ROOT / "tools" / "terraformrc"))
    return env
