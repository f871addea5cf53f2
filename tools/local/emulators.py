"""Local stand-ins for Azure services, as real servers on 127.0.0.1.

- Azurite (blob API) for the Data Lake; started with telemetry off and API-version checks off.
- @vercel/cosmosdb-server for Cosmos DB (in-memory, self-signed TLS, keep-alive connections).

Used by `make serve` and by the tests; each emulator is a context manager that stops what it started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from azure.storage.blob import BlobServiceClient

from runtime.emulator import COSMOS_EMULATOR_KEY

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
LOOPBACK = "127.0.0.1"

# Azurite's published development account (public, documented, works only against the emulator).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class PortInUseError(RuntimeError):
    pass


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = LOOPBACK) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def ensure_port_free(port: int, what: str) -> None:
    if port_is_open(port):
        raise PortInUseError(
            f"port {port} on {LOOPBACK} is already in use, so {what} cannot start there; "
            f"stop whatever is listening (e.g. `ss -ltnp 'sport = :{port}'`) or choose another port"
        )


def stop_process(process: subprocess.Popen[bytes] | None, grace_s: float = 10.0) -> None:
    """Terminate a server we started, and kill it if it has not exited after `grace_s`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], port: int, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before listening on port {port}")
        if port_is_open(port):
            return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout:.0f} s")


@dataclass
class _Server(ABC):
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    name: str = "server"

    @abstractmethod
    def _command(self) -> list[str]:
        """The emulator's command line."""

    def start(self) -> Self:
        if not self.port:
            self.port = free_port()
        ensure_port_free(self.port, self.name)
        self.process = subprocess.Popen(
            self._command(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '')}"},
        )
        _wait_for_port(self.process, self.port, self.name)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Azurite(_Server):
    """Azurite's blob service; data lives in `location` (a temporary folder unless given)."""

    location: Path | None = None
    name: str = "Azurite"
    _tmp: str | None = field(default=None, repr=False)

    def _command(self) -> list[str]:
        if self.location is None:
            self._tmp = tempfile.mkdtemp(prefix="azurite-")
            self.location = Path(self._tmp)
        return [
            str(NODE_BIN / "azurite-blob"), "--blobHost", LOOPBACK, "--blobPort", str(self.port),
            "--location", str(self.location), "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
        ]

    def stop(self) -> None:
        super().stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @property
    def blob_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/{AZURITE_ACCOUNT}"

    def blob_service(self) -> BlobServiceClient:
        """A blob client for this emulator, signed with its published development key."""
        return BlobServiceClient(
            account_url=self.blob_endpoint,
            credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
        )


@dataclass
class CosmosEmulator(_Server):
    """@vercel/cosmosdb-server: in-memory Cosmos DB SQL API over HTTPS with a self-signed certificate."""

    name: str = "Cosmos DB emulator"

    def _command(self) -> list[str]:
        # Started through its library rather than its CLI, whose server answers `connection: close` to
        # every request; Cosmos DB keeps connections open, so the SDK's pool reuses them as in Azure.
        script = (
            "require('@vercel/cosmosdb-server').createHttpsServer({keepAlive: true})"
            f".listen({self.port}, '{LOOPBACK}')"
        )
        return [str(NODE_BIN / "node"), "-e", script]

    @property
    def endpoint(self) -> str:
        return f"https://{LOOPBACK}:{self.port}/"

    @property
    def key(self) -> str:
        return COSMOS_EMULATOR_KEY
