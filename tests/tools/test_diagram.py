"""Architecture pictures: drawn from the real synthesized stacks, read back from the SVGs they produce."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tools.local.diagram.build import INDEX, index_text, pictures
from tools.local.diagram.overview import overview_picture, pipeline_names
from tools.local.diagram.svg_graph import read_svg
from tools.local.diagram.synth_graph import SynthOutput, load

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "architecture"
pytestmark = pytest.mark.xdist_group("diagram")


@pytest.fixture(scope="session")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`python -m tools.local.diagram` without cdktf.out/: it synthesizes, then draws (like `make diagram`)."""
    work = tmp_path_factory.mktemp("diagram")
    outdir, docs = work / "cdktf.out", work / "architecture"
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [sys.executable, "-m", "tools.local.diagram", "--outdir", str(outdir), "--docs", str(docs),
         "--pipelines", str(ROOT / "pipelines")],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    return outdir, docs


@pytest.fixture(scope="session")
def synth(drawn: tuple[Path, Path]) -> SynthOutput:
    return load(drawn[0])


def test_draws_the_overview_and_one_svg_and_png_per_prod_stack(drawn: tuple[Path, Path], synth: SynthOutput) -> None:
    _, docs = drawn
    expected = {"overview", *synth.stack_names("prod")}
    assert {p.stem for p in docs.glob("*.svg")} == expected
    assert {p.stem for p in docs.glob("*.png")} == expected
    for png in docs.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (docs / INDEX).read_text().count(".png)") == len(expected)


@pytest.mark.parametrize("env", ["prod"])
def test_every_resource_of_a_stack_is_a_node_of_its_picture_and_every_edge_has_both_ends(
    drawn: tuple[Path, Path], synth: SynthOutput, env: str
) -> None:
    _, docs = drawn
    for stack in synth.stack_names(env):
        graph = read_svg(docs / f"{stack}.svg")
        resources = {r.key for r in synth.resources(stack)}
        assert resources, stack
        assert resources <= set(graph.nodes), f"{stack}: not drawn: {sorted(resources - set(graph.nodes))}"
        assert graph.edges, stack
        for tail, head in graph.edges:
            assert tail in graph.nodes and head in graph.nodes, (stack, tail, head)


