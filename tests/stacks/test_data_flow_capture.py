"""Event Hubs Capture into bronze: the capture block passes azurerm v4.81.0's schema checks
(internal/services/eventhub/eventhub_resource.go, validate/eventhub_archive.go), and the identity, role and
network exception Microsoft Learn names for identity-based capture are all there."""

from __future__ import annotations

import pytest

import contract as c
from stacks.modules.propagation import ROLE_PROPAGATION_WAIT

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]
# validate.ValidateEventHubArchiveNameFormat: every one of these must appear, in any order.
ARCHIVE_TOKENS = ("{Namespace}", "{EventHub}", "{PartitionId}", "{Year}", "{Month}", "{Day}", "{Hour}", "{Minute}",
                  "{Second}")


def test_archive_name_format_has_every_token_the_provider_requires():
    assert all(token in c.CAPTURE_ARCHIVE_NAME_FORMAT for token in ARCHIVE_TOKENS)
    assert c.CAPTURE_ARCHIVE_NAME_FORMAT.startswith(f"{c.LAKE_CAPTURE_FOLDER}/")


@pytest.mark.parametrize("env", ENVS)
def test_capture_writes_avro_to_bronze_with_the_namespace_identity(synth, env):
    hub = synth.one(f"{env}-data", "azurerm_eventhub")
    capture = hub["capture_description"]
    assert capture["enabled"] is True
    assert capture["encoding"] in {"Avro", "AvroDeflate"}
    assert 60 <= capture["interval_in_seconds"] <= 900  # IntBetween(60, 900)
    assert 10485760 <= capture.get("size_limit_in_bytes", 314572800) <= 524288000
    destination = capture["destination"]
    assert destination["name"] == "EventHubArchive.AzureBlockBlob"  # the only value StringInSlice accepts
    assert destination["blob_container_name"] == "bronze"
    assert destination["archive_name_format"] == c.CAPTURE_ARCHIVE_NAME_FORMAT
    lake = next(a for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a["is_hns_enabled"])
    assert synth.referenced(f"{env}-data", destination["storage_account_id"]).name == lake["name"]
    # SystemAssigned needs no storage_authentication_id (required only for UserAssigned) but needs the
    # namespace's identity enabled (docs/r/eventhub.html.markdown note).
    assert destination["storage_authentication_type"] == "SystemAssigned"
    assert "storage_authentication_id" not in destination
    namespace = synth.one(f"{env}-data", "azurerm_eventhub_namespace")
    assert namespace["identity"]["type"] == "SystemAssigned"
    assert namespace["sku"] in {"Standard", "Premium"}  # Capture is not offered on Basic


@pytest.mark.parametrize("env", ENVS)
def test_capture_identity_is_a_bronze_contributor_before_capture_is_enabled(synth, env):
    grants = [g for g in synth.resources(f"{env}-data", "azurerm_role_assignment")
              if "azurerm_eventhub_namespace." in g["principal_id"]]
    assert len(grants) == 1
    grant = grants[0]
    assert grant["role_definition_name"] == "Storage Blob Data Contributor"
    assert synth.container_of(f"{env}-data", grant["scope"]) == "bronze"
    # Azure validates the destination when capture is enabled: the hub waits until the grant has propagated.
    hub = synth.one(f"{env}-data", "azurerm_eventhub")
    (wait_ref,) = hub["depends_on"]
    kind, _, key = wait_ref.partition(".")
    wait = synth.stack(f"{env}-data")["resource"][kind][key]
    assert kind == "time_sleep" and wait["create_duration"] == ROLE_PROPAGATION_WAIT
    (grant_key,) = [k for k, g in synth.stack(f"{env}-data")["resource"]["azurerm_role_assignment"].items()
                    if g is grant]
    assert wait["depends_on"] == [f"azurerm_role_assignment.{grant_key}"]


@pytest.mark.parametrize("env", ENVS)
def test_lake_admits_the_namespace_through_its_firewall(synth, env):
    """Capture is a trusted service acting with the namespace's identity: the lake keeps the AzureServices bypass
    and names the namespace in a resource-instance rule; in a private environment nothing else gets in."""
    lake = next(a for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a["is_hns_enabled"])
    rules = lake["network_rules"]
    assert "AzureServices" in rules["bypass"] and rules["default_action"] == "Deny"
    [admitted] = [synth.referenced(f"{env}-data", a["endpoint_resource_id"]) for a in rules["private_link_access"]]
    namespace = synth.one(f"{env}-data", "azurerm_eventhub_namespace")["name"]
    assert (admitted.tf_type, admitted.name) == ("azurerm_eventhub_namespace", namespace)
    if env == "prod":
        assert "ip_rules" not in rules and "virtual_network_subnet_ids" not in rules
