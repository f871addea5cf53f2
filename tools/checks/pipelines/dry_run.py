"""`make pipelines-dry-run`: walk each pipeline's stages, jobs and steps in order on this machine.

Each pipeline is expanded as Azure DevOps compiles it (tools/checks/pipelines/expand.py) and walked as a run in
which every step succeeds and every gate says yes (conditions on parameters still apply). Every job starts from a
fresh copy of the repository's tracked files; files move between jobs only through `publish`/`download`,
as on real agents. Steps:

- `make` targets that need no cloud run for real (synth, plan-summary, terraform);
- Terraform targets (plan, apply) run for real against a fake Azure boundary: a fake `terraform` on PATH
  that answers like an empty subscription filling up as it applies (tools/checks/pipelines/fake_azure/);
- Azure steps go through tools/deploy/with_azure_oidc.sh with the variables AzureCLI@2 would set;
- a stage with a deployment job waits for its environment's checks before it starts (a FAKE approval that
  records which saved plans the published artifacts held at that moment: what an approver could read);
- output variables (`##vso[task.setvariable ...;isOutput=true]`) of named steps feed later conditions, and
  `##vso[build.addbuildtag]` tags the run (pipeline completion triggers filter on tags);
- with `rerun_failed_jobs`, a job that fails is run again as "Rerun failed jobs" does (System.JobAttempt 2,
  the same artifacts, a fresh agent) and the run goes on;
- targets whose other side is an Azure SDK, `az` or a long local run (verify, ml-*, app-*, setup, lint, test,
  scan) are checked: the target exists (`make -n`) and every file it is given exists or comes from a step
  that only Azure can run.

A wrong target, a file a job expects from an earlier job or a missing tool fails the dry run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.checks.pipelines.expand import Job, evaluate, expand, pipeline_paths

ROOT = Path(__file__).resolve().parents[3]
FAKE_AZURE = Path(__file__).with_name("fake_azure")
RUN = {"synth", "plan-summary", "terraform", "pipeline-tag"}
FAKE_TERRAFORM = {"plan", "apply"}
# What a checked-only target would write (so a later `publish` of it is expected to be missing here).
CHECKED_OUTPUTS = {
    "ml-train-remote": "reports/ml/{ENV}",
    "app-model": "ml/outputs/model",
    "package-app": "dist/app.zip",
    "package-functions": "dist/functions.zip",
    "test": "reports/pytest",
    "scan": "reports/checkov",
}
PATH_ARGUMENTS = ("CDKTF_OUT", "PLAN_DIR", "ML_RESULTS", "APP_PACKAGE", "FUNCTIONS_PACKAGE")
AZURE_CLI_TASK = {
    "AZURESUBSCRIPTION_CLIENT_ID": "00000000-0000-0000-0000-00000000c11e",
    "AZURESUBSCRIPTION_TENANT_ID": "00000000-0000-0000-0000-0000000te4a7",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "00000000-0000-0000-0000-00000000sc01",
    "SYSTEM_OIDCREQUESTURI": "http://127.0.0.1:9/oidc",
}
_MACRO = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.]*)\)")
_SET_OUTPUT = re.compile(r"##vso\[task\.setvariable variable=([\w.]+);isOutput=true\](.*)")
_ADD_TAG = re.compile(r"##vso\[build\.addbuildtag\](.+)")


class DryRunFailed(Exception):
    pass


class JobFailed(DryRunFailed):
    """A step failed the way a real run can (an Azure-side error), so the job may be rerun."""


@dataclass
class Walk:
    root: Path
    subscription: Path  # the fake Azure boundary's state
    artifacts: dict[str, Path | None] = field(default_factory=dict)  # None: only Azure would produce it
    log: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # "<stage>.<job>.<step>.<variable>" -> value
    tags: set[str] = field(default_factory=set)
    rerun_failed_jobs: bool = False
    fake_azure: dict[str, str] = field(default_factory=dict)  # FAKE_AZURE_* switches for this run

    def note(self, line: str) -> None:
        print(line, flush=True)
        self.log.append(line)

    def event(self, **fields: Any) -> None:
        with (self.subscription / "events.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps(fields) + "\n")

    def events(self) -> list[dict[str, Any]]:
        path = self.subscription / "events.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        return [json.loads(line) for line in lines]

    def approve(self, stage: str, environment: str) -> None:
        """FAKE environment checks: they run before the stage starts (Learn: approvals-checks, "Checks are
        evaluated before a stage that uses the resource starts"); the approver can read every published plan."""
        seen = sorted({hashlib.sha256(p.read_bytes()).hexdigest() for folder in self.artifacts.values() if folder
                       for p in folder.rglob("tfplan")})
        self.event(event="approval", stage=stage, environment=environment, seen=seen)
        self.note(f"      approval of {environment} for {stage}: {len(seen)} saved plan(s) readable")


def _macros(text: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise DryRunFailed(f"$({name}) has no value in this job")
        return variables[name]

    return _MACRO.sub(value, text)


def _job_variables(job: Job, workspace: Path, attempt: int) -> dict[str, str]:
    predefined = {
        "System.JobAttempt": str(attempt),
        "Pipeline.Workspace": str(workspace),
        "Build.SourcesDirectory": str(workspace / "s"),
        "Build.ArtifactStagingDirectory": str(workspace / "a"),
        "System.AccessToken": "fake-job-access-token",
        "Agent.OS": "Linux",
    }
    variables = {**predefined, **job.variables}
    return {k: _macros(v, predefined) if "$(" in v else v for k, v in variables.items()}


def checkout(destination: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for shared in (".venv", "node_modules"):  # this machine's installed tools, as a cached set-up restores them
        if (ROOT / shared).exists():
            (destination / shared).symlink_to((ROOT / shared).resolve())


def _make_calls(command: str) -> list[tuple[str, dict[str, str], list[str]]]:
    calls = []
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        if words[:1] == ["make"] and len(words) > 1:
            assignments = dict(w.split("=", 1) for w in words[2:] if "=" in w)
            calls.append((words[1], assignments, words))
    return calls


def _environment(walk: Walk, sources: Path, azure: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "AZURE", "SYSTEM_"))}
    env.update({"TF_BUILD": "True", "FAKE_AZURE_SUBSCRIPTION": str(walk.subscription), **walk.fake_azure})
    env["PATH"] = f"{FAKE_AZURE}{os.pathsep}{env.get('PATH', '')}"
    if azure:
        env.update(AZURE_CLI_TASK)
        env["SYSTEM_ACCESSTOKEN"] = "fake-job-access-token"
    return env


def run_make(walk: Walk, sources: Path, target: str, assignments: dict[str, str], words: list[str],
             azure: bool, produced_by_azure: set[str], output_prefix: str | None = None) -> None:
    env = _environment(walk, sources, azure)
    make = ["make", "--no-print-directory", "-o", ".venv/.setup-stamp", *words[1:]]
    if target in RUN or target in FAKE_TERRAFORM:
        command = ["bash", "tools/deploy/with_azure_oidc.sh", *make] if azure else make
        done = subprocess.run(command, cwd=sources, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            failure = JobFailed if target in FAKE_TERRAFORM else DryRunFailed
            raise failure(f"make {target} failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
        for name, value in _SET_OUTPUT.findall(done.stdout):
            if output_prefix:
                walk.outputs[f"{output_prefix}.{name}"] = value.strip()
        walk.tags.update(tag.strip() for tag in _ADD_TAG.findall(done.stdout))
        walk.note(f"      ran   make {' '.join(words[1:])}" + (" (fake Azure)" if target in FAKE_TERRAFORM else ""))
        return
    checked = subprocess.run([*make[:4], "-n", *words[1:]], cwd=sources, env=env, capture_output=True, text=True,
                             check=False)
    if checked.returncode != 0:
        raise DryRunFailed(f"make {target} is not a target here: {checked.stderr.strip()[-500:]}")
    for name in PATH_ARGUMENTS:
        value = assignments.get(name)
        if value and not (sources / value).exists() and not any(value.startswith(p) for p in produced_by_azure):
            raise DryRunFailed(f"make {target}: {name}={value} does not exist in this job")
    if target in CHECKED_OUTPUTS:
        produced_by_azure.add(str(sources / CHECKED_OUTPUTS[target].format(ENV=assignments.get("ENV", ""))))
    walk.note(f"      check make {' '.join(words[1:])} (target exists, inputs present; needs Azure or a long run)")


def walk_job(walk: Walk, stage: str, job: Job, attempt: int = 1) -> None:
    workspace = walk.root / f"{stage}.{job.name}.{attempt}"
    sources = workspace / "s"
    sources.mkdir(parents=True)
    (workspace / "a").mkdir()
    variables = _job_variables(job, workspace, attempt)
    produced_by_azure: set[str] = set()
    walk.note(f"  {job.kind} {stage}.{job.name}" + (f" (environment {job.environment})" if job.environment else "")
              + (f", attempt {attempt}" if attempt > 1 else ""))
    for step in job.steps:
        if "checkout" in step:
            checkout(sources)
        elif "download" in step:
            _download(walk, job, step, variables, workspace, produced_by_azure)
        elif "publish" in step:
            _publish(walk, step, variables, sources, produced_by_azure)
        elif "script" in step:
            prefix = f"{stage}.{job.name}.{step['name']}" if "name" in step else None
            for target, assignments, words in _make_calls(_macros(step["script"], variables)):
                run_make(walk, sources, target, assignments, words, False, produced_by_azure, prefix)
        elif step.get("task") == "AzureCLI@2":
            _azure_cli(walk, job, step, variables, sources, produced_by_azure)
        else:
            walk.note(f"      agent task {step.get('task', next(iter(step)))}")


def _download(walk: Walk, job: Job, step: dict[str, Any], variables: dict[str, str], workspace: Path,
              produced_by_azure: set[str]) -> None:
    """An artifact an earlier job published, into the workspace (or noted as Azure's, when a checked step
    would have written it)."""
    name = _macros(step["artifact"], variables)
    if name not in walk.artifacts:
        raise DryRunFailed(f"{job.name}: downloads artifact {name}, which no earlier job published")
    published = walk.artifacts[name]
    if published is None:
        produced_by_azure.add(str(workspace / name))
    else:
        shutil.copytree(published, workspace / name)
    walk.note(f"      download {name}")


def _azure_cli(walk: Walk, job: Job, step: dict[str, Any], variables: dict[str, str], sources: Path,
               produced_by_azure: set[str]) -> None:
    """An AzureCLI@2 step: signed in through the OIDC wrapper, its make calls checked, not run."""
    inputs = step["inputs"]
    if inputs.get("scriptPath") != "tools/deploy/with_azure_oidc.sh":
        raise DryRunFailed(f"{job.name}: AzureCLI@2 step without the OIDC wrapper")
    if step.get("env", {}).get("SYSTEM_ACCESSTOKEN") != "$(System.AccessToken)":
        raise DryRunFailed(f"{job.name}: AzureCLI@2 step without SYSTEM_ACCESSTOKEN")
    for target, assignments, words in _make_calls(_macros(inputs["arguments"], variables)):
        run_make(walk, sources, target, assignments, words, True, produced_by_azure)


def _publish(walk: Walk, step: dict[str, Any], variables: dict[str, str], sources: Path,
             produced_by_azure: set[str]) -> None:
    name = _macros(step["artifact"], variables)
    path = Path(_macros(step["publish"], variables))
    path = path if path.is_absolute() else sources / path
    if path.exists():
        walk.artifacts[name] = path
        if any(part == ".terraform" for p in path.rglob("*") for part in p.relative_to(path).parts):
            raise DryRunFailed(f"artifact {name} carries .terraform/ provider folders")
        walk.note(f"      publish {name}")
    elif any(str(path).startswith(p) for p in produced_by_azure):
        walk.artifacts[name] = None
        walk.note(f"      publish {name} (written by a step the dry run only checks)")
    elif step.get("condition") in ("succeededOrFailed()", "always()"):
        walk.note(f"      publish {name}: nothing to publish (the step tolerates that)")
    else:
        raise DryRunFailed(f"publish {name}: {path} does not exist")


def runs(condition: str | None, dependencies: list[str] | None = None, skipped: set[str] | frozenset[str] = frozenset(),
         outputs: dict[str, str] | None = None) -> bool:
    """A stage's or job's condition on a run where every step that ran succeeded and every gate said yes.

    A skipped dependency is not a success: `succeeded()` is false after one, as in Azure DevOps.
    """
    dependencies = dependencies or []
    if not condition:
        return not set(dependencies) & skipped

    def output(match: re.Match[str]) -> str:  # a value a step set; a step the dry run only checks says yes
        return "'" + (outputs or {}).get(f"{match.group(1)}.{match.group(2)}", "true") + "'"

    text = re.sub(r"dependencies\.(\w+)\.outputs\['([^']*)'\]", output, condition)
    text = re.sub(r"\bsucceeded\('([^']+)'\)", lambda m: str(m.group(1) not in skipped).lower(), text)
    text = re.sub(r"\bsucceeded\(\)", str(not set(dependencies) & skipped).lower(), text)
    text = re.sub(r"\b(succeededOrFailed|always)\(\)", "true", text)
    text = re.sub(r"\b(failed|canceled)\(\)", "false", text)
    return bool(evaluate(text, {"parameters": {}, "variables": {}}))


def dry_run(pipeline: Path, root: Path, parameters: dict[str, Any] | None = None, *,
            subscription: Path | None = None, rerun_failed_jobs: bool = False,
            fake_azure: dict[str, str] | None = None) -> Walk:
    """One run of `pipeline`; runs that share `subscription` see each other's fake Azure."""
    expanded = expand(pipeline, parameters)
    walk = Walk(root / expanded.name, subscription or root / "subscription",
                rerun_failed_jobs=rerun_failed_jobs, fake_azure=fake_azure or {})
    walk.subscription.mkdir(parents=True, exist_ok=True)
    walk.note(f"pipeline {expanded.name}")
    skipped: set[str] = set()
    for stage in expanded.stages:
        depends = stage.definition.get("dependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        if not runs(stage.definition.get("condition"), depends, skipped, walk.outputs):
            walk.note(f" stage {stage.name}: skipped by its condition")
            skipped.add(stage.name)
            continue
        walk.note(f" stage {stage.name}")
        for environment in sorted({job.environment for job in stage.jobs if job.environment}):
            walk.approve(stage.name, environment)
        for job in stage.jobs:
            if runs(job.definition.get("condition")):
                _walk_with_reruns(walk, stage.name, job)
    return walk


def _walk_with_reruns(walk: Walk, stage: str, job: Job) -> None:
    try:
        walk_job(walk, stage, job)
    except JobFailed as failure:
        if not walk.rerun_failed_jobs:
            raise
        walk.note(f"      FAILED ({str(failure).splitlines()[0]}); rerunning failed jobs")
        walk_job(walk, stage, job, attempt=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", action="append", help="pipeline file stem (default: every pipeline)")
    args = parser.parse_args(argv)
    paths = [p for p in pipeline_paths() if not args.pipeline or p.stem in args.pipeline]
    failed = 0
    for path in paths:
        with tempfile.TemporaryDirectory(prefix=f"dry-run-{path.stem}-") as folder:
            try:
                dry_run(path, Path(folder))
            except DryRunFailed as exc:
                print(f"DRY RUN FAILED ({path.name}): {exc}", file=sys.stderr)
                failed += 1
    print(f"{len(paths) - failed} of {len(paths)} pipelines walked without a problem")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
