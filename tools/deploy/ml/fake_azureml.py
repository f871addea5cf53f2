"""A fake Azure ML workspace at the azure-ai-ml boundary, for scenarios that cannot reach Azure.

`FakeAzureMLWorkspace` has the shape of `MLClient` the deploy tools use (models, online and batch endpoints
and deployments, jobs) and refuses what Azure ML refuses. Each rule below is one documented behaviour, with
its source next to it; nothing else is modelled. Routing through an endpoint's traffic split is a smooth
weighted round robin, so a slot with share p answers p% of the calls (Azure ML routes at random with the same
expectation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

# Azure ML REST, OnlineEndpointProperties.traffic: "Percentage of traffic from endpoint to divert to each
# deployment. Traffic values need to sum to 100." An endpoint without deployments holds an empty split (0).
# https://learn.microsoft.com/rest/api/azureml/online-endpoints/create-or-update#onlineendpointproperties
RULE_TRAFFIC_SUM = "online endpoint traffic must sum to 0 (no deployment) or 100"
# Traffic routes to deployments of the endpoint: a share for a deployment that does not exist is refused
# (Learn: how-to-safely-rollout-online-endpoints, "create the deployment, then allocate traffic to it").
RULE_TRAFFIC_TARGETS = "traffic can go only to a deployment that exists under the endpoint"
# A deployment lives under its endpoint (ARM: .../onlineEndpoints/{name}/deployments/{deployment},
# .../batchEndpoints/{name}/deployments/{deployment}): creating one under a missing endpoint is a 404.
RULE_DEPLOYMENT_PARENT = "a deployment needs its endpoint to exist first"
# Learn how-to-authenticate-online-endpoint, "Choose an authentication mode": key and aml_token serve
# managed and Kubernetes endpoints, aad_token managed endpoints only.
RULE_KUBERNETES_AUTH = "a Kubernetes online endpoint takes auth_mode key or aml_token"
KUBERNETES_AUTH_MODES = ("key", "aml_token")
# Learn how-to-use-batch-model-deployments: invoking a batch endpoint without naming a deployment runs its
# default deployment (`defaults.deployment_name`); an endpoint without one has nothing to run.
RULE_BATCH_DEFAULT = "invoking a batch endpoint without a deployment name needs a default deployment"
# A deployment's model reference must resolve to a registered version (ARM validates asset ids on create).
RULE_MODEL_EXISTS = "a deployment's model must be a registered version"


class FakeAzureMLRefusal(HttpResponseError):
    """What Azure ML answers (HTTP 400) to a request one of the documented rules refuses."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(message=f"{rule}: {detail}")
        self.rule = rule


@dataclass
class _Poller:
    value: Any

    def result(self) -> Any:
        return self.value


def _name(entity: Any, key: str = "name") -> str:
    return str(entity[key] if isinstance(entity, dict) else getattr(entity, key))


def _model_reference(model: Any) -> str:
    """'azureml:carprice:7' or '.../models/carprice/versions/7' as 'carprice:7'."""
    reference = str(getattr(model, "id", None) or model)
    return reference.rsplit("/models/", 1)[-1].replace("/versions/", ":").removeprefix("azureml:")


