"""`make validate` checks every azapi_resource body against Azure's published resource type, as the azapi
provider does at plan time (`internal/services/resource.go` `schemaValidate` in Azure/terraform-provider-azapi),
from a committed table of exactly the type@api-version pairs the stacks use."""

from __future__ import annotations

import copy

import pytest

from tools.checks.provider_rules.azapi_check import check_stack, load_azapi_table

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.fixture(scope="module")
def table():
    return load_azapi_table()


def _site(document):
    bodies = document["resource"]["azapi_resource"].values()
    return next(r for r in bodies if r["type"].startswith("Microsoft.Web/sites@"))


def _problems(document, table, stack="prod-functions"):
    found, _ = check_stack(stack, document, table)
    return [(p.address.split(".")[1].split("_")[1], p.path, p.message) for p in found]


def test_every_synthesized_body_passes_the_providers_schema_validation(synth, table):
    checked = 0
    for stack in synth.stack_names():
        problems, count = check_stack(stack, synth.stack(stack), table)
        assert problems == [], "\n".join(p.describe() for p in problems)
        checked += count
    assert checked >= 10


def test_the_table_holds_exactly_the_pairs_the_stacks_use(synth, table):
    used = {
        body["type"] for stack in synth.stack_names()
        for body in synth.stack(stack).get("resource", {}).get("azapi_resource", {}).values()
    }
    assert used == set(table["resources"])
    assert len(table["commit"]) == 40


def test_proxy_resources_carry_no_tags(synth, table):
    """Azure tags tracked resources only; azapi refuses `tags` on a site's config or publishing policy."""
    document = copy.deepcopy(synth.stack("prod-functions"))
    resources = document["resource"]["azapi_resource"]
    config = next(r for r in resources.values() if r["type"].startswith("Microsoft.Web/sites/config@"))
    assert "tags" not in config
    config["tags"] = {"owner": "platform-team"}
    problems = _problems(document, table)
    assert [(where, "not a property" in message) for _, where, message in problems] == [("tags", True)]


@pytest.mark.parametrize(("mutate", "path", "message"), [
    (lambda body: body["properties"].update(httpsOnlyy=True), "properties.httpsOnlyy", "not a property"),
    (lambda body: body["properties"].update(httpsOnly="yes"), "properties.httpsOnly", "expected a boolean"),
    (lambda body: body["properties"].update(publicNetworkAccess=["Disabled"]), "properties.publicNetworkAccess",
     "expected a string"),
    (lambda body: body["properties"].update(defaultHostName="x.azurewebsites.net"), "properties.defaultHostName",
     "read-only"),
    (lambda body: body["properties"].update(clientCertMode="Sometimes"), "properties.clientCertMode",
     "matches none of the allowed values: one of ['Required', 'Optional', 'OptionalInteractiveUser']"),
    (lambda body: body["properties"]["functionAppConfig"]["scaleAndConcurrency"].update(maximumInstanceCount="40"),
     "properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount", "expected an integer"),
])
def test_a_broken_site_body_is_named_by_path(synth, table, mutate, path, message):
    document = copy.deepcopy(synth.stack("prod-functions"))
    site = _site(document)
    mutate(site["body"])
    problems = _problems(document, table)
    assert [(where, message in text) for _, where, text in problems] == [(path, True)], problems


def test_a_missing_required_property_and_an_unknown_discriminator_are_named(synth, table):
    document = copy.deepcopy(synth.stack("prod-ml"))
    compute = next(iter(document["resource"]["azapi_resource"].values()))
    assert compute["body"]["properties"]["computeType"] == "Kubernetes"
    compute["body"]["properties"]["computeType"] = "Kubernetess"
    (problem,) = _problems(document, table, "prod-ml")
    assert problem[1] == "properties.computeType" and "is not one of" in problem[2]
    del compute["body"]["properties"]["computeType"]
    (problem,) = _problems(document, table, "prod-ml")
    assert problem[1] == "properties.computeType" and "required" in problem[2]


def test_references_are_unknown_until_apply_and_skipped(synth, table):
    document = copy.deepcopy(synth.stack("prod-functions"))
    site = _site(document)
    site["body"]["properties"]["httpsOnly"] = "${var.https_only}"
    assert _problems(document, table) == []


def test_a_type_missing_from_the_table_is_a_problem(synth, table):
    document = copy.deepcopy(synth.stack("prod-functions"))
    site = _site(document)
    site["type"] = "Microsoft.Web/sites@2099-01-01"
    (problem,) = _problems(document, table)
    assert "make azapi-types" in problem[2]
