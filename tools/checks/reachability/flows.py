"""The required flows (flows.yaml), each evaluated against one environment's synthesized network.

A row names a source and a target by selector, `<type>[@<stack unit>][#<name part>]`: a Terraform type (or, for
azapi resources, the Azure type such as `Microsoft.Web/sites`), optionally the stack `<env>-<unit>` it is in and a
part of its name. `<region>` expands over the environment's app regions (one `<env>-app-<region>` stack each).
Special names: source `laptop` (a developer in `network.allowed_ip_ranges`), target `state-backend` (the
Terraform state account every stack's backend names), target `setting:<APP SETTING>` (the host in the source's
app setting, resolved through private DNS A records; Azure Resource Manager's public host is reached through the
caller's egress), and a Traffic Manager endpoint as target stands for
what it points at (a web app, or the Application Gateway behind a public IP).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from tools.checks.reachability.network import Network, build_network, key
from tools.checks.reachability.public import PublicSide
from tools.checks.reachability.references import EnvironmentSynth, Node
from tools.checks.reachability.rules import GATEWAY_NSG, Evaluator, Outcome, unreachable
from tools.checks.reachability.sources import Source, laptop, source_of
from tools.synth_output import SynthStack, environment_stacks

FLOWS_FILE = Path(__file__).with_name("flows.yaml")
FIELDS = ("source", "target", "subresource", "why")
# What the matrix calls each kind of resource; by stack unit where a kind has several roles.
LABELS = {
    "azurerm_linux_web_app": "web app", "Microsoft.Web/sites": "function app", "azurerm_kubernetes_cluster": "AKS",
    "azurerm_machine_learning_compute_cluster": "ML compute cluster", "azurerm_data_factory": "Data Factory",
    "azurerm_eventhub_namespace": "Event Hubs", "azurerm_traffic_manager_profile": "Traffic Manager probes",
    "azurerm_managed_devops_pool": "deploy agents", "azurerm_application_gateway": "gateway",
    "azurerm_cosmosdb_account": "Cosmos DB", "azurerm_key_vault": "Key Vault", "azurerm_storage_account": "storage",
    "azurerm_container_registry": "container registry", "azurerm_machine_learning_workspace": "ML workspace",
    "azurerm_application_insights": "Application Insights", "state-backend": "Terraform state",
    "resource-manager": "Azure Resource Manager",
    "azurerm_cognitive_account": "Azure OpenAI", "azurerm_search_service": "AI Search",
}
ROLES = {("azurerm_storage_account", "data"): "lake", ("azurerm_storage_account", "ml"): "ML workspace storage",
         ("azurerm_storage_account", "functions"): "function host storage",
         ("azurerm_key_vault", "ml"): "ML workspace vault"}
# Bootstrap creates the state account with Entra ID only and no network rules (tools/deploy/infra/bootstrap.py):
# every caller with a way to the internet reaches it.
STATE_BACKEND_SIDE = PublicSide(True, True, what="state account created by `make bootstrap-state`, no firewall")
# Azure Resource Manager has no private endpoint of ours and no firewall: a caller needs only a way to the internet.
# The online endpoint's token action is a Resource Manager call (Learn how-to-authenticate-online-endpoint).
RESOURCE_MANAGER_HOST = "management.azure.com"
RESOURCE_MANAGER_SIDE = PublicSide(True, True, what="Azure Resource Manager, Entra ID tokens only")


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    subresource: str
    why: str
    envs: tuple[str, ...] = ()  # empty: every environment


@dataclass(frozen=True)
class Result:
    environment: str
    source: str
    target: str
    subresource: str
    why: str
    outcome: Outcome
    source_label: str = ""  # what a newcomer calls it ("deploy agents", "lake"), for the matrix
    target_label: str = ""


class FlowsError(Exception):
    """flows.yaml is malformed or names what no environment has."""


def load_flows(path: Path = FLOWS_FILE) -> list[Flow]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    flows = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or set(FIELDS) - set(row) or set(row) - {*FIELDS, "envs"}:
            raise FlowsError(f"{path.name} row {index}: needs exactly {', '.join(FIELDS)} (and optional envs): {row}")
        source, target, subresource, why = (str(row[f]) for f in FIELDS)
        flows.append(Flow(source, target, subresource, why, envs=tuple(row.get("envs") or ())))
    return flows


class Platform:
    """One environment: its synth, its network and where its callers run."""

    def __init__(self, environment: str, stacks: dict[str, SynthStack], allowed_ip_ranges: tuple[str, ...]) -> None:
        self.environment = environment
        self.stacks = environment_stacks(stacks, environment)
        self.synth = EnvironmentSynth(self.stacks)
        self.net: Network = build_network(environment, self.synth)
        self.laptop = laptop(allowed_ip_ranges)
        self.app_regions = sorted(s.removeprefix(f"{environment}-app-") for s in self.stacks
                                  if s.startswith(f"{environment}-app-"))
        self._gateway_sides()
        self.evaluator = Evaluator(self.net)
        self.labels = {"laptop": "laptop (allowed_ip_ranges)"}
        for node in self.synth.nodes():
            node_key = key(self.synth, node)
            kind, unit = node_key.split(":", 1)[0], node.stack.removeprefix(f"{environment}-")
            label = ROLES.get((kind, unit)) or LABELS.get(kind)
            if label:
                region = unit.removeprefix("app-") if unit.startswith("app-") else ""
                self.labels[node_key] = f"{label} {region}".strip()

    def label(self, name: str) -> str:
        return self.labels.get(name) or LABELS.get(name.split(":", 1)[0]) or name

    def _gateway_sides(self) -> None:
        """An Application Gateway's public listener admits what its subnet's security group lets in on 443."""
        for node in self.synth.nodes("azurerm_application_gateway"):
            attributes = self.synth.attributes(node)
            configs = attributes.get("gateway_ip_configuration") or [{}]
            subnet_node = self.synth.node(node.stack, configs[0].get("subnet_id"))
            subnet = self.net.subnets.get(self.synth.name(subnet_node)) if subnet_node else None
            sources = tuple(src for src, ports in (subnet.inbound_allows if subnet else ()) if _port_in("443", ports))
            public = any(f.get("public_ip_address_id") for f in attributes.get("frontend_ip_configuration") or [])
            self.net.public[key(self.synth, node)] = PublicSide(
                public, False, service_tags=sources, what=f"gateway listener, subnet security group ({GATEWAY_NSG})"
            )

    def select(self, selector: str) -> list[Node]:
        kind, _, rest = selector.partition("@")
        kind, _, fragment = kind.partition("#")
        unit, _, unit_fragment = rest.partition("#")
        fragment = fragment or unit_fragment
        found = []
        for node in self.synth.nodes():
            node_key = key(self.synth, node)
            if node_key.split(":", 1)[0] != kind:
                continue
            if unit and node.stack != f"{self.environment}-{unit}":
                continue
            if fragment and fragment not in node_key.split(":", 1)[1]:
                continue
            found.append(node)
        return found

    def _one(self, selector: str) -> Node | str:
        found = self.select(selector)
        if len(found) != 1:
            return f"{selector} matches {len(found)} resources in {self.environment}"
        return found[0]

    def source(self, selector: str) -> Source | str:
        if selector == "laptop":
            return self.laptop
        node = self._one(selector)
        return node if isinstance(node, str) else source_of(self.synth, self.net, node)

    def target(self, selector: str) -> str:
        """The key the network knows the target by (following a Traffic Manager endpoint to what it targets)."""
        if selector == "state-backend":
            return self._state_backend()
        node = self._one(selector)
        if isinstance(node, str):
            raise LookupError(node)
        if node.tf_type == "azurerm_traffic_manager_azure_endpoint":
            pointed = self.synth.node(node.stack, self.synth.attributes(node).get("target_resource_id"))
            if pointed is None:
                raise LookupError(f"{selector}: its target_resource_id names nothing in the synth")
            node = self._gateway_of(pointed) if pointed.tf_type == "azurerm_public_ip" else pointed
        return key(self.synth, node)

    def _gateway_of(self, public_ip: Node) -> Node:
        for node in self.synth.nodes("azurerm_application_gateway"):
            for frontend in self.synth.attributes(node).get("frontend_ip_configuration") or []:
                if self.synth.node(node.stack, frontend.get("public_ip_address_id")) == public_ip:
                    return node
        raise LookupError(f"no Application Gateway listens on {self.synth.name(public_ip)}")

    def _state_backend(self) -> str:
        backends = [stack.backend() for stack in self.stacks.values()]
        accounts = {b[1].get("storage_account_name") for b in backends if b and b[0] == "azurerm"}
        if len(accounts) != 1:
            raise LookupError(f"the stacks name {len(accounts)} state accounts, not one")
        target = f"state-backend:{accounts.pop()}"
        self.net.public[target] = STATE_BACKEND_SIDE
        return target

    def evaluate(self, flow: Flow, region: str | None) -> Result:
        result = self._evaluate(flow, region)
        return dataclasses.replace(result, source_label=self.label(result.source),
                                   target_label=self.label(result.target))

    def _evaluate(self, flow: Flow, region: str | None) -> Result:
        source_sel, target_sel = (s.replace("<region>", region or "") for s in (flow.source, flow.target))
        source = self.source(source_sel)
        label = source_sel if isinstance(source, str) else source.key
        try:
            if isinstance(source, str):
                raise LookupError(source)
            if target_sel.startswith("setting:"):
                setting = target_sel.removeprefix("setting:")
                value = source.settings.get(setting)
                if not value:
                    raise LookupError(f"{source.key} has no app setting {setting}")
                host = urlparse(re.sub(r"\$\{[^}]*\}", "", value)).hostname or value  # a reference names no host
                if host == RESOURCE_MANAGER_HOST:
                    target = f"resource-manager:{host}"
                    self.net.public[target] = RESOURCE_MANAGER_SIDE
                    return Result(self.environment, label, target, flow.subresource, flow.why,
                                  self.evaluator.public_service(source, target))
                return Result(self.environment, label, host, flow.subresource, flow.why,
                              self.evaluator.resolve_name(source, host))
            target = self.target(target_sel)
        except LookupError as missing:
            return Result(self.environment, label, target_sel, flow.subresource, flow.why,
                          unreachable(str(missing), "flows.yaml"))
        return Result(self.environment, label, target, flow.subresource, flow.why,
                      self.evaluator.evaluate(source, target, flow.subresource))

    def evaluate_all(self, flows: list[Flow]) -> list[Result]:
        results: list[Result] = []
        for flow in flows:
            if flow.envs and self.environment not in flow.envs:
                continue
            regional = "<region>" in f"{flow.source}{flow.target}"
            regions: list[str | None] = list(self.app_regions) if regional else [None]
            results.extend(self.evaluate(flow, region) for region in regions)
        return results


def _port_in(port: str, ports: str) -> bool:
    if ports in ("*", port):
        return True
    low, _, high = ports.partition("-")
    return bool(high) and low.isdigit() and high.isdigit() and int(low) <= int(port) <= int(high)


def evaluate_environment(
    environment: str, stacks: dict[str, SynthStack], allowed_ip_ranges: tuple[str, ...], flows: list[Flow]
) -> list[Result]:
    return Platform(environment, stacks, allowed_ip_ranges).evaluate_all(flows)
