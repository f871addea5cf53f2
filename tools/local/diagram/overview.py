"""The overview picture for stakeholders: the numbered flow 1 Ingest (Event Hubs, Data Factory) -> 2 Store (the lake;
Capture and feed copies) -> 3 Train -> 4 Deploy -> 5 Consume (web app, function app) across domain boxes (Data, ML,
App, Generative AI, Security, Monitoring, DevOps).

Every service box is there only because the environment's synthesized stacks declare it, and its caption
comes from them (names, counts, regions), so dropping a resource from a stack changes the overview.
The DevOps box lists the Azure Pipelines definitions found in pipelines/*.yml.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from diagrams.azure import compute, devops, general, ml

from contract import LAKE_LAYERS, ML_BATCH_ENDPOINT, ML_INFERENCE_COMPUTE, ML_ONLINE_ENDPOINT
from tools.local.diagram.catalog import AZAPI_KINDS, KINDS
from tools.local.diagram.catalog import Kind as IconKind
from tools.local.diagram.picture import Arrow, Box, Node, Picture
from tools.local.diagram.synth_graph import Resource, SynthOutput

STEP_COLOR = "#c2410c"
_DOMAINS = {  # id: (label, fill, pen)
    "data": ("Data", "#eef6ff", "#4a90d9"),
    "ml": ("ML", "#f3efff", "#7c5cc4"),
    "app": ("App", "#edfbf3", "#2f9e63"),
    "genai": ("Generative AI", "#fdf0f7", "#c0408a"),
    "security": ("Security", "#fff6e8", "#d9902f"),
    "monitoring": ("Monitoring", "#f2f4f7", "#7b8794"),
    "devops": ("DevOps", "#eef2ff", "#4c5fd5"),
}


@dataclass(frozen=True)
class Inventory:
    """The resources of one environment, by Terraform type."""

    by_type: dict[str, list[Resource]]

    def of(self, tf_type: str) -> list[Resource]:
        return self.by_type.get(tf_type, [])

    def names(self, tf_type: str) -> list[str]:
        return sorted({r.literal("name") or "" for r in self.of(tf_type)} - {""})

    def count(self, tf_type: str) -> int:
        return len(self.of(tf_type))


def inventory(synth: SynthOutput, env: str) -> Inventory:
    by_type: dict[str, list[Resource]] = {}
    for stack in synth.stack_names(env):
        for resource in synth.resources(stack):
            by_type.setdefault(resource.tf_type, []).append(resource)
    return Inventory(by_type)


def pipeline_names(pipelines_dir: Path) -> list[str]:
    """Top-level pipeline definitions (templates/ and variables/ are parts of them, not pipelines)."""
    if not pipelines_dir.is_dir():
        return []
    return sorted(p.stem for p in [*pipelines_dir.glob("*.yml"), *pipelines_dir.glob("*.yaml")])


def overview_picture(synth: SynthOutput, env: str, pipelines_dir: Path) -> Picture:
    inv = inventory(synth, env)
    picture = Picture(name="overview", title=f"Car price platform ({env}): from listings to predictions",
                      rankdir="TB", spacing=(0.3, 0.35))
    for domain, (label, fill, pen) in _DOMAINS.items():
        picture.add_box(Box(domain, label, fill=fill, pen=pen, font_size=15))

    def add(node_id: str, box: str | None, title: str, subtitle: str, icon: IconKind | type) -> str:
        path = icon.icon if isinstance(icon, IconKind) else IconKind("", icon).icon
        picture.add_node(Node(node_id, title, subtitle, path, box, icon_size=40, title_size=15, subtitle_size=12,
                              emphasis=True))
        return node_id

    ingest, store = _data_nodes(inv, add)
    train, deploy = _ml_nodes(inv, add)
    consume = _app_nodes(inv, add)
    consumers = [n for n in consume if n in ("webapp", "functions")]
    _genai_nodes(inv, add)
    _security_nodes(inv, add)
    _monitoring_nodes(inv, add)
    pipelines = pipeline_names(pipelines_dir)
    if pipelines:
        add("pipelines", "devops", "Azure Pipelines", "\n".join(pipelines), devops.Pipelines)

    source = add("source", None, "Car listings", "dealer feeds, uploads", general.Mobile)
    stages = [("1 Ingest", [source], ingest or store), ("2 Store", ingest, store),
              ("3 Train", (store or ingest)[-1:], train), ("4 Deploy", train, deploy),
              ("5 Consume", [d for d in deploy if d != "batch"], consumers)]
    for label, sources, targets in stages:
        pairs = [(s, t) for s in sources for t in targets if s != t]
        for i, (s, t) in enumerate(pairs):  # one label per step: the colour carries it to the other arrows
            picture.add_arrow(Arrow(s, t, label if i == len(pairs) // 2 else "", color=STEP_COLOR, bold=True))
    _store_arrows(picture)
    _genai_arrows(picture)
    _edge_arrows(picture)
    _arrange(picture)
    return picture


def _store_arrows(picture: Picture) -> None:
    """Who writes to the Cosmos DB store, and the stream into the functions."""
    if "batch" in picture.nodes and "cosmos" in picture.nodes:
        picture.add_arrow(Arrow("batch", "cosmos", "batch results", color=STEP_COLOR))
    if "cosmos" in picture.nodes and "webapp" in picture.nodes:
        picture.add_arrow(Arrow("webapp", "cosmos", "history", color="#52606d"))
    if "functions" in picture.nodes:
        if "eventhubs" in picture.nodes:
            picture.add_arrow(Arrow("eventhubs", "functions", "listings stream", color="#52606d"))
        if "cosmos" in picture.nodes:
            picture.add_arrow(Arrow("functions", "cosmos", "market, dead letters", color="#52606d"))


def _edge_arrows(picture: Picture) -> None:
    """Users reach the app through Traffic Manager."""
    if "trafficmanager" not in picture.nodes:
        return
    picture.add_arrow(Arrow("users", "trafficmanager", "HTTPS", color="#52606d"))
    # A private web tier is entered through the regional WAF gateways, then the app's private endpoint.
    front = "gateways" if "gateways" in picture.nodes else "webapp"
    if front in picture.nodes:
        picture.add_arrow(Arrow("trafficmanager", front, "routes", color="#52606d"))
    if front == "gateways" and "webapp" in picture.nodes:
        picture.add_arrow(Arrow("gateways", "webapp", "private endpoint", color="#52606d"))


def _data_nodes(inv: Inventory, add) -> tuple[list[str], list[str]]:
    """(ingest services, the lake): step 1 ends at the ingest services, step 2 at the lake."""
    ingest = []
    if inv.count("azurerm_eventhub_namespace"):
        hubs = ", ".join(inv.names("azurerm_eventhub")) or "no hubs"
        captured = [r for r in inv.of("azurerm_eventhub") if r.attributes.get("capture_description")]
        capture = "\nCapture → bronze (Avro)" if captured else ""
        ingest.append(add("eventhubs", "data", "Event Hubs", f"stream: {hubs}{capture}",
                          KINDS["azurerm_eventhub_namespace"]))
    if inv.count("azurerm_data_factory"):
        pipelines = ", ".join(inv.names("azurerm_data_factory_pipeline")) or "no pipelines"
        schedules = [f"every {r.attributes.get('interval')} {str(r.attributes.get('frequency', '')).lower()}"
                     for r in inv.of("azurerm_data_factory_trigger_schedule")]
        subtitle = "\n".join(["dealer feeds → bronze", pipelines, *schedules])
        ingest.append(add("datafactory", "data", "Data Factory", subtitle, KINDS["azurerm_data_factory"]))
    store = []
    lakes = [r for r in inv.of("azurerm_storage_account") if r.attributes.get("is_hns_enabled") is True]
    if lakes:
        layers = [name for name in LAKE_LAYERS if name in inv.names("azurerm_storage_container")
                  + inv.names("azurerm_storage_data_lake_gen2_filesystem")]
        subtitle = " → ".join(layers) if layers else "no layers"
        store.append(add("lake", "data", "Data Lake Storage Gen2", subtitle,
                         KINDS["azurerm_storage_data_lake_gen2_filesystem"]))
    return ingest, store


def _ml_nodes(inv: Inventory, add) -> tuple[list[str], list[str]]:
    if not inv.count("azurerm_machine_learning_workspace"):
        return [], []
    computes = inv.names("azurerm_machine_learning_compute_cluster")
    extras = [f"compute: {', '.join(computes)}"] if computes else []
    if inv.count("azurerm_container_registry"):
        extras.append("+ Container Registry")
    train = [add("workspace", "ml", "Azure Machine Learning", "\n".join(["training pipeline", *extras]),
                 KINDS["azurerm_machine_learning_workspace"])]
    deploy = [add("online", "ml", "Online endpoint", ML_ONLINE_ENDPOINT, ml.MachineLearningServiceWorkspaces)]
    if inv.count("azurerm_kubernetes_cluster"):
        pools = inv.count("azurerm_kubernetes_cluster_node_pool") + inv.count("azurerm_kubernetes_cluster")
        deploy.append(add("aks", "ml", "AKS inference", f"{ML_INFERENCE_COMPUTE} ({pools} node pools)",
                          compute.KubernetesServices))
    deploy.append(add("batch", "ml", "Batch endpoint", ML_BATCH_ENDPOINT, compute.BatchAccounts))
    return train, deploy


def _app_nodes(inv: Inventory, add) -> list[str]:
    """The consumers step 5 ends at (web app, function app) first, then what they share."""
    nodes = []
    apps = inv.of("azurerm_linux_web_app")
    if apps:
        regions = sorted({r.literal("location") or "?" for r in apps})
        nodes.append(add("webapp", "app", "App Service web app",
                         f"predictor · dashboard\n{len(apps)} region(s): {', '.join(regions)}",
                         KINDS["azurerm_linux_web_app"]))
    sites = [r for r in inv.of("azapi_resource")
             if str(r.attributes.get("type", "")).split("@")[0] == "Microsoft.Web/sites"]
    if sites:
        regions = sorted({r.literal("location") or "?" for r in sites})
        nodes.append(add("functions", "app", "Function app (Flex Consumption)",
                         f"score_listings · price\n{len(sites)} app(s): {', '.join(regions)}",
                         AZAPI_KINDS["Microsoft.Web/sites"]))
    if inv.count("azurerm_cosmosdb_account"):
        containers = ", ".join(inv.names("azurerm_cosmosdb_sql_container"))
        nodes.append(add("cosmos", "app", "Cosmos DB", f"{containers}", KINDS["azurerm_cosmosdb_account"]))
    gateways = inv.of("azurerm_application_gateway")
    if gateways:
        regions = sorted({r.literal("location") or "?" for r in gateways})
        add("gateways", "app", "Application Gateway WAF_v2",
            f"OWASP {_rule_set_versions(inv)} · prevention\n{len(gateways)} region(s): {', '.join(regions)}",
            KINDS["azurerm_application_gateway"])
    if inv.count("azurerm_traffic_manager_profile"):
        endpoints = inv.count("azurerm_traffic_manager_azure_endpoint")
        add("trafficmanager", "app", "Traffic Manager", f"{endpoints} regional endpoint(s)",
            KINDS["azurerm_traffic_manager_profile"])
        add("users", None, "Users", "browser", general.Usericon)
    return nodes


def _genai_nodes(inv: Inventory, add) -> None:
    """The assistant's services: the models it calls (deployment: model version) and the index it retrieves from."""
    if inv.count("azurerm_cognitive_account"):
        models = sorted(
            f"{r.literal('name')}: {(r.attributes.get('model') or {}).get('name')} "
            f"{(r.attributes.get('model') or {}).get('version')}"
            for r in inv.of("azurerm_cognitive_deployment")
        )
        shields = "content filter: prompt shields" if inv.count("azurerm_cognitive_account_rai_policy") else ""
        add("openai", "genai", "Azure OpenAI", "\n".join([*models, shields]), KINDS["azurerm_cognitive_account"])
    for service in inv.of("azurerm_search_service"):
        add("search", "genai", "Azure AI Search",
            f"listings index\n{service.literal('sku')}, {service.attributes.get('replica_count')} replica(s)",
            KINDS["azurerm_search_service"])


