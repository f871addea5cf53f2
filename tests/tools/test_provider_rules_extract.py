"""The extractor on a miniature provider repository: typed and untyped resources, SDK enums, nested blocks.

The real provider mirror is a maintainer tool (not in CI), so this builds a small git repository laid out like
terraform-provider-azurerm, tags it, and extracts from it exactly as `make provider-rules` does.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tools.checks.provider_rules.extract import extract

pytestmark = pytest.mark.xdist_group("stacks")

SDK = "github.com/hashicorp/go-azure-sdk/resource-manager/demo/2024-01-01/widgets"
AZURERM = "github.com/hashicorp/terraform-provider-azurerm"

FILES = {
    f"vendor/{SDK}/constants.go": """package widgets

type Mode string

const (
	ModeFast Mode = "Fast"
	ModeSlow Mode = "Slow"
)

func PossibleValuesForMode() []string {
	return []string{
		string(ModeFast),
		string(ModeSlow),
	}
}
""",
    "internal/services/demo/registration.go": f"""package demo

import (
	"{AZURERM}/internal/sdk"
	"{AZURERM}/internal/tf/pluginsdk"
)

type Registration struct{{}}

func (r Registration) SupportedResources() map[string]*pluginsdk.Resource {{
	return map[string]*pluginsdk.Resource{{
		"azurerm_demo_thing": resourceDemoThing(),
	}}
}}

func (r Registration) Resources() []sdk.Resource {{
	return []sdk.Resource{{
		DemoTypedResource{{}},
	}}
}}
""",
    "internal/services/demo/demo_thing_resource.go": f"""package demo

import (
	"math"

	"{SDK}"
	"{AZURERM}/internal/features"
	"{AZURERM}/internal/tf/pluginsdk"
	"{AZURERM}/internal/tf/validation"
)

const defaultTier = "Basic"

func resourceDemoThing() *pluginsdk.Resource {{
	resource := &pluginsdk.Resource{{
		Schema: map[string]*pluginsdk.Schema{{
			"name": {{
				Type:         pluginsdk.TypeString,
				Required:     true,
				ValidateFunc: validateThingName,
			}},
			"mode": {{
				Type:         pluginsdk.TypeString,
				Optional:     true,
				ValidateFunc: validation.StringInSlice(widgets.PossibleValuesForMode(), true),
			}},
			"tier": {{
				Type:          pluginsdk.TypeString,
				Optional:      true,
				ValidateFunc:  validation.StringInSlice([]string{{defaultTier, string(widgets.ModeFast)}}, false),
				ConflictsWith: keys("legacy_tier"),
			}},
			"instances": {{
				Type:         pluginsdk.TypeInt,
				Optional:     true,
				ValidateFunc: validation.IntBetween(1, math.MaxInt32),
			}},
			"size": {{
				Type:         pluginsdk.TypeString,
				Optional:     true,
				ValidateFunc: validation.StringInSlice(loopedSizes(), false),
			}},
			"rule": {{
				Type:     pluginsdk.TypeList,
				Optional: true,
				Elem: &pluginsdk.Resource{{
					Schema: ruleSchema(),
				}},
			}},
			"endpoint": {{
				Type:     pluginsdk.TypeString,
				Computed: true,
			}},
		}},
	}}

	if !features.FivePointOh() {{
		resource.Schema["legacy_tier"] = &pluginsdk.Schema{{
			Type:         pluginsdk.TypeString,
			Optional:     true,
			ValidateFunc: validation.StringLenBetween(1, 8),
		}}
		resource.Schema["rule"].Elem.(*pluginsdk.Resource).Schema["legacy_port"] = &pluginsdk.Schema{{
			Type:         pluginsdk.TypeInt,
			Optional:     true,
			ValidateFunc: validation.IntBetween(1, 10),
		}}
		resource.Schema["tier"].AtLeastOneOf = []string{{"tier", "mode"}}
	}}
	return resource
}}

func ruleSchema() map[string]*pluginsdk.Schema {{
	return map[string]*pluginsdk.Schema{{
		"action": {{
			Type:         pluginsdk.TypeString,
			Required:     true,
			ValidateFunc: validation.StringInSlice([]string{{"Allow", "Deny"}}, false),
		}},
		"ports": {{
			Type:     pluginsdk.TypeList,
			Optional: true,
			Elem: &pluginsdk.Schema{{
				Type:         pluginsdk.TypeInt,
				ValidateFunc: validation.IntAtMost(65535),
			}},
			AtLeastOneOf: keys([]string{{"rule.0.ports", "rule.0.action"}}...),
		}},
	}}
}}

func keys(names ...string) []string {{
	return names
}}

