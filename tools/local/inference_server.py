"""Run Microsoft's Azure ML inference server (`azmlinfsrv`) locally with a scoring script, bound to
127.0.0.1 only (the stock CLI always binds 0.0.0.0, so this wraps its entry point with the host changed).

`python -m tools.local.inference_server --entry_script ... --model_dir ... --port ...` runs the server;
`InferenceServer(...)` is a context manager that starts it as a subprocess and waits for /.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.local.emulators import LOOPBACK, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
SCORE_SCRIPT = ROOT / "ml" / "scoring" / "score.py"
# The server's own opt-outs: no Application Insights export.
QUIET_ENV = {"AML_APP_INSIGHTS_ENABLED": "false", "APP_INSIGHTS_LOG_RESPONSE_ENABLED": "false"}


def serve() -> None:
    import azureml_inference_server_http.amlserver as amlserver

    amlserver.DEFAULT_HOST = LOOPBACK
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    amlserver.run()


@dataclass
class InferenceServer:
    entry_script: Path
    model_dir: Path
    workers: int = 1
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def score_url(self) -> str:
        return f"{self.url}/score"

    def start(self, timeout: float = 60.0) -> InferenceServer:
        self.port = self.port or free_port()
        env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.local.inference_server", "--entry_script", str(self.entry_script),
             "--model_dir", str(self.model_dir), "--port", str(self.port), "--worker_count", str(self.workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"azmlinfsrv exited with {self.process.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"azmlinfsrv did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        stop_process(self.process, grace_s=15)
        self.process = None

    def __enter__(self) -> InferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    serve()