def _texts(svg: Path) -> set[str]:
    return {t.text for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text") if t.text}


def _edge_kinds(graph_edges: frozenset[tuple[str, str]]) -> set[tuple[str, str]]:
    """(type of tail, type of head): `prod-x/azurerm_web_app.Id` -> `azurerm_web_app`."""
    return {(t.split("/")[1].split(".")[0], h.split("/")[1].split(".")[0]) for t, h in graph_edges}


def test_edges_follow_references_within_and_across_stacks(drawn: tuple[Path, Path]) -> None:
    _, docs = drawn
    app = _edge_kinds(read_svg(docs / "prod-app-westeurope.svg").edges)
    assert ("azurerm_linux_web_app", "azurerm_cosmosdb_account") in app  # app setting, from prod-global-data
    assert ("azurerm_linux_web_app", "azurerm_key_vault_secret") in app  # Key Vault reference, prod-foundation
    assert ("azurerm_linux_web_app", "azurerm_service_plan") in app
    assert ("azurerm_linux_web_app", "azurerm_user_assigned_identity") in app
    assert ("azurerm_monitor_diagnostic_setting", "azurerm_log_analytics_workspace") in app

    edge = read_svg(docs / "prod-edge.svg")
    regions = {head.split("/")[0] for tail, head in edge.edges if "traffic_manager_azure_endpoint" in tail
               and "azurerm_public_ip" in head}  # each region's WAF gateway
    assert regions == {"prod-app-westeurope", "prod-app-northeurope"}
    assert ("azurerm_application_gateway", "azurerm_linux_web_app") in app  # forwards to the app
    assert ("azurerm_application_gateway", "azurerm_web_application_firewall_policy") in app
    assert ("azurerm_private_endpoint", "azurerm_linux_web_app") in app

    data = _edge_kinds(read_svg(docs / "prod-data.svg").edges)
    assert ("azurerm_private_endpoint", "azurerm_storage_account") in data
    assert ("azurerm_role_assignment", "azurerm_user_assigned_identity") in data  # the identity granted
    assert ("azurerm_role_assignment", "azurerm_storage_container") in data  # the scope: one layer

    functions = _edge_kinds(read_svg(docs / "prod-functions.svg").edges)
    assert ("azapi_resource", "azurerm_eventhub_namespace") in functions  # the trigger's namespace, prod-data
    assert ("azapi_resource", "azurerm_cosmosdb_account") in functions  # the Cosmos DB endpoint, prod-global-data
    assert ("azurerm_role_assignment", "azurerm_eventhub") in functions  # Data Receiver on the hub

    ml = _edge_kinds(read_svg(docs / "prod-ml.svg").edges)
    assert ("azurerm_machine_learning_datastore_datalake_gen2", "azurerm_storage_container") in ml
    assert ("azurerm_role_assignment", "azurerm_subnet") in ml  # AKS identity on its subnet


def test_resources_sit_in_their_subnet_box(drawn: tuple[Path, Path]) -> None:
    _, docs = drawn
    texts = _texts(docs / "prod-app-westeurope.svg")
    assert "Subnet snet-carprice-prod-app-weu (from prod-foundation)" in texts
    assert "Resource group rg-carprice-prod" in texts


def test_svgs_are_self_contained(drawn: tuple[Path, Path]) -> None:
    _, docs = drawn
    for svg in docs.glob("*.svg"):
        text = svg.read_text()
        hrefs = [part.split('"', 1)[0] for part in text.split('xlink:href="')[1:]]
        assert hrefs and all(h.startswith(("#icon", "data:image/png;base64,")) for h in hrefs), svg.name


def test_overview_names_the_services_prod_has(drawn: tuple[Path, Path]) -> None:
    _, docs = drawn
    overview = read_svg(docs / "overview.svg")
    text = " | ".join(overview.nodes.values())
    for service in ("Event Hubs", "Data Lake Storage Gen2", "bronze → silver → gold", "Azure Machine Learning",
                    "Online endpoint", "AKS inference", "Batch endpoint", "App Service web app", "Cosmos DB",
                    "Traffic Manager", "Key Vault", "Managed identities", "Private endpoints", "Log Analytics",
                    "Application Insights", "northeurope, westeurope", "Data Factory", "dealer feeds → bronze",
                    "Capture → bronze (Avro)", "Function app (Flex Consumption)", "dead_letters, market"):
        assert service in text, service
    for pipeline in pipeline_names(ROOT / "pipelines"):
        assert pipeline in text
    flow = [("source", "eventhubs"), ("source", "datafactory"), ("eventhubs", "lake"), ("datafactory", "lake"),
            ("lake", "workspace"), ("workspace", "online"), ("online", "webapp"), ("online", "functions"),
            ("eventhubs", "functions"), ("functions", "cosmos")]
    assert set(flow) <= overview.edges
    texts = _texts(docs / "overview.svg")
    for label in ("1 Ingest", "2 Store", "3 Train", "4 Deploy", "5 Consume",
                  "Data", "ML", "App", "Security", "Monitoring", "DevOps"):  # flow steps, then domain boxes
        assert label in texts, label


def _without(synth_dir: Path, target: Path, stack: str, *tf_types: str) -> SynthOutput:
    shutil.copytree(synth_dir, target)
    stack_file = target / "stacks" / stack / "cdk.tf.json"
    config = json.loads(stack_file.read_text())
    for tf_type in tf_types:
        del config["resource"][tf_type]
    stack_file.write_text(json.dumps(config))
    return load(target)


def test_overview_changes_when_a_stack_drops_a_resource(drawn: tuple[Path, Path], tmp_path: Path) -> None:
    outdir, _ = drawn
    pipelines = ROOT / "pipelines"
    before = overview_picture(load(outdir), "prod", pipelines)
    no_stream = overview_picture(_without(outdir, tmp_path / "a", "prod-data", "azurerm_eventhub_namespace"),
                                 "prod", pipelines)
    assert "eventhubs" in before.nodes and "eventhubs" not in no_stream.nodes
    assert ("source", "datafactory") in {(a.source, a.target) for a in no_stream.arrows.values()}
    no_ingest = overview_picture(_without(outdir, tmp_path / "c", "prod-data", "azurerm_eventhub_namespace",
                                          "azurerm_data_factory"), "prod", pipelines)
    assert ("source", "lake") in {(a.source, a.target) for a in no_ingest.arrows.values()}  # 1 Ingest, straight

    no_aks = overview_picture(_without(outdir, tmp_path / "b", "prod-ml", "azurerm_kubernetes_cluster",
                                       "azurerm_kubernetes_cluster_node_pool"), "prod", pipelines)
    assert "aks" in before.nodes and "aks" not in no_aks.nodes
    assert {"online", "batch"} <= set(no_aks.nodes)


def test_overview_lists_pipeline_files_not_templates(tmp_path: Path, synth: SynthOutput) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "stages.yml").write_text("steps: []\n")
    (tmp_path / "deploy.yml").write_text("trigger: none\n")
    (tmp_path / "nightly.yaml").write_text("trigger: none\n")
    assert pipeline_names(tmp_path) == ["deploy", "nightly"]
    picture = overview_picture(synth, "prod", tmp_path)
    assert picture.nodes["pipelines"].subtitle == "deploy\nnightly"
    assert "pipelines" not in overview_picture(synth, "prod", tmp_path / "missing").nodes


def test_committed_pictures_match_the_stacks(drawn: tuple[Path, Path], synth: SynthOutput) -> None:
    """The README embeds these: regenerate and compare node and edge sets (layouts differ across Graphviz)."""
    _, docs = drawn
    fresh = {p.name for p in docs.glob("*.svg")}
    committed = {p.name for p in COMMITTED.glob("*.svg")}
    hint = "pictures are out of date: run `make diagram` and commit docs/architecture/"
    assert committed == fresh, hint
    for name in sorted(fresh):
        now, then = read_svg(docs / name), read_svg(COMMITTED / name)
        assert then.node_set() == now.node_set(), f"{name}: {hint}"
        assert then.edges == now.edges, f"{name}: {hint}"
        assert (COMMITTED / name).with_suffix(".png").is_file(), hint
    drawn_now = pictures(synth, "prod", ROOT / "pipelines")
    assert (COMMITTED / INDEX).read_text() == index_text(drawn_now, "prod", synth), hint


def test_overview_shows_the_assistants_models_index_and_who_calls_them(
    drawn: tuple[Path, Path], tmp_path: Path
) -> None:
    outdir, docs = drawn
    overview = read_svg(docs / "overview.svg")
    text = " | ".join(overview.nodes.values())
    for detail in ("Azure OpenAI", "chat: gpt-4o-mini 2024-07-18", "content filter: prompt shields",
                   "Azure AI Search", "standard, 3 replica(s)"):
        assert detail in text, detail
    assert {("webapp", "openai"), ("webapp", "search"), ("functions", "search")} <= overview.edges
    assert "Generative AI" in _texts(docs / "overview.svg")
    no_search = overview_picture(_without(outdir, tmp_path / "s", "prod-genai", "azurerm_search_service"),
                                 "prod", ROOT / "pipelines")
    assert "search" not in no_search.nodes and "openai" in no_search.nodes