def _genai_arrows(picture: Picture) -> None:
    """The web app asks the models and retrieves listings; the function app indexes the scored stream."""
    if "webapp" in picture.nodes:
        for target, label in (("openai", "chat, embeddings"), ("search", "retrieval")):
            if target in picture.nodes:
                picture.add_arrow(Arrow("webapp", target, label, color="#52606d"))
    if "functions" in picture.nodes and "search" in picture.nodes:
        picture.add_arrow(Arrow("functions", "search", "index listings", color="#52606d"))


def _rule_set_versions(inv: Inventory) -> str:
    versions = set()
    for policy in inv.of("azurerm_web_application_firewall_policy"):
        for rule_set in (policy.attributes.get("managed_rules") or {}).get("managed_rule_set") or []:
            versions.add(str(rule_set.get("version")))
    return "/".join(sorted(versions)) or "?"


def _security_nodes(inv: Inventory, add) -> None:
    if inv.count("azurerm_key_vault"):
        keys = inv.count("azurerm_key_vault_key")
        detail = f"{keys} encryption key(s), " if keys else ""
        add("keyvault", "security", "Key Vault", f"{detail}{inv.count('azurerm_key_vault_secret')} secret(s), RBAC",
            KINDS["azurerm_key_vault"])
    identities = inv.count("azurerm_user_assigned_identity")
    if identities:
        roles = inv.count("azurerm_role_assignment") + inv.count("azurerm_cosmosdb_sql_role_assignment")
        add("identities", "security", "Managed identities", f"{identities} identities, {roles} role assignments",
            KINDS["azurerm_user_assigned_identity"])
    if inv.count("azurerm_private_endpoint"):
        zones = inv.count("azurerm_private_dns_zone")
        regions = len({r.literal("location") for r in inv.of("azurerm_private_endpoint")})
        add("privatelink", "security", "Private endpoints",
            f"{inv.count('azurerm_private_endpoint')} endpoints in {regions} region(s), {zones} private DNS zones",
            KINDS["azurerm_private_endpoint"])
    if inv.count("azurerm_virtual_network"):
        add("network", "security", "Virtual networks",
            f"{inv.count('azurerm_virtual_network')} VNets, {inv.count('azurerm_subnet')} subnets, "
            f"{inv.count('azurerm_network_security_group')} NSGs", KINDS["azurerm_virtual_network"])


