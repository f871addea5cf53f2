"""checkov's JSON results, read into findings that name the construct and the Python file to fix."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tools.checks.scan.sources import construct_metadata, file_for
from tools.synth_output import SynthStack, load_stacks

# Resources that StandardInterfaces creates inside every module: the hardened shape lives in interfaces.py.
INTERFACE_TYPES = {"azurerm_monitor_diagnostic_setting", "azurerm_private_endpoint", "azurerm_management_lock"}


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    result: str  # PASSED, FAILED or SKIPPED
    stack: str
    file_path: str  # as checkov reports it: /stacks/<stack>/cdk.tf.json
    resource: str  # as checkov reports it (the address the baseline uses)
    resource_type: str
    construct_path: str
    python_file: str
    details: tuple[str, ...] = ()
    suppress_comment: str = ""

    def describe(self) -> str:
        lines = [
            f"{self.check_id}: {self.check_name}",
            f"    construct: {self.construct_path}  ({self.resource_type})",
            f"    defined in: {self.python_file}",
        ]
        lines += [f"    detail: {detail}" for detail in self.details]
        return "\n".join(lines)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)

    def with_result(self, result: str) -> list[Finding]:
        return [f for f in self.findings if f.result == result]

    @property
    def failed(self) -> list[Finding]:
        return self.with_result("FAILED")

    @property
    def skipped(self) -> list[Finding]:
        return self.with_result("SKIPPED")

    @property
    def checks_run(self) -> int:
        return len(self.findings)


def _resource_type(document_types: dict[tuple[str, str], str], stack: str, resource: str) -> str:
    prefix, _, unique_id = resource.rpartition(".")
    return document_types.get((stack, unique_id), prefix)


def _types_by_id(stacks: dict[str, SynthStack]) -> dict[tuple[str, str], str]:
    return {(name, unique_id): resource_type for name, stack in stacks.items()
            for resource_type, blocks in stack.resources().items() for unique_id in blocks}


def read_results(results_json: Path, outdir: Path, sources: dict[str, str]) -> ScanResult:
    raw = json.loads(results_json.read_text(encoding="utf-8"))
    reports = raw if isinstance(raw, list) else [raw]
    stacks = load_stacks(outdir)
    paths = construct_metadata(stacks)
    types = _types_by_id(stacks)
    scan = ScanResult()
    for report in reports:
        results = report.get("results", {})
        scan.parsing_errors += results.get("parsing_errors", [])
        for key in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in results.get(key, []):
                stack = Path(item["file_path"]).parent.name
                unique_id = item["resource"].rpartition(".")[2]
                path = paths.get((stack, unique_id), f"{stack}/{unique_id}")
                resource_type = _resource_type(types, stack, item["resource"])
                python_file = file_for(sources, path)
                if resource_type in INTERFACE_TYPES:
                    python_file = f"stacks/modules/interfaces.py (applied by {python_file})"
                scan.findings.append(Finding(
                    check_id=item["check_id"],
                    check_name=item.get("check_name", ""),
                    result=item["check_result"]["result"],
                    stack=stack,
                    file_path=item["file_path"],
                    resource=item["resource"],
                    resource_type=resource_type,
                    construct_path=path,
                    python_file=python_file,
                    details=tuple(item.get("details") or ()),
                    suppress_comment=item["check_result"].get("suppress_comment", ""),
                ))
    return scan