func loopedSizes() []string {{
	out := []string{{}}
	for _, s := range []string{{"S", "M"}} {{
		out = append(out, s)
	}}
	return out
}}

func validateThingName(i interface{{}}, k string) ([]string, []error) {{
	return nil, nil
}}
""",
    "internal/services/demo/demo_typed_resource.go": f"""package demo

import (
	"{AZURERM}/internal/tf/pluginsdk"
	"{AZURERM}/internal/tf/validation"
)

type DemoTypedResource struct{{}}

func (DemoTypedResource) ResourceType() string {{
	return "azurerm_demo_typed"
}}

func (r DemoTypedResource) Arguments() map[string]*pluginsdk.Schema {{
	return map[string]*pluginsdk.Schema{{
		"sku": {{
			Type:         pluginsdk.TypeString,
			Optional:     true,
			ValidateFunc: validation.StringInSlice([]string{{"A", "B"}}, false),
			ExactlyOneOf: []string{{"sku", "capacity"}},
		}},
		"capacity": {{
			Type:         pluginsdk.TypeInt,
			Optional:     true,
			ValidateFunc: validation.IntAtLeast(2),
		}},
	}}
}}

type DemoTypedDataSource struct{{}}

func (DemoTypedDataSource) ResourceType() string {{
	return "azurerm_demo_typed"
}}

func (DemoTypedDataSource) Arguments() map[string]*pluginsdk.Schema {{
	return map[string]*pluginsdk.Schema{{
		"name": {{Type: pluginsdk.TypeString, Required: true, ValidateFunc: validation.StringIsNotEmpty}},
	}}
}}
""",
}


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = tmp_path_factory.mktemp("provider")
    for path, content in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content, encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "demo"], ["tag", "v9.9.9"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    return extract(repo / ".git", "v9.9.9", ["azurerm_demo_thing", "azurerm_demo_typed"])


def rules_of(table: dict[str, Any], tf_type: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["path"], r["kind"]): r for r in table["resources"][tf_type]["rules"]}


def test_untyped_schema_with_sdk_enums_constants_and_ranges(table: dict[str, Any]) -> None:
    rules = rules_of(table, "azurerm_demo_thing")
    assert rules[("mode", "string_in_slice")]["values"] == ["Fast", "Slow"]
    assert rules[("mode", "string_in_slice")]["ignore_case"] is True
    assert rules[("tier", "string_in_slice")]["values"] == ["Basic", "Fast"]
    assert rules[("tier", "conflicts_with")]["keys"] == ["legacy_tier"]
    assert (rules[("instances", "int_between")]["min"], rules[("instances", "int_between")]["max"]) == (1, 2**31 - 1)
    assert rules[("mode", "string_in_slice")]["source"] == "internal/services/demo/demo_thing_resource.go:22"


def test_schema_added_outside_five_point_oh_and_nested_blocks(table: dict[str, Any]) -> None:
    rules = rules_of(table, "azurerm_demo_thing")
    length = rules[("legacy_tier", "string_len_between")]
    assert (length["min"], length["max"]) == (1, 8)
    assert rules[("rule.action", "string_in_slice")]["values"] == ["Allow", "Deny"]
    assert rules[("rule.ports", "int_between")] | {"source": ""} == {
        "path": "rule.ports", "kind": "int_between", "min": None, "max": 65535, "element": True, "source": ""}
    assert rules[("rule.ports", "at_least_one_of")]["keys"] == ["rule.0.action", "rule.0.ports"]
    assert rules[("rule.legacy_port", "int_between")]["max"] == 10  # added through a type assertion
    assert rules[("tier", "at_least_one_of")]["keys"] == ["mode", "tier"]  # set on an existing attribute
    arguments = table["resources"]["azurerm_demo_thing"]["arguments"]
    assert "endpoint" not in arguments and {"name", "rule.action", "legacy_tier"} <= set(arguments)


def test_what_cannot_be_resolved_statically_is_recorded_not_guessed(table: dict[str, Any]) -> None:
    rules = rules_of(table, "azurerm_demo_thing")
    assert rules[("name", "not_checked")]["detail"] == "demo.validateThingName"
    assert rules[("size", "unresolved")]["detail"] == "validation.StringInSlice"
    assert ("size", "string_in_slice") not in rules


def test_typed_resource_arguments_not_its_data_source(table: dict[str, Any]) -> None:
    typed = table["resources"]["azurerm_demo_typed"]
    assert typed["declared"] == "typed" and typed["arguments"] == ["capacity", "sku"]
    rules = rules_of(table, "azurerm_demo_typed")
    assert rules[("sku", "exactly_one_of")]["keys"] == ["capacity", "sku"]
    assert rules[("capacity", "int_between")]["min"] == 2 and rules[("capacity", "int_between")]["max"] is None
