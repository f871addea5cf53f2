"""Entry points the ML pipeline calls: `make ml-assets`, `make ml-train-remote`, `make ml-rollout`,
`make ml-batch-score`.

Everything that differs by environment comes from the environment file (subscription) and the synthesized
stacks (workspace and resource group, the lake's storage account) when a job is submitted; the YAML under
ml/azureml/ names none of it. The same command runs from a laptop (`az login`) or a pipeline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contract import (
    ML_BATCH_ENDPOINT,
    ML_BATCH_INPUT_PATH,
    ML_BATCH_OUTPUT_PATH,
    ML_COMPUTE_CLUSTER,
    ML_DATASTORE_LAKE,
    ML_MODEL_NAME,
    ML_ONLINE_ENDPOINT,
    ml_endpoint_environment,
    ml_endpoint_name,
    online_scoring_url,
)
from ml.carprice.gate import GateFileError, GateRejected, read_metrics
from stacks.config import ENVIRONMENTS_DIR, load_environment
from tools.deploy.ml.gate import GATE_REJECTED_EXIT
from tools.deploy.ml.rollout import Rollout, RolloutFailed, RolloutSettings
from tools.deploy.ml.router import RouterAddressError, router_of
from tools.synth_output import SynthError, environment_stacks, find_resources, load_stacks

ROOT = Path(__file__).resolve().parents[3]
AZUREML_DIR = ROOT / "ml" / "azureml"
ENDPOINTS_DIR = AZUREML_DIR / "endpoints"
SMOKE_ROWS = Path(__file__).with_name("smoke_rows.json")
EXPERIMENT = "carprice-training"
CHAMPION_INPUT = "champion"  # the evaluate step's optional input (ml/azureml/components/evaluate.yml)


def workspace_of(environment: str, outdir: Path) -> tuple[str, str]:
    """(resource group, workspace name) of the environment's Azure ML workspace in the synth output."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = find_resources(stacks, "azurerm_machine_learning_workspace")
    if len(found) != 1:
        raise SynthError(f"expected one azurerm_machine_learning_workspace for {environment}, found {len(found)}")
    stack, _, attributes = found[0]
    group, name = stack.resolve(attributes.get("resource_group_name")), stack.resolve(attributes.get("name"))
    if not (isinstance(group, str) and isinstance(name, str)):
        raise SynthError(f"{stack.name}: the workspace's name and resource group must be literals")
    return group, name


def lake_account_of(environment: str, outdir: Path) -> str:
    """The environment's Data Lake account: its one storage account with a hierarchical namespace."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = [(stack, attributes) for stack, _, attributes in find_resources(stacks, "azurerm_storage_account")
             if stack.resolve(attributes.get("is_hns_enabled")) is True]
    if len(found) != 1:
        raise SynthError(f"expected one Data Lake (storage account with is_hns_enabled) for {environment}, "
                         f"found {len(found)}")
    stack, attributes = found[0]
    name = stack.resolve(attributes.get("name"))
    if not isinstance(name, str):
        raise SynthError(f"{stack.name}: the Data Lake account's name must be a literal")
    return name


@dataclass(frozen=True)
class Target:
    """One environment's Azure ML workspace and lake, as its config file and synth output name them."""

    environment: str
    subscription_id: str
    resource_group: str
    workspace: str
    lake_account: str

    @classmethod
    def of(cls, environment: str, outdir: Path) -> Target:
        config = load_environment(ENVIRONMENTS_DIR / f"{environment}.yaml")
        group, workspace = workspace_of(environment, outdir)
        return cls(environment, config.subscription_id, group, workspace, lake_account_of(environment, outdir))

    @property
    def lake_root(self) -> str:
        return f"abfss://{{layer}}@{self.lake_account}.dfs.core.windows.net"

    def pipeline_inputs(self) -> dict[str, str]:
        """Every input ml/azureml/pipeline.yml declares, for this environment."""
        return {"lake_root": self.lake_root, "subscription_id": self.subscription_id,
                "resource_group": self.resource_group, "workspace_name": self.workspace}

    def endpoint(self, endpoint: str) -> str:
        return ml_endpoint_name(endpoint, self.environment)


def ml_client(target: Target) -> Any:
    from azure.ai.ml import MLClient

    from tools.deploy.credential import azure_credential  # renews itself: job streams outlive one token

    return MLClient(azure_credential(), target.subscription_id, target.resource_group, target.workspace)