def _monitoring_nodes(inv: Inventory, add) -> None:
    if inv.count("azurerm_log_analytics_workspace"):
        add("loganalytics", "monitoring", "Log Analytics",
            f"{inv.count('azurerm_monitor_diagnostic_setting')} diagnostic settings",
            KINDS["azurerm_log_analytics_workspace"])
    if inv.count("azurerm_application_insights"):
        add("appinsights", "monitoring", "Application Insights", "app + ML telemetry",
            KINDS["azurerm_application_insights"])
    budgets = Counter(r.tf_type for types in inv.by_type.values() for r in types if "budget" in r.tf_type)
    if budgets:
        add("budget", "monitoring", "Cost budget", f"{sum(budgets.values())} budget(s) with alerts",
            KINDS["azurerm_consumption_budget_resource_group"])


def _arrange(picture: Picture) -> None:
    """Top to bottom: DevOps and Security on the left of the flow, Monitoring on its right (invisible edges
    within a rank only set left-to-right order; they carry `layout:` ids so readers can skip them)."""
    present = set(picture.nodes)
    rows = [["pipelines", "source"], ["network", "eventhubs", "datafactory", "loganalytics"],
            ["privatelink", "lake", "appinsights"], ["identities", "workspace", "budget"],
            ["keyvault", "online", "aks", "batch", "users"],
            ["trafficmanager", "gateways", "webapp", "cosmos", "functions"], ["openai", "search"]]
    for row in rows:
        members = [n for n in row if n in present]
        if len(members) > 1:
            chain = " -> ".join(f'"{n}"' for n in members)
            picture.layout.append("{rank=same; " + chain + f' [style=invis, id="layout:{members[0]}"]}}')
