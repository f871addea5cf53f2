"""The azurerm custom validators that guard literals our stacks set are translated by hand and run by
`make validate` (tools/checks/provider_rules/custom_validators.py); every other one is explained. An Event Hub of 5,000
partitions passed before, because its rule is a Go function the table could not read."""

from __future__ import annotations

import copy

import pytest

from stacks.config import ConfigError, load_environment
from tests.environments import write_environment
from tools.checks.provider_rules.check import check_resource, instances, is_reference, load_table
from tools.checks.provider_rules.custom_validators import NOT_TRANSLATED, VALIDATORS, duration_days, validator_for

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.fixture(scope="module")
def table():
    return load_table()


def _literal_custom_rules(synth, table):
    """(validator detail, rule) for every `not_checked` rule guarding a literal the synth sets."""
    for stack in synth.stack_names():
        for tf_type, items in synth.stack(stack).get("resource", {}).items():
            rules = table["resources"].get(tf_type, {}).get("rules", [])
            for body in items.values():
                for rule in rules:
                    if rule["kind"] != "not_checked":
                        continue
                    for _, value in instances(body, rule["path"]):
                        values = value if isinstance(value, list) else [value]
                        if any(v is not None and not is_reference(v) for v in values):
                            yield rule["detail"], rule


def test_every_validator_guarding_our_literals_is_translated_or_explained(synth, table):
    details = {detail for detail, _ in _literal_custom_rules(synth, table)}
    unexplained = sorted(d for d in details if d not in VALIDATORS and d not in NOT_TRANSLATED)
    assert unexplained == []
    translated = {d for d, rule in _literal_custom_rules(synth, table) if validator_for(rule) is not None}
    assert len(translated) >= 15


def _eventhub(synth):
    document = synth.stack("prod-data")
    ((key, hub),) = document["resource"]["azurerm_eventhub"].items()
    return key, copy.deepcopy(hub)


@pytest.mark.parametrize(("argument", "value", "expected"), [
    ("partition_count", 5000, "between 1 and 1024"),  # eventhub_partition.go:8
    ("message_retention", 91, "between 1 and 90"),  # eventhub_message_retention.go:8
])
def test_event_hub_limits_from_the_providers_functions(synth, table, argument, value, expected):
    key, hub = _eventhub(synth)
    rules = table["resources"]["azurerm_eventhub"]["rules"]
    assert check_resource("prod-data", "azurerm_eventhub", key, hub, rules) == []
    hub[argument] = value
    (violation,) = check_resource("prod-data", "azurerm_eventhub", key, hub, rules)
    assert violation.argument == argument and expected in violation.message
    assert "eventhub_resource.go" in violation.source


def test_capture_archive_names_need_every_time_component(synth, table):
    key, hub = _eventhub(synth)
    hub["capture_description"]["destination"]["archive_name_format"] = "capture/{Namespace}/{EventHub}/{Year}"
    rules = table["resources"]["azurerm_eventhub"]["rules"]
    (violation,) = check_resource("prod-data", "azurerm_eventhub", key, hub, rules)
    assert "{PartitionId}" in violation.message and "{Second}" in violation.message


@pytest.mark.parametrize(("detail", "good", "bad"), [
    ("validate.CosmosMaxThroughput", 4000, 4500),
    ("validate.PortNumber", 443, 70000),
    ("validate.StatusCodeRange", "200-299", "200"),
    ("validate.CIDR", "203.0.113.0/24", "203.0.113.0/33"),
    ("validate.StorageAccountIpRule", "203.0.113.0/24", "10.1.0.0/16"),  # storage admits public ranges only
    ("validate.ISO8601Duration", "P30D", "30 days"),
    ("resourcegroups.ValidateName", "rg-carprice-prod", "rg-carprice."),
    ("location.EnhancedValidate", "westeurope", ""),
    ("validation.IsRFC3339Time", "2026-12-01T00:00:00Z", "2026-12-01"),
    ("validation.IsUUID", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "not-a-uuid"),
    ("validation.StringIsJSON", '{"a": 1}', "{a: 1}"),
    ("validation.IsURLWithHTTPS", "https://dev.azure.com/org", "http://dev.azure.com/org"),
    ("validation.StringStartsWithOneOf", "/healthz", "healthz"),
    ("keyvault.ValidateNestedItemName", "cmk-cosmos", "cmk_cosmos"),
    ("validate.LowerCasedString", "@", "Scoring"),  # a private DNS record's name (the apex "@")
])
def test_each_translation_accepts_what_the_provider_accepts_and_refuses_the_rest(detail, good, bad):
    check, source = VALIDATORS[detail]
    assert check(good) is None and check(bad) is not None
    assert source


def test_key_rotation_durations_are_bounded_per_argument():
    expire = validator_for({"source": "internal/services/keyvault/key_vault_key_resource.go:176"})
    notify = validator_for({"source": "internal/services/keyvault/key_vault_key_resource.go:191"})
    assert expire and notify
    assert expire[0]("P365D") is None and expire[0]("P27D") is not None  # P28D..P100Y
    assert notify[0]("P29D") is None and notify[0]("P6D") is not None  # P7D..P36493D
    assert duration_days("P1Y") == pytest.approx(365.2425)


def test_tags_beyond_what_key_vault_secrets_take_are_refused_naming_the_key(tmp_path):
    path = write_environment(tmp_path, "public", lambda d: d["tags"].update({f"extra-{i}": "x" for i in range(14)}))
    with pytest.raises(ConfigError, match=r"(?s)pub\.yaml.*tags: at most 13 entries"):
        load_environment(path)
