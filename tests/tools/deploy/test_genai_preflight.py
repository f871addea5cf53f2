"""`make genai-preflight` against a fake Azure Resource Manager (the real azure-core client, no request leaves)."""

from __future__ import annotations

import pytest

from tests.tools.deploy.fake_arm import FakeArmTransport, FakeCredential
from tools.deploy.infra.genai_preflight import arm_fetch, declared_account, main
from tools.synth_output import load_stacks

pytestmark = pytest.mark.xdist_group("stacks")

MODELS = r"/subscriptions/[^/]+/providers/Microsoft.CognitiveServices/locations/westeurope/models"
USAGES = r"/subscriptions/[^/]+/providers/Microsoft.CognitiveServices/locations/westeurope/usages"
DEPLOYMENTS = r"/subscriptions/.+/accounts/oai-carprice-dev-[a-z0-9]+/deployments"
PROVIDER = r"/subscriptions/[^/]+/providers/Microsoft\.(CognitiveServices|Search)"


def _model(name, version, sku, retires=None):
    entry = {"name": sku, "usageName": f"OpenAI.{sku}.{name}"}
    if retires:
        entry["deprecationDate"] = retires
    return {"kind": "OpenAI", "model": {"format": "OpenAI", "name": name, "version": version, "skus": [entry]}}


def _usage(name, current, limit):
    return {"name": {"value": name}, "currentValue": current, "limit": limit, "unit": "Count"}


def _azure(models, usages, existing=None):
    transport = FakeArmTransport()
    transport.route("GET", PROVIDER, 200, {"registrationState": "Registered"})
    transport.route("GET", MODELS, 200, {"value": models})
    transport.route("GET", USAGES, 200, {"value": usages})
    if existing is not None:
        transport.route("GET", DEPLOYMENTS, 200, {"value": existing})
    return transport


OFFERED = [_model("gpt-4o-mini", "2024-07-18", "DataZoneStandard", retires="2027-03-31T00:00:00Z"),
           _model("text-embedding-3-small", "1", "DataZoneStandard")]


def _run(synth_out, transport, capsys):
    code = main(["--env", "dev", "--outdir", str(synth_out)], fetch=arm_fetch(FakeCredential(), transport))
    return code, capsys.readouterr().out


def test_ready_when_the_region_offers_both_models_and_quota_is_left_with_a_fake_azure(synth_out, capsys):
    transport = _azure(OFFERED, [_usage("OpenAI.DataZoneStandard.gpt-4o-mini", 0, 50),
                                 _usage("OpenAI.DataZoneStandard.text-embedding-3-small", 0, 50)])
    code, out = _run(synth_out, transport, capsys)
    assert code == 0, out
    assert "RESULT: ready" in out
    assert "retires 2027-03-31" in out  # the pinned version's end is printed
    assert not transport.writes()  # read-only


def test_a_version_the_region_does_not_offer_fails_naming_the_offered_ones_with_a_fake_azure(synth_out, capsys):
    offered = [_model("gpt-4o-mini", "2024-05-13", "DataZoneStandard"), OFFERED[1]]
    transport = _azure(offered, [_usage("OpenAI.DataZoneStandard.text-embedding-3-small", 0, 50)])
    code, out = _run(synth_out, transport, capsys)
    assert code == 1
    assert "gpt-4o-mini version 2024-07-18 is not offered in westeurope (offered versions: 2024-05-13)" in out


def test_a_sku_the_region_does_not_offer_fails_with_a_fake_azure(synth_out, capsys):
    offered = [_model("gpt-4o-mini", "2024-07-18", "GlobalStandard"), OFFERED[1]]
    code, out = _run(synth_out, _azure(offered, []), capsys)
    assert code == 1 and "has no DataZoneStandard in westeurope (offered: GlobalStandard)" in out


def test_quota_counts_what_the_accounts_own_deployments_already_hold_with_a_fake_azure(synth_out, capsys):
    config = declared_account(load_stacks(synth_out), "dev")
    chat = next(d for d in config.deployments if d.model == "gpt-4o-mini")
    usages = [_usage("OpenAI.DataZoneStandard.gpt-4o-mini", 48, 50),
              _usage("OpenAI.DataZoneStandard.text-embedding-3-small", 0, 50)]
    code, out = _run(synth_out, _azure(OFFERED, usages), capsys)
    assert code == 1
    assert f"needs {chat.capacity}, limit 50, in use 48" in out and f"request {chat.capacity - 2} more" in out
    mine = [{"name": "chat", "sku": {"name": "DataZoneStandard", "capacity": chat.capacity},
             "properties": {"model": {"name": "gpt-4o-mini", "version": "2024-07-18"}}}]
    code, out = _run(synth_out, _azure(OFFERED, usages, existing=mine), capsys)
    assert code == 0, out


def test_an_environment_without_the_genai_stack_is_a_clear_error(tmp_path, capsys):
    assert main(["--env", "dev", "--outdir", str(tmp_path / "missing")], fetch=lambda path: None) == 2
    assert "error:" in capsys.readouterr().err