@dataclass
class FakeAzureMLWorkspace:
    """The workspace's endpoints, deployments and registered models, kept in memory."""

    models_by_version: dict[str, str] = field(default_factory=dict)  # version -> the pipeline job that registered it
    model_name: str = "carprice"
    broken_deployments: set[str] = field(default_factory=set)  # "endpoint/deployment" that answer HTTP 500
    online: dict[str, Any] = field(default_factory=dict)
    online_deps: dict[tuple[str, str], Any] = field(default_factory=dict)
    batch: dict[str, Any] = field(default_factory=dict)
    batch_deps: dict[tuple[str, str], Any] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    batch_jobs: list[dict[str, Any]] = field(default_factory=list)
    _credit: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.models = SimpleNamespace(list=self._list_models, get=self._get_model)
        self.online_endpoints = SimpleNamespace(
            get=self._get_online, begin_create_or_update=self._put_online, invoke=self._invoke_online
        )
        self.online_deployments = SimpleNamespace(get=self._get_online_dep, begin_create_or_update=self._put_online_dep)
        self.batch_endpoints = SimpleNamespace(
            get=self._get_batch, begin_create_or_update=self._put_batch, invoke=self._invoke_batch
        )
        self.batch_deployments = SimpleNamespace(get=self._get_batch_dep, begin_create_or_update=self._put_batch_dep)
        self.jobs = SimpleNamespace(stream=lambda name: None, download=self._download)

    def _refuse(self, rule: str, detail: str) -> FakeAzureMLRefusal:
        self.refusals.append(f"{rule}: {detail}")
        return FakeAzureMLRefusal(rule, detail)

    # --- models ---
    def _list_models(self, name: str) -> list[Any]:
        return [SimpleNamespace(name=name, version=v, id=f"azureml:{name}:{v}", tags={"pipeline_job": job})
                for v, job in self.models_by_version.items() if name == self.model_name]

    def _get_model(self, name: str, version: str | None = None, label: str | None = None) -> Any:
        versions = sorted(self.models_by_version, key=int)
        chosen = versions[-1] if label == "latest" and versions else version
        if name != self.model_name or chosen not in self.models_by_version:
            raise ResourceNotFoundError(f"model {name}:{version or label} not found")
        return SimpleNamespace(name=name, version=chosen, id=f"azureml:{name}:{chosen}")

    def _check_model(self, deployment: Any) -> None:
        reference = _model_reference(deployment["model"] if isinstance(deployment, dict) else deployment.model)
        name, _, version = reference.partition(":")
        if "@" in reference or name != self.model_name or version not in self.models_by_version:
            raise self._refuse(RULE_MODEL_EXISTS, f"{reference} is not a registered version")

    # --- online endpoints ---
    def _get_online(self, name: str) -> Any:
        if name not in self.online:
            raise ResourceNotFoundError(f"online endpoint {name} not found")
        stored = self.online[name]
        return SimpleNamespace(name=name, traffic=dict(stored.traffic), auth_mode=stored.auth_mode,
                               scoring_uri=stored.scoring_uri)

    def _put_online(self, endpoint: Any) -> _Poller:
        name = _name(endpoint)
        traffic = {slot: int(share) for slot, share in (getattr(endpoint, "traffic", None) or {}).items()}
        if getattr(endpoint, "compute", None) and getattr(endpoint, "auth_mode", None) not in KUBERNETES_AUTH_MODES:
            raise self._refuse(RULE_KUBERNETES_AUTH, f"{name} asks for {endpoint.auth_mode}")
        if sum(traffic.values()) not in (0, 100):
            raise self._refuse(RULE_TRAFFIC_SUM, f"{name} traffic {traffic} sums to {sum(traffic.values())}")
        missing = [slot for slot, share in traffic.items() if share > 0 and (name, slot) not in self.online_deps]
        if missing:
            raise self._refuse(RULE_TRAFFIC_TARGETS, f"{name} has no deployment {', '.join(missing)}")
        previous = self.online.get(name)
        self.online[name] = SimpleNamespace(
            traffic=traffic, auth_mode=getattr(endpoint, "auth_mode", previous.auth_mode if previous else "key"),
            scoring_uri=previous.scoring_uri if previous else f"http://10.0.0.1/api/v1/endpoint/{name}/score",
        )
        return _Poller(self._get_online(name))

    def _get_online_dep(self, name: str, endpoint_name: str) -> Any:
        if (endpoint_name, name) not in self.online_deps:
            raise ResourceNotFoundError(f"deployment {endpoint_name}/{name} not found")
        return self.online_deps[(endpoint_name, name)]

    def _put_online_dep(self, deployment: Any) -> _Poller:
        endpoint, name = _name(deployment, "endpoint_name"), _name(deployment)
        if endpoint not in self.online:
            raise self._refuse(RULE_DEPLOYMENT_PARENT, f"online endpoint {endpoint} does not exist")
        self._check_model(deployment)
        self.online_deps[(endpoint, name)] = deployment
        return _Poller(deployment)

    def _route(self, endpoint: str) -> str:
        shares = {slot: share for slot, share in self.online[endpoint].traffic.items() if share > 0}
        if not shares:
            raise HttpResponseError(message=f"HTTP 424: {endpoint} has no deployment taking traffic")
        for slot, share in shares.items():
            self._credit[slot] = self._credit.get(slot, 0) + share
        chosen = max(sorted(shares), key=lambda slot: self._credit[slot])
        self._credit[chosen] -= sum(shares.values())
        return chosen

    def _invoke_online(self, endpoint_name: str, request_file: str, deployment_name: str | None = None) -> str:
        if endpoint_name not in self.online:
            raise ResourceNotFoundError(f"online endpoint {endpoint_name} not found")
        slot = deployment_name or self._route(endpoint_name)
        if (endpoint_name, slot) not in self.online_deps:
            raise ResourceNotFoundError(f"deployment {endpoint_name}/{slot} not found")
        if f"{endpoint_name}/{slot}" in self.broken_deployments:
            raise HttpResponseError(message=f"HTTP 500 from {endpoint_name}/{slot}")
        rows = json.loads(Path(request_file).read_text(encoding="utf-8"))["data"]
        model = _model_reference(self.online_deps[(endpoint_name, slot)].model)
        return json.dumps({"model_version": model, "predictions": [{"price": 12000.0}] * len(rows)})

    # --- batch endpoints ---
    def _get_batch(self, name: str) -> Any:
        if name not in self.batch:
            raise ResourceNotFoundError(f"batch endpoint {name} not found")
        return self.batch[name]

    def _put_batch(self, endpoint: Any) -> _Poller:
        name = _name(endpoint)
        defaults = getattr(endpoint, "defaults", None)
        default = defaults.get("deployment_name") if isinstance(defaults, dict) else getattr(
            defaults, "deployment_name", None)
        if default and (name, default) not in self.batch_deps:
            raise self._refuse(RULE_TRAFFIC_TARGETS, f"batch endpoint {name} has no deployment {default}")
        # As azure-ai-ml returns it: no defaults object until a default deployment is set.
        self.batch[name] = SimpleNamespace(
            name=name, defaults=SimpleNamespace(deployment_name=default) if default else None,
            auth_mode=getattr(endpoint, "auth_mode", "aad_token"),
        )
        return _Poller(self.batch[name])

    def _get_batch_dep(self, name: str, endpoint_name: str) -> Any:
        if (endpoint_name, name) not in self.batch_deps:
            raise ResourceNotFoundError(f"batch deployment {endpoint_name}/{name} not found")
        return self.batch_deps[(endpoint_name, name)]

    def _put_batch_dep(self, deployment: Any) -> _Poller:
        endpoint, name = _name(deployment, "endpoint_name"), _name(deployment)
        if endpoint not in self.batch:
            raise self._refuse(RULE_DEPLOYMENT_PARENT, f"batch endpoint {endpoint} does not exist")
        self._check_model(deployment)
        self.batch_deps[(endpoint, name)] = deployment
        return _Poller(deployment)

    def _invoke_batch(self, endpoint_name: str, inputs: Any = None, outputs: Any = None,
                      deployment_name: str | None = None, **_: Any) -> Any:
        endpoint = self._get_batch(endpoint_name)
        deployment = deployment_name or (endpoint.defaults.deployment_name if endpoint.defaults else None)
        if not deployment:
            raise self._refuse(RULE_BATCH_DEFAULT, f"{endpoint_name} has no default deployment")
        job = {"name": f"batch-{len(self.batch_jobs) + 1}", "endpoint": endpoint_name, "deployment": deployment,
               "model": _model_reference(self.batch_deps[(endpoint_name, deployment)].model),
               "inputs": inputs, "outputs": outputs}
        self.batch_jobs.append(job)
        return SimpleNamespace(name=job["name"])

    def _download(self, name: str, download_path: str, output_name: str | None = None) -> None:
        folder = Path(download_path) / "named-outputs" / (output_name or "default")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "predictions.csv").write_text("make,price\ntoyota,12000.0\n", encoding="utf-8")
