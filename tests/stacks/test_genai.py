"""The genai stack: its config section, the services' secure settings, who may call them, and what the apps get."""

from pathlib import Path

import pytest

from contract import genai as g
from stacks.config import ConfigError, load_environment, load_environments
from tests.environments import write_environment

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]


def _config(env):
    [config] = load_environments([env])
    return config


def _write_env(folder: Path, change) -> Path:
    return write_environment(folder, "public", lambda data: change(data["genai"]))


def test_a_global_sku_is_refused_unless_global_processing_is_allowed(tmp_path):
    path = _write_env(tmp_path, lambda d: d["chat"].update(sku="GlobalStandard"))
    with pytest.raises(ConfigError, match=r"key 'genai': .*chat.sku GlobalStandard may process data in any Azure"):
        load_environment(path)
    allowed = _write_env(tmp_path, lambda d: (d["chat"].update(sku="GlobalStandard"),
                                              d.update(allow_global_processing=True)))
    assert load_environment(allowed).genai.chat.sku == "GlobalStandard"


@pytest.mark.parametrize("version", ["latest", "", "2024-07"])
def test_an_unpinned_model_version_names_the_file_and_the_key(tmp_path, version):
    path = _write_env(tmp_path, lambda d: d["embedding"].update(version=version))
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    assert str(path) in str(error.value)
    assert "key 'genai.embedding.version'" in str(error.value)


def test_basic_search_cannot_have_more_than_three_replicas(tmp_path):
    path = _write_env(tmp_path, lambda d: d["search"].update(replica_count=4))
    with pytest.raises(ConfigError, match="sku basic allows at most 3 replicas and 3 partitions"):
        load_environment(path)


@pytest.mark.parametrize("model", ["text-embedding-ada-002", "gpt-4o-mini"])
def test_an_embedding_model_that_cannot_return_the_index_width_is_refused(tmp_path, model):
    path = _write_env(tmp_path, lambda d: d["embedding"].update(model=model))
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    assert str(path) in str(error.value) and "key 'genai.embedding'" in str(error.value)
    assert model in str(error.value)


def test_a_width_setting_in_the_environment_file_is_refused_the_index_owns_it(tmp_path):
    path = _write_env(tmp_path, lambda d: d["embedding"].update(dimensions=1536))
    with pytest.raises(ConfigError, match="genai.embedding.dimensions"):
        load_environment(path)


def test_the_openai_region_must_be_an_allowed_region(tmp_path):
    path = _write_env(tmp_path, lambda d: d.update(location="eastus"))
    with pytest.raises(ConfigError, match="genai.location 'eastus' is not in allowed_regions"):
        load_environment(path)


def test_an_environment_without_genai_has_no_genai_stack_and_no_assistant_settings(tmp_path):
    from cdktn import App

    from stacks.main import build_environment

    config = load_environment(write_environment(tmp_path, "public", lambda d: d.pop("genai")))
    stacks = build_environment(App(), config)
    names = [s.stack_name for s in stacks]
    assert "pub-genai" not in names and "pub-functions" in names
    app = next(s for s in stacks if s.stack_name == "pub-app-westeurope")
    assert g.SETTING_OPENAI_ENDPOINT not in (app.web.app.app_settings_input or {})


@pytest.mark.parametrize("env", ENVS)
def test_deployments_take_model_version_sku_and_capacity_from_the_environment_file(synth, env):
    genai = _config(env).genai
    deployments = {d["name"]: d for d in synth.resources(f"{env}-genai", "azurerm_cognitive_deployment")}
    assert set(deployments) == {g.OPENAI_CHAT_DEPLOYMENT, g.OPENAI_EMBEDDING_DEPLOYMENT}
    for name, wanted in ((g.OPENAI_CHAT_DEPLOYMENT, genai.chat), (g.OPENAI_EMBEDDING_DEPLOYMENT, genai.embedding)):
        deployment = deployments[name]
        assert deployment["model"] == {"format": "OpenAI", "name": wanted.model, "version": wanted.version}
        assert deployment["sku"] == {"name": wanted.sku, "capacity": wanted.capacity}


