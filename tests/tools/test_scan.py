"""`make scan` over every stack of every environment: zero failed checks, readable findings, reports."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.policies.scan_support import platform_scan
from tools.checks.scan import POLICIES_DIR as POLICIES
from tools.checks.scan.docs import DOCUMENTS, START, suppression_table
from tools.checks.scan.runner import ScanOutcome
from tools.checks.scan.summary import render

pytestmark = pytest.mark.xdist_group("scan")


@pytest.fixture(scope="session")
def scan(tmp_path_factory: pytest.TempPathFactory) -> ScanOutcome:
    return platform_scan(tmp_path_factory)


def test_every_stack_of_every_environment_passes_with_zero_failed_checks(scan):
    assert scan.result.failed == [], render(scan)
    assert scan.ok, scan.problems
    stacks = {f.stack for f in scan.result.findings}
    assert {s.split("-")[0] for s in stacks} == {"dev", "prod"}
    assert stacks == {p.parent.name for p in scan.outdir.glob("stacks/*/cdk.tf.json")}
    assert scan.result.parsing_errors == []


def test_builtin_azure_checks_and_all_organisation_policies_ran(scan):
    ids = {f.check_id for f in scan.result.findings}
    assert sum(i.startswith("CKV_AZURE_") for i in ids) > 50
    declared = "\n".join(path.read_text(encoding="utf-8") for path in POLICIES.glob("*.*"))
    organisation = set(re.findall(r"\bid(?:=|:\s*)\"?(CKV2?_CARPRICE_\d+)", declared))
    assert len(organisation) >= 12
    assert {i for i in ids if "CARPRICE" in i} == organisation


def test_suppressions_stay_below_ten_percent_and_each_carries_a_reason(scan):
    assert 0 < len(scan.result.skipped) < 0.10 * scan.result.checks_run
    assert len(scan.suppressions) < 0.10 * scan.result.checks_run
    assert scan.stale_suppressions == []
    for finding in scan.result.skipped:
        assert finding.suppress_comment.startswith("suppressed by .checkov.baseline: ")
        assert len(finding.suppress_comment) > 60


def test_dev_only_suppressions_do_not_hide_prod_resources(scan):
    dev_only = [s for s in scan.suppressions if s.file_glob.startswith("/stacks/dev-")]
    assert dev_only
    for entry in dev_only:
        prod = [f for f in scan.result.findings if f.check_id == entry.check_id and f.resource == entry.resource
                and f.stack.startswith("prod-")]
        assert prod and all(f.result == "PASSED" for f in prod), entry


def test_printed_summary_names_totals_suppressions_and_reasons(scan):
    text = render(scan)
    assert f"{scan.result.checks_run} checks run" in text and "0 failed" in text
    assert f"Suppressions: {len(scan.suppressions)} entries" in text
    for entry in scan.suppressions:
        assert entry.reason in text
    assert text.rstrip().endswith("RESULT: PASSED, zero failed checks")


def test_findings_name_the_construct_path_and_the_python_file(scan):
    lake = [f for f in scan.result.findings if f.stack == "prod-data" and f.resource_type == "azurerm_storage_account"]
    assert {(f.construct_path, f.python_file) for f in lake} == {
        ("prod-data/DataLake/Storage/Account", "stacks/modules/storage.py")
    }
    group = [f for f in scan.result.findings
             if f.stack == "prod-foundation" and f.resource_type == "azurerm_resource_group"]
    assert group and all(f.python_file == "stacks/foundation.py" for f in group)
    # Private endpoints come from the shared interfaces, applied by the module that owns the resource.
    endpoints = [f for f in scan.result.findings if f.stack == "prod-foundation" and f.resource_type ==
                 "azurerm_private_endpoint"]
    assert endpoints and {f.python_file for f in endpoints} == {
        "stacks/modules/interfaces.py (applied by stacks/modules/key_vault.py)"
    }


def test_junit_sarif_and_cli_reports_are_written(scan):
    reports = scan.reports_dir
    junit = ET.parse(reports / "results_junitxml.xml").getroot()
    cases = junit.iter("testcase")
    outcomes = [("failure" if c.find("failure") is not None else "skipped" if c.find("skipped") is not None else "ok")
                for c in cases]
    assert outcomes.count("failure") == 0
    assert outcomes.count("skipped") == len(scan.result.skipped)
    sarif = json.loads((reports / "results_sarif.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["tool"]["driver"]["name"] == "Checkov"
    assert [r for r in sarif["runs"][0]["results"] if r.get("level") == "error"] == []
    cli = (reports / "results_cli.txt").read_text()
    assert "Failed checks: 0" in cli


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_security_doc_and_readme_list_every_suppression_with_its_reason(document):
    expected = f"{START}\n{suppression_table()}\n"
    assert expected in document.read_text(encoding="utf-8"), "run: python -m tools.checks.scan.docs"
