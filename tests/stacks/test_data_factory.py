"""The feed-ingest factory as configured per environment: what the YAML may ask for, and what it gets."""

import pytest

from stacks.config import ENVIRONMENTS_DIR, ConfigError, load_environment
from stacks.main import synthesize
from tests.environments import write_environment
from tools.synth_output import find_resources, load_stacks

pytestmark = pytest.mark.xdist_group("stacks")


def _write_env(tmp_path, kind, change):
    return write_environment(tmp_path, kind, change)


@pytest.mark.parametrize("kind", ["http", "sftp"])
def test_feed_sources_the_blueprint_does_not_provision_are_refused_by_name(tmp_path, kind):
    path = _write_env(tmp_path, "public", lambda d: d["data_factory"]["source"].update(type=kind))
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    message = str(error.value)
    assert str(path) in message and "key 'data_factory.source'" in message
    assert f"feed source type '{kind}' is not provisioned" in message and "landing_container" in message


def test_git_mode_is_not_offered_because_the_stacks_own_the_factory_content(tmp_path):
    path = _write_env(tmp_path, "private", lambda d: d["data_factory"].update(git={"kind": "github"}))
    with pytest.raises(ConfigError, match=r"key 'data_factory.git': unknown key"):
        load_environment(path)


def test_schedule_frequency_is_one_data_factory_knows(tmp_path):
    path = _write_env(tmp_path, "public", lambda d: d["data_factory"]["schedule"].update(frequency="Fortnight"))
    with pytest.raises(ConfigError, match=r"key 'data_factory.schedule.frequency'"):
        load_environment(path)


def test_customer_managed_key_follows_the_environment(synth):
    prod = synth.one("prod-data", "azurerm_data_factory")
    assert synth.referenced("prod-data", prod["customer_managed_key_id"]).name == "cmk-storage"
    assert synth.referenced("prod-data", prod["customer_managed_key_identity_id"]).name == "id-carprice-prod-encryption"
    assert "customer_managed_key_id" not in synth.one("dev-data", "azurerm_data_factory")


def test_factory_sends_its_logs_and_metrics_to_log_analytics(synth):
    settings = synth.resources("dev-data", "azurerm_monitor_diagnostic_setting")
    factory = [s for s in settings if "azurerm_data_factory." in s["target_resource_id"]]
    assert len(factory) == 1
    assert factory[0]["enabled_log"] == [{"category_group": "allLogs"}]
    assert factory[0]["enabled_metric"] == [{"category": "AllMetrics"}]


def test_schedule_comes_from_the_environment(synth):
    trigger = synth.one("dev-prep", "azurerm_data_factory_trigger_schedule")  # dev has the Databricks tier
    schedule = load_environment(ENVIRONMENTS_DIR / "dev.yaml").data_factory.schedule
    assert (trigger["frequency"], trigger["interval"], trigger["start_time"]) == (
        schedule.frequency, schedule.interval, schedule.start_time
    )


def test_without_databricks_the_data_stack_schedules_ingest_alone(tmp_path):
    config = load_environment(_write_env(tmp_path, "public", lambda d: d.pop("databricks")))
    synthesize([config], tmp_path / "out", progress=False)
    stacks = load_stacks(tmp_path / "out")
    assert not any(name.endswith(("-databricks", "-prep")) for name in stacks)
    ((stack, _, trigger),) = find_resources(stacks, "azurerm_data_factory_trigger_schedule")
    assert stack.name == f"{config.name}-data" and trigger["name"] == "ingest_dealer_feeds_schedule"
    assert trigger["activated"] is False and trigger["lifecycle"]["ignore_changes"] == ["activated"]
    assert stack.referenced_name(trigger["pipeline_name"]) == "ingest_dealer_feeds"
