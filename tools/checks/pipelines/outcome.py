"""Run a command whose "no" is a normal answer, and tell the pipeline which answer it was.

`python -m tools.checks.pipelines.outcome --variable promote --rejected-exit 3 -- make ml-gate ENV=dev` runs the
gate unchanged (it still exits 3 on a rejection), then sets the step's output variable `promote` to true
or false. A rejection is reported as a warning and the step succeeds, so a weekly retrain that keeps the
champion is not a red run; later stages run only when promote is true. Any other non-zero exit fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def outcome_lines(variable: str, returncode: int, rejected_exit: int) -> tuple[list[str], int]:
    """The logging commands to print and the exit code of the step."""
    if returncode == 0:
        return [f"##vso[task.setvariable variable={variable};isOutput=true]true"], 0
    if returncode == rejected_exit:
        return [
            f"##vso[task.setvariable variable={variable};isOutput=true]false",
            "##vso[task.logissue type=warning]rejected: the later stages are skipped (not a failure)",
        ], 0
    return [], returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variable", required=True)
    parser.add_argument("--rejected-exit", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    returncode = subprocess.run(command, check=False).returncode
    lines, code = outcome_lines(args.variable, returncode, args.rejected_exit)
    for line in lines:
        print(line, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
