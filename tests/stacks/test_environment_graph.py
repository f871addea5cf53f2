"""The entry point's stack graph, state backends and required tags, read from the synthesized output."""

import importlib
import json

import pytest

from stacks.config import REQUIRED_TAGS
from stacks.main import main

pytestmark = pytest.mark.xdist_group("stacks")


def _manifest(synth):
    return json.loads((synth.root / "manifest.json").read_text())["stacks"]


def test_dependencies_run_one_way_from_foundation_to_edge(synth):
    deps = {name: set(entry["dependencies"]) for name, entry in _manifest(synth).items()}
    assert deps["prod-foundation"] == set()
    # The agents' pool is bootstrapped on its own; the foundation links it to the network.
    assert deps["prod-agents"] == set()
    assert deps["prod-data"] == {"prod-foundation"}
    assert {"prod-foundation", "prod-data"} <= deps["prod-ml"]
    assert deps["prod-global-data"] == {"prod-foundation"}
    for region in ("westeurope", "northeurope"):
        assert {"prod-global-data", "prod-ml"} <= deps[f"prod-app-{region}"]
        assert f"prod-app-{region}" in deps["prod-edge"]
    # No environment depends on another one.
    assert all(d.split("-")[0] == name.split("-")[0] for name, ds in deps.items() for d in ds)


def test_local_state_paths_are_relative_so_output_is_the_same_on_every_machine(tmp_path):
    outdir = tmp_path / "a folder not made yet" / "cdktf.out"  # the synth makes it
    assert main(["--env", "dev", "--local-state", "--outdir", str(outdir)]) == 0
    stack = json.loads((outdir / "stacks" / "dev-data" / "cdk.tf.json").read_text())
    assert stack["terraform"]["backend"] == {"local": {"path": "../../../.terraform-state/dev-data.tfstate"}}
    remote = stack["data"]["terraform_remote_state"]["cross-stack-reference-input-dev-foundation"]
    assert remote["config"]["path"] == "../../../.terraform-state/dev-foundation.tfstate"
    assert str(tmp_path) not in json.dumps(stack)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_remote_state_is_per_stack_and_uses_entra_id(synth, env):
    remote = synth.stack(f"{env}-data")["terraform"]["backend"]["azurerm"]
    assert remote["key"] == f"{env}-data.tfstate"
    assert remote["use_azuread_auth"] is True
    assert "access_key" not in remote and "sas_token" not in remote


def test_cross_stack_values_flow_through_remote_state_not_literal_ids(synth):
    app = json.dumps(synth.stack("prod-app-westeurope"))
    assert "/subscriptions/" not in app
    assert "cross-stack-reference-input-prod-foundation" in app


def _taggable(tf_type: str) -> bool:
    provider_name, _, module_name = tf_type.partition("_")
    provider = f"cdktn_provider_{provider_name}"
    module = importlib.import_module(f"{provider}.{module_name}")
    cls = next(v for v in vars(module).values() if getattr(v, "TF_RESOURCE_TYPE", None) == tf_type)
    return hasattr(cls, "tags_input")


def test_every_taggable_resource_carries_the_required_tags(synth):
    checked = 0
    for name in synth.stack_names():
        environment = name.split("-")[0]
        for tf_type, resources in synth.stack(name).get("resource", {}).items():
            if not _taggable(tf_type):
                continue
            for logical_id, resource in resources.items():
                if tf_type == "azapi_resource" and "location" not in resource:
                    continue  # a proxy resource (a site's config): Azure tags tracked resources only
                tags = resource.get("tags", {})
                missing = [t for t in REQUIRED_TAGS if t not in tags]
                assert not missing, f"{name} {tf_type}.{logical_id} lacks tags {missing}"
                assert tags["environment"] == environment
                checked += 1
    assert checked > 60
