"""Entry points the ML pipeline calls: `make ml-train-remote`, `make ml-rollout`, `make ml-batch-score`.

The workspace is found in the synthesized ml stack (name and resource group), the subscription in the
environment file, so the same command runs from a laptop (`az login`) or a pipeline (federated identity).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from contract import ML_BATCH_ENDPOINT, ML_DATA_ASSET, ML_ONLINE_ENDPOINT
from ml.carprice.gate import GateFileError, GateRejected, read_metrics
from stacks.config import ENVIRONMENTS_DIR, load_environment
from tools.deploy.ml_gate import GATE_REJECTED_EXIT
from tools.deploy.ml_rollout import Rollout, RolloutFailed, RolloutSettings
from tools.deploy.synth import SynthError, environment_stacks, find_resources, load_stacks

ROOT = Path(__file__).resolve().parents[2]
AZUREML_DIR = ROOT / "ml" / "azureml"
SMOKE_ROWS = Path(__file__).with_name("smoke_rows.json")
EXPERIMENT = "carprice-training"


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


def ml_client(environment: str, outdir: Path) -> Any:
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    config = load_environment(ENVIRONMENTS_DIR / f"{environment}.yaml")
    group, workspace = workspace_of(environment, outdir)
    return MLClient(DefaultAzureCredential(), config.subscription_id, group, workspace)


def _step_job(client: Any, pipeline_job: str, step: str) -> Any:
    for child in client.jobs.list(parent_job_name=pipeline_job):
        if step in (getattr(child, "display_name", None), getattr(child, "name", None)):
            return child
    raise GateFileError(f"pipeline job {pipeline_job} has no '{step}' step")


def submit_training(client: Any, job_file: Path, out: Path) -> dict[str, str]:
    """Run the Azure ML pipeline job (ml/azureml/pipeline.yml) to completion, then fetch the evaluate step's
    metrics next to a run record naming the train step's model output."""
    from azure.ai.ml import load_job

    job = client.jobs.create_or_update(load_job(job_file), experiment_name=EXPERIMENT)
    print(f"submitted {job.name}: {getattr(job, 'studio_url', '')}", flush=True)
    client.jobs.stream(job.name)  # raises when the job fails
    out.mkdir(parents=True, exist_ok=True)
    evaluate = _step_job(client, job.name, "evaluate")
    client.jobs.download(evaluate.name, download_path=str(out), output_name="metrics")
    train = _step_job(client, job.name, "train")
    record = {"job_name": job.name, "model_path": f"azureml://jobs/{train.name}/outputs/model"}
    (out / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record


def build_rollout(client: Any, endpoints_dir: Path, settings: RolloutSettings) -> Rollout:
    """Deployments come from ml/azureml/endpoints/online-deployment-<slot>.yml with the new model swapped in."""
    from azure.ai.ml import load_online_deployment, load_online_endpoint

    def deployment(slot: str, model_id: str) -> Any:
        params = [{"name": slot}, {"endpoint_name": ML_ONLINE_ENDPOINT}, {"model": model_id}]
        return load_online_deployment(endpoints_dir / f"online-deployment-{slot}.yml", params_override=params)

    def endpoint() -> Any:
        spec = endpoints_dir / "online-endpoint.yml"
        created = load_online_endpoint(spec, params_override=[{"name": ML_ONLINE_ENDPOINT}])
        created.traffic = {}  # no deployment exists yet; traffic is set once the first slot passed its smoke test
        return created

    rows = json.loads(SMOKE_ROWS.read_text(encoding="utf-8"))
    return Rollout(client, deployment, endpoint, rows, settings)


def batch_score(client: Any, input_path: str) -> str:
    from azure.ai.ml import Input

    job = client.batch_endpoints.invoke(
        endpoint_name=ML_BATCH_ENDPOINT, inputs={"input": Input(type="uri_folder", path=input_path)}
    )
    print(f"batch scoring job {job.name} started", flush=True)
    client.jobs.stream(job.name)
    return str(job.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train", "rollout", "batch-score"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out", help="synth output (finds the workspace)")
    parser.add_argument("--results", type=Path, default=None, help="evaluation download folder (reports/ml/<env>)")
    parser.add_argument("--job", type=Path, default=AZUREML_DIR / "pipeline.yml")
    parser.add_argument("--endpoints-dir", type=Path, default=AZUREML_DIR / "endpoints")
    parser.add_argument("--traffic-steps", default="10,100")
    parser.add_argument("--error-budget", type=float, default=0.1)
    parser.add_argument("--batch-input", default=f"azureml:{ML_DATA_ASSET}@latest")
    args = parser.parse_args(argv)
    results = args.results or ROOT / "reports" / "ml" / args.env
    try:
        client = ml_client(args.env, args.outdir)
        if args.command == "train":
            print(json.dumps(submit_training(client, args.job, results), indent=2))
        elif args.command == "batch-score":
            batch_score(client, args.batch_input)
        else:
            steps = tuple(int(step) for step in args.traffic_steps.split(","))
            settings = RolloutSettings(traffic_steps=steps, error_budget=args.error_budget)
            metrics = read_metrics(results)
            print(metrics.summary())
            record = json.loads((results / "run.json").read_text(encoding="utf-8"))
            build_rollout(client, args.endpoints_dir, settings).run(metrics.gate, record["job_name"])
    except GateRejected as exc:
        print(exc, file=sys.stderr)
        return GATE_REJECTED_EXIT
    except (RolloutFailed, SynthError, GateFileError, OSError) as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