def test_both_environments_keep_prompts_in_the_eu_data_zone():
    for env in ENVS:
        genai = _config(env).genai
        assert (genai.chat.sku, genai.embedding.sku) == ("DataZoneStandard", "DataZoneStandard")
        assert _config(env).genai_location in ("westeurope", "northeurope")


@pytest.mark.parametrize("env", ENVS)
def test_the_accounts_public_endpoint_follows_the_environments_network_access(synth, env):
    config = _config(env)
    account = synth.one(f"{env}-genai", "azurerm_cognitive_account")
    search = synth.one(f"{env}-genai", "azurerm_search_service")
    if config.private_networking:
        assert account["public_network_access_enabled"] is False and "ip_rules" not in account["network_acls"]
        assert search["public_network_access_enabled"] is False and "allowed_ips" not in search
    else:
        ranges = list(config.network.allowed_ip_ranges)
        assert account["public_network_access_enabled"] is True and account["network_acls"]["ip_rules"] == ranges
        assert search["public_network_access_enabled"] is True and search["allowed_ips"] == ranges
    assert account["network_acls"]["default_action"] == "Deny"
    assert account["network_acls"]["bypass"] == "None" and search["network_rule_bypass_option"] == "None"


def test_prod_search_has_the_replicas_for_the_read_write_sla_and_dev_is_one_basic_replica(synth):
    prod = synth.one("prod-genai", "azurerm_search_service")
    assert prod["replica_count"] >= 3 and prod["sku"] != "basic"
    dev = synth.one("dev-genai", "azurerm_search_service")
    assert (dev["sku"], dev["replica_count"]) == ("basic", 1)


def _grants(synth, stack):
    return synth.resources(stack, "azurerm_role_assignment")


def test_the_app_identity_may_call_the_models_and_read_the_index_and_nothing_more(synth):
    app_grants = sorted(
        (grant["role_definition_name"], grant["scope"].split(".")[1].split("_")[0])
        for grant in _grants(synth, "prod-genai") if "IdentityApp" in grant["principal_id"]
    )
    assert app_grants == [("Cognitive Services OpenAI User", "OpenAi"), ("Search Index Data Reader", "Search")]


def test_the_deployer_creates_and_fills_the_index_with_embeddings(synth):
    deployer = sorted(
        grant["role_definition_name"] for grant in _grants(synth, "dev-genai")
        if grant["principal_id"] == "${data.azurerm_client_config.Client.object_id}"
    )
    assert deployer == ["Cognitive Services OpenAI User", "Search Index Data Contributor", "Search Service Contributor"]


def test_the_function_app_writes_listings_into_the_index_with_embeddings(synth):
    functions = {grant["role_definition_name"]: grant["scope"] for grant in _grants(synth, "dev-functions")}
    assert "search_service" in functions["Search Index Data Contributor"]
    assert "cognitive_account" in functions["Cognitive Services OpenAI User"]


def test_every_grant_on_the_ai_services_is_a_data_role_without_keys_or_deployment_rights(synth):
    roles = {
        grant["role_definition_name"] for stack in synth.stack_names() for grant in _grants(synth, stack)
        if "cognitive_account" in grant["scope"] or "search_service" in grant["scope"]
    }
    assert roles == {"Cognitive Services OpenAI User", "Search Index Data Reader", "Search Index Data Contributor",
                     "Search Service Contributor"}


