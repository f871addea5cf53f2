"""Run a command and measure its wall time and the peak memory of its whole process tree."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child may exit between listing and reading
            total += proc.memory_info().rss
    return total


def measure(command: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Wall time and peak RSS summed over the process and its children (jsii runs Node as a child)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    watched = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, _tree_rss(watched))
        except psutil.Error:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        stderr = child.stderr.read().decode() if child.stderr else ""
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-2000:]}")
    return Run(seconds=seconds, peak_mib=peak / 2**20)


def best_of(runs: int, *commands: list[str], **kwargs: object) -> list[Run]:
    """Each command's fastest of `runs` (the least disturbed by the rest of the machine), with the highest peak
    seen. Several commands run in turns (A, B, A, B, ...), so a stretch of load elsewhere on the machine falls on
    all of them alike rather than on whichever ran then."""
    results: list[list[Run]] = [[] for _ in commands]
    for _ in range(runs):
        for command, seen in zip(commands, results, strict=True):
            seen.append(measure(command, **kwargs))  # type: ignore[arg-type]
    return [Run(seconds=min(r.seconds for r in seen), peak_mib=max(r.peak_mib for r in seen)) for seen in results]
