"""Grants to "the deployer" (Key Vault officers, AKS cluster admin, the package reader, the batch publisher) go to
the principal that applies the stack holding them, read by that stack itself: a cross-stack reference to the
foundation's client would freeze whoever applied the foundation into every later stack."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.xdist_group("stacks")

CLIENT = "${data.azurerm_client_config.Client.object_id}"


def test_no_stack_reads_the_deployer_from_the_foundation(synth) -> None:
    for name in synth.stack_names():
        document = synth.stack(name)
        exported = [key for key in document.get("output", {}) if "client_config" in key]
        assert exported == [], f"{name} exports the applying principal: {exported}"
        assert "client_configClient" not in json.dumps(document.get("resource", {})), name


@pytest.mark.parametrize("stack", ["ml", "functions", "global-data"])
def test_stacks_with_deployer_grants_read_their_own_client(synth, stack: str) -> None:
    for env in ("dev", "prod"):
        document = synth.stack(f"{env}-{stack}")
        assert "Client" in document["data"]["azurerm_client_config"]
        assert CLIENT in json.dumps(document["resource"]), f"{env}-{stack} grants nothing to its own deployer"