@pytest.mark.parametrize("env", ENVS)
def test_web_apps_and_the_function_app_receive_the_assistants_settings(synth, env):
    config = _config(env)
    expected = {
        g.SETTING_OPENAI_API_VERSION: g.OPENAI_API_VERSION,
        g.SETTING_OPENAI_CHAT_DEPLOYMENT: g.OPENAI_CHAT_DEPLOYMENT,
        g.SETTING_OPENAI_EMBEDDING_DEPLOYMENT: g.OPENAI_EMBEDDING_DEPLOYMENT,
        g.SETTING_SEARCH_INDEX: g.SEARCH_INDEX,
    }
    for region in config.app_regions:
        settings = synth.one(f"{env}-app-{region}", "azurerm_linux_web_app")["app_settings"]
        assert {k: settings[k] for k in expected} == expected
        assert settings[g.SETTING_CHAT_CONTAINER] == g.CHAT_CONTAINER
        assert "cognitive_account" in settings[g.SETTING_OPENAI_ENDPOINT]
        assert "search_service" in settings[g.SETTING_SEARCH_ENDPOINT]
    site = next(r for r in synth.resources(f"{env}-functions", "azapi_resource")
                if r["type"].startswith("Microsoft.Web/sites@"))
    function_settings = {s["name"]: s["value"] for s in site["body"]["properties"]["siteConfig"]["appSettings"]}
    assert {k: function_settings[k] for k in expected} == expected
    assert g.SETTING_CHAT_CONTAINER not in function_settings
    _the_runtime_reads_what_the_stacks_set(settings, function_settings)


def _the_runtime_reads_what_the_stacks_set(web: dict, function: dict) -> None:
    from app.settings import Settings
    from functions.settings import FunctionSettings

    app = Settings(**{k: v for k, v in web.items() if k.startswith("CARPRICE_")})
    assert (app.openai_endpoint, app.search_endpoint) == (
        web[g.SETTING_OPENAI_ENDPOINT], web[g.SETTING_SEARCH_ENDPOINT])
    assert (app.openai_chat_deployment, app.openai_embedding_deployment, app.openai_api_version, app.search_index,
            app.chat_container) == (g.OPENAI_CHAT_DEPLOYMENT, g.OPENAI_EMBEDDING_DEPLOYMENT, g.OPENAI_API_VERSION,
                                    g.SEARCH_INDEX, g.CHAT_CONTAINER)
    indexer = FunctionSettings.from_environment(function)
    assert (indexer.openai_endpoint, indexer.search_endpoint) == (
        function[g.SETTING_OPENAI_ENDPOINT], function[g.SETTING_SEARCH_ENDPOINT])
    assert (indexer.embedding_deployment, indexer.openai_api_version, indexer.search_index) == (
        g.OPENAI_EMBEDDING_DEPLOYMENT, g.OPENAI_API_VERSION, g.SEARCH_INDEX)


@pytest.mark.parametrize("env", ENVS)
def test_chat_turns_are_kept_per_session_for_the_environments_ttl(synth, env):
    [chat] = [r for r in synth.resources(f"{env}-global-data", "azurerm_cosmosdb_sql_container")
              if r["name"] == g.CHAT_CONTAINER]
    assert chat["partition_key_paths"] == [g.CHAT_PARTITION_KEY]
    assert chat["default_ttl"] == _config(env).genai.chat_ttl_days * 86400
    others = [r for r in synth.resources(f"{env}-global-data", "azurerm_cosmosdb_sql_container")
              if r["name"] != g.CHAT_CONTAINER]
    assert all("default_ttl" not in r for r in others)  # predictions and market history never expire


def test_the_genai_stack_deploys_after_the_foundation_and_before_its_callers(synth):
    import json

    manifest = json.loads((synth.root / "manifest.json").read_text())["stacks"]
    deps = {name: set(entry["dependencies"]) for name, entry in manifest.items()}
    assert deps["prod-genai"] == {"prod-foundation"}
    for caller in ("prod-functions", "prod-app-westeurope", "prod-app-northeurope"):
        assert "prod-genai" in deps[caller]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_deployer_reads_the_gold_container_and_nothing_else_of_the_lake(synth, env):
    """`make index-gold` reads gold as the deploying principal: Storage Blob Data Reader on that container only."""
    deployer = [grant for grant in _grants(synth, f"{env}-data")
                if grant["principal_id"] == "${data.azurerm_client_config.Client.object_id}"]
    assert [(g["role_definition_name"], g["scope"]) for g in deployer] == [
        ("Storage Blob Data Reader", "${azurerm_storage_container.DataLake_FilesystemGold_251FD87E.id}")]
    assert deployer[0].get("principal_type") is None  # a user running it from a laptop, or the pipeline's principal
