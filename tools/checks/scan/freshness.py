"""Synthesize only when needed: cdktf.out/ is missing or older than the sources it is made from."""

from __future__ import annotations

from pathlib import Path

from tools.checks.scan import REPO_ROOT

SOURCE_GLOBS = ("stacks/**/*.py", "stacks/environments/*.yaml", "contract/*.py")


def newest_source_mtime(root: Path = REPO_ROOT) -> float:
    return max((p.stat().st_mtime for pattern in SOURCE_GLOBS for p in root.glob(pattern)), default=0.0)


def needs_synth(outdir: Path, root: Path = REPO_ROOT, environments: list[str] | None = None) -> bool:
    """Missing, older than a source, or lacking an environment (e.g. after `make synth ENV=dev`)."""
    manifest = outdir / "manifest.json"
    if not manifest.is_file() or not any(outdir.glob("stacks/*/cdk.tf.json")):
        return True
    wanted = set(environments or (p.stem for p in (root / "stacks" / "environments").glob("*.yaml")))
    present = {p.parent.name.split("-")[0] for p in outdir.glob("stacks/*/cdk.tf.json")}
    return not wanted <= present or manifest.stat().st_mtime < newest_source_mtime(root)


def ensure_synth(outdir: Path, environments: list[str] | None = None) -> bool:
    """Synthesize the environments (default: all) into `outdir` if it is stale; True when it did."""
    if not needs_synth(outdir, environments=environments):
        return False
    from stacks.config import load_environments
    from stacks.main import synthesize

    print(f"{outdir.name}/ is missing, incomplete or older than stacks/: synthesizing ...", flush=True)
    synthesize(load_environments(environments), outdir)
    return True