def register_assets(client: Any, specs: Path = AZUREML_DIR) -> dict[str, str]:
    """The environment and the gold data asset in this workspace (each environment registers its own).
    The environment's version is a digest of its files, so re-registering unchanged files is a no-op and a
    changed conda file is a new version that `@latest` (the components' reference) picks up."""
    from azure.ai.ml import load_data, load_environment

    digest = hashlib.sha256()
    for name in ("environment.yml", "conda.yml"):
        digest.update((specs / name).read_bytes())
    environment = load_environment(specs / "environment.yml", params_override=[{"version": digest.hexdigest()[:12]}])
    created_env = client.environments.create_or_update(environment)
    created_data = client.data.create_or_update(load_data(specs / "data" / "gold.yml"))
    return {"environment": f"{created_env.name}:{created_env.version}",
            "data": f"{created_data.name}:{created_data.version}"}


def _step_job(client: Any, pipeline_job: str, step: str) -> Any:
    for child in client.jobs.list(parent_job_name=pipeline_job):
        if step in (getattr(child, "display_name", None), getattr(child, "name", None)):
            return child
    raise GateFileError(f"pipeline job {pipeline_job} has no '{step}' step")


def champion_model(client: Any, endpoint_name: str) -> str | None:
    """The registered version the environment's online endpoint serves ("azureml:carprice:7"): the champion
    the gate compares against. Its model folder holds the metrics.json it was promoted with (the train step
    writes it there). None before the first rollout: no endpoint yet, or no slot taking traffic."""
    from azure.core.exceptions import ResourceNotFoundError

    from tools.deploy.ml.served import NoServedModel, NothingServed, served_model

    try:
        served = served_model(client, endpoint_name)
    except (ResourceNotFoundError, NothingServed):
        return None
    except NoServedModel as exc:
        raise GateFileError(f"no champion to compare against: {exc}") from None
    return f"azureml:{served.name}:{served.version}"


def training_job(job_file: Path, inputs: dict[str, str], champion: str | None = None) -> Any:
    """The pipeline job with this environment's inputs and compute set (the YAML leaves them empty), the same
    way `az ml job create --set inputs.<name>=...` would; the champion model, when there is one, is bound to
    the evaluate step's optional input (a pipeline job's own inputs cannot be optional models)."""
    import yaml
    from azure.ai.ml import load_job

    declared = set(yaml.safe_load(job_file.read_text(encoding="utf-8")).get("inputs", {}))
    missing, unknown = sorted(declared - set(inputs)), sorted(set(inputs) - declared)
    empty = sorted(name for name, value in inputs.items() if not value)
    if missing or unknown or empty:
        raise SynthError(f"{job_file}: pipeline inputs without a value: {', '.join(missing + empty) or '-'}; "
                         f"not declared: {', '.join(unknown) or '-'}")
    overrides: list[dict[str, object]] = [{f"inputs.{name}": value} for name, value in inputs.items()]
    overrides.append({"settings.default_compute": f"azureml:{ML_COMPUTE_CLUSTER}"})
    if champion is not None:
        overrides.append({f"jobs.evaluate.inputs.{CHAMPION_INPUT}": {"type": "custom_model", "path": champion}})
    return load_job(job_file, params_override=overrides)


