"""The inference router's fixed internal address, held before any deployment goes to the Kubernetes endpoint.

The Azure ML extension exposes its router (`azureml-fe` in the `azureml` namespace) through an internal Azure
load balancer (`inferenceRouterServiceType: LoadBalancer`, `internalLoadBalancerProvider: azure`), but none of
its documented settings fixes the address (Learn: how-to-deploy-kubernetes-extension, "Review Azure Machine
Learning extension configuration settings"). AKS fixes an internal load balancer's address from the service
annotation `service.beta.kubernetes.io/azure-load-balancer-ipv4` (Learn: aks/internal-lb, "Specify an IP
address"), so this step sets it to the address the scoring name's A record holds (`aks.inference_router_ip`, read
from the synthesized record) and waits until the load balancer answers there. The cluster's API server is
private: the commands go through `az aks command invoke`, which Azure Resource Manager runs inside the cluster.
Helm upgrades of the extension keep an annotation the chart does not set (a three-way merge), and the step runs
before every rollout, so a reset address is put back before traffic moves.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tools.synth_output import SynthError, environment_stacks, find_resources, load_stacks

ROUTER_SERVICE = "azureml-fe"
ROUTER_NAMESPACE = "azureml"
IPV4_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-ipv4"


class RouterAddressError(Exception):
    """The router does not answer on the address the scoring name resolves to."""


def _az(args: list[str]) -> str:
    return subprocess.run(["az", *args], check=True, capture_output=True, text=True).stdout


@dataclass
class RouterAddress:
    resource_group: str
    cluster: str
    address: str
    run_az: Callable[[list[str]], str] = _az
    timeout_s: float = 600.0
    poll_s: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = field(default=lambda line: print(line, flush=True))

    def _kubectl(self, command: str) -> str:
        out = self.run_az(["aks", "command", "invoke", "--resource-group", self.resource_group,
                           "--name", self.cluster, "--command", command, "--output", "json"])
        result = json.loads(out)
        if result.get("exitCode") != 0:
            raise RouterAddressError(f"`{command}` in {self.cluster} exited {result.get('exitCode')}: "
                                     f"{str(result.get('logs', '')).strip()[:300]}")
        return str(result.get("logs", "")).strip()

    def current(self) -> str:
        """The address the router's load balancer answers on now ('' while it has none)."""
        return self._kubectl(f"kubectl get service {ROUTER_SERVICE} --namespace {ROUTER_NAMESPACE} "
                             "--output jsonpath={.status.loadBalancer.ingress[0].ip}")

    def hold(self) -> None:
        now = self.current()
        if now == self.address:
            self.log(f"inference router answers on {self.address}")
            return
        self.log(f"inference router answers on {now or 'no address yet'}; moving it to {self.address}")
        self._kubectl(f"kubectl annotate service {ROUTER_SERVICE} --namespace {ROUTER_NAMESPACE} "
                      f"{IPV4_ANNOTATION}={self.address} --overwrite")
        waited = 0.0
        while waited < self.timeout_s:
            self.sleep(self.poll_s)
            waited += self.poll_s
            now = self.current()
            if now == self.address:
                self.log(f"inference router answers on {self.address} after {waited:.0f}s")
                return
        raise RouterAddressError(
            f"the inference router still answers on {now or 'no address'} after {self.timeout_s:.0f}s, not on "
            f"{self.address} (aks.inference_router_ip): is the address free in the cluster's subnet? "
            f"`kubectl describe service {ROUTER_SERVICE} -n {ROUTER_NAMESPACE}` shows the load balancer's events"
        )


def router_of(environment: str, outdir: Path) -> RouterAddress:
    """The environment's AKS cluster and the address its scoring name resolves to, from the synth output."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    clusters = find_resources(stacks, "azurerm_kubernetes_cluster")
    records = find_resources(stacks, "azurerm_private_dns_a_record")
    if len(clusters) != 1 or len(records) != 1:
        raise SynthError(f"expected one AKS cluster and one scoring name record for {environment}, found "
                         f"{len(clusters)} and {len(records)}")
    stack, _, cluster = clusters[0]
    record_stack, _, record = records[0]
    group, name = stack.resolve(cluster.get("resource_group_name")), stack.resolve(cluster.get("name"))
    addresses = record_stack.resolve(record.get("records"))
    if not (isinstance(group, str) and isinstance(name, str) and isinstance(addresses, list) and len(addresses) == 1):
        raise SynthError(f"{stack.name}: the cluster's name, group and the scoring record's address must be literals")
    return RouterAddress(group, name, str(addresses[0]))