def submit_training(client: Any, job_file: Path, out: Path, inputs: dict[str, str] | None = None,
                    champion: str | None = None) -> dict[str, str]:
    """Run the Azure ML pipeline job (ml/azureml/pipeline.yml) to completion, then fetch the evaluate step's
    metrics next to a run record naming the train step's model output."""
    from azure.ai.ml import load_job

    job = training_job(job_file, inputs, champion) if inputs is not None else load_job(job_file)
    job = client.jobs.create_or_update(job, experiment_name=EXPERIMENT)
    print(f"submitted {job.name}: {getattr(job, 'studio_url', '')}", flush=True)
    client.jobs.stream(job.name)  # raises when the job fails
    out.mkdir(parents=True, exist_ok=True)
    evaluate = _step_job(client, job.name, "evaluate")
    client.jobs.download(evaluate.name, download_path=str(out), output_name="metrics")
    train = _step_job(client, job.name, "train")
    record = {"job_name": job.name, "model_path": f"azureml://jobs/{train.name}/outputs/model",
              "champion": champion or ""}
    (out / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record


def build_rollout(client: Any, endpoints_dir: Path, settings: RolloutSettings,
                  endpoint_name: str = ML_ONLINE_ENDPOINT) -> Rollout:
    """Both slots come from ml/azureml/endpoints/online-deployment.yml with the slot's name and the new model."""
    from azure.ai.ml import load_online_deployment, load_online_endpoint

    def deployment(slot: str, model_id: str) -> Any:
        params = [{"name": slot}, {"endpoint_name": endpoint_name}, {"model": model_id}]
        return load_online_deployment(endpoints_dir / "online-deployment.yml", params_override=params)

    def endpoint() -> Any:
        spec = endpoints_dir / "online-endpoint.yml"
        created = load_online_endpoint(spec, params_override=[{"name": endpoint_name}])
        created.traffic = {}  # no deployment exists yet; traffic is set once the first slot passed its smoke test
        return created

    rows = json.loads(SMOKE_ROWS.read_text(encoding="utf-8"))
    return Rollout(client, deployment, endpoint, rows, settings, endpoint_name=endpoint_name)


class BatchSetupFailed(Exception):
    """The batch endpoint or its deployment could not be created or moved to the served model."""


def ensure_batch_deployment(client: Any, endpoint_name: str, model: str,
                            endpoints_dir: Path = ENDPOINTS_DIR) -> str:
    """Create or update the environment's batch endpoint and its deployment (ml/azureml/endpoints/batch-*.yml)
    so that it scores with `model` ("azureml:carprice:7"), and make that deployment the endpoint's default.
    Returns the deployment's name. Azure ML keeps a deployment under its endpoint, so the endpoint comes first;
    the default is set once the deployment exists."""
    from azure.ai.ml import load_batch_endpoint
    from azure.ai.ml.entities._load_functions import load_model_batch_deployment
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    def spec(default: str | None = None) -> Any:
        params: list[dict[str, Any]] = [{"name": endpoint_name}]
        endpoint = load_batch_endpoint(endpoints_dir / "batch-endpoint.yml", params_override=params)
        if default:
            endpoint.defaults = {"deployment_name": default}
        return endpoint

    step = f"batch endpoint {endpoint_name}"
    try:
        try:
            current = default_deployment(client.batch_endpoints.get(endpoint_name))
        except ResourceNotFoundError:
            print(f"{step} does not exist yet; creating it", flush=True)
            client.batch_endpoints.begin_create_or_update(spec()).result()
            current = None
        step = f"batch deployment of {model} under {endpoint_name}"
        deployment = load_model_batch_deployment(
            endpoints_dir / "batch-deployment.yml",
            params_override=[{"endpoint_name": endpoint_name}, {"model": model}],
        )
        client.batch_deployments.begin_create_or_update(deployment).result()
        if current != deployment.name:
            step = f"default deployment of {endpoint_name}"
            client.batch_endpoints.begin_create_or_update(spec(deployment.name)).result()
    except (HttpResponseError, ResourceNotFoundError) as exc:
        raise BatchSetupFailed(f"{step} failed: {exc}") from exc
    print(f"batch endpoint {endpoint_name} scores with {model} (deployment {deployment.name})", flush=True)
    return str(deployment.name)


def default_deployment(endpoint: Any) -> str | None:
    """A batch endpoint's default deployment, however azure-ai-ml holds it (None, a dict or a REST object)."""
    defaults = getattr(endpoint, "defaults", None)
    if isinstance(defaults, dict):
        return defaults.get("deployment_name")
    return getattr(defaults, "deployment_name", None)


def batch_score(client: Any, endpoint_name: str, download: Path, run_id: str | None = None, *,
                model: str | None = None, endpoints_dir: Path = ENDPOINTS_DIR) -> tuple[str, Path]:
    """Score the cars prep left on the lake (a folder of CSV files: the batch deployment reads files, so
    the input is a uri_folder, not the MLTable gold asset) with `model`, by default the version the
    environment's online endpoint serves (what the gate promoted and the app shows); predictions land on the
    lake under predictions/<run id>/ and are downloaded to `download` for publishing. Returns (run id, folder)."""
    from azure.ai.ml import Input, Output

    if model is None:
        from azure.core.exceptions import ResourceNotFoundError

        from tools.deploy.ml.served import NoServedModel, served_model

        online = ml_endpoint_name(ML_ONLINE_ENDPOINT, ml_endpoint_environment(ML_BATCH_ENDPOINT, endpoint_name))
        try:
            served = served_model(client, online)
        except (NoServedModel, ResourceNotFoundError) as exc:
            raise BatchSetupFailed(f"nothing to batch-score with: {exc}; run the rollout first") from exc
        model = f"azureml:{ML_MODEL_NAME}:{served.version}"
    ensure_batch_deployment(client, endpoint_name, model, endpoints_dir)
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    datastore = f"azureml://datastores/{ML_DATASTORE_LAKE}/paths"
    job = client.batch_endpoints.invoke(
        endpoint_name=endpoint_name,
        inputs={"input": Input(type="uri_folder", path=f"{datastore}/{ML_BATCH_INPUT_PATH}/")},
        outputs={"score": Output(type="uri_folder", path=f"{datastore}/{ML_BATCH_OUTPUT_PATH}/{run_id}/")},
    )
    print(f"batch scoring job {job.name} started (run {run_id})", flush=True)
    client.jobs.stream(job.name)
    folder = download / run_id
    client.jobs.download(job.name, download_path=str(folder), output_name="score")
    return run_id, folder


def scoring_uri_mismatch(served_at: str, expected: str, router_address: str) -> str | None:
    """Why the app and function settings (`expected`) would not reach what Azure ML serves, or None. Over HTTP
    Azure ML names the router by its address, which the scoring name resolves to; over HTTPS by `sslCname`."""
    from urllib.parse import urlsplit

    got, want = urlsplit(served_at), urlsplit(expected)
    hosts = {want.hostname} | ({router_address} if want.scheme == "http" else set())
    if got.scheme == want.scheme and got.hostname in hosts and got.path == want.path:
        return None
    return (f"the online endpoint serves at {served_at or 'no scoring URI'}, but the app and function settings "
            f"call {expected}: remote scoring would miss it (contract.online_scoring_url, aks.inference_tls)")


def cosmos_endpoint_of(environment: str, outdir: Path) -> str:
    """The environment's Cosmos DB account endpoint (where batch results are published for the app)."""
    stacks = environment_stacks(load_stacks(outdir), environment)
    found = find_resources(stacks, "azurerm_cosmosdb_account")
    if len(found) != 1:
        raise SynthError(f"expected one azurerm_cosmosdb_account for {environment}, found {len(found)}")
    stack, _, attributes = found[0]
    name = stack.resolve(attributes.get("name"))
    if not isinstance(name, str):
        raise SynthError(f"{stack.name}: the Cosmos DB account's name must be a literal")
    return f"https://{name}.documents.azure.com:443/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["assets", "train", "rollout", "batch-score"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out", help="synth output (finds the workspace)")
    parser.add_argument("--results", type=Path, default=None, help="evaluation download folder (reports/ml/<env>)")
    parser.add_argument("--job", type=Path, default=AZUREML_DIR / "pipeline.yml")
    parser.add_argument("--endpoints-dir", type=Path, default=AZUREML_DIR / "endpoints")
    parser.add_argument("--traffic-steps", default="10,100")
    parser.add_argument("--error-budget", type=float, default=0.1)
    args = parser.parse_args(argv)
    results = args.results or ROOT / "reports" / "ml" / args.env
    try:
        target = Target.of(args.env, args.outdir)
        client = ml_client(target)
        if args.command == "assets":
            print(json.dumps(register_assets(client), indent=2))
        elif args.command == "train":
            print(json.dumps(register_assets(client), indent=2))
            champion = champion_model(client, target.endpoint(ML_ONLINE_ENDPOINT))
            print(f"champion: {champion or 'none, the endpoint serves no model yet'}", flush=True)
            print(json.dumps(submit_training(client, args.job, results, target.pipeline_inputs(), champion),
                             indent=2))
        elif args.command == "batch-score":
            from ml.carprice.publish import publish_folder

            run_id, folder = batch_score(client, target.endpoint(ML_BATCH_ENDPOINT), results / "batch")
            from tools.deploy.credential import azure_credential

            report = publish_folder(folder, run_id, cosmos_endpoint_of(args.env, args.outdir), azure_credential())
            print(report.line())
        else:
            steps = tuple(int(step) for step in args.traffic_steps.split(","))
            settings = RolloutSettings(traffic_steps=steps, error_budget=args.error_budget)
            metrics = read_metrics(results)
            print(metrics.summary())
            record = json.loads((results / "run.json").read_text(encoding="utf-8"))
            router = router_of(args.env, args.outdir)
            router.hold()  # the scoring name's address, before any deployment or traffic moves
            rollout = build_rollout(client, args.endpoints_dir, settings, target.endpoint(ML_ONLINE_ENDPOINT))
            rollout.run(metrics.gate, record["job_name"])
            config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
            expected = online_scoring_url(args.env, config.scoring_host, https=config.aks.inference_tls is not None)
            served_at = client.online_endpoints.get(target.endpoint(ML_ONLINE_ENDPOINT)).scoring_uri
            warning = scoring_uri_mismatch(str(served_at or ""), expected, router.address)
            if warning:
                print(f"##vso[task.logissue type=warning]{warning}", flush=True)
    except GateRejected as exc:
        print(exc, file=sys.stderr)
        return GATE_REJECTED_EXIT
    except (RolloutFailed, BatchSetupFailed, RouterAddressError, SynthError, GateFileError, OSError) as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
