"""Keep the suppression lists in docs/security.md and README.md in step with .checkov.baseline:
`python -m tools.checks.scan.docs`."""

from __future__ import annotations

import sys
from pathlib import Path

from tools.checks.scan import BASELINE, REPO_ROOT
from tools.checks.scan.baseline import load_suppressions

SECURITY_DOC = REPO_ROOT / "docs" / "security.md"
README = REPO_ROOT / "README.md"
DOCUMENTS = (SECURITY_DOC, README)
START, END = "<!-- suppressions:start (python -m tools.checks.scan.docs) -->", "<!-- suppressions:end -->"


def suppression_table(baseline: Path = BASELINE) -> str:
    rows = ["| Check | Resource | Stacks | Reason |", "|---|---|---|---|"]
    for entry in load_suppressions(baseline):
        stacks = entry.file_glob.removeprefix("/stacks/").removesuffix("/cdk.tf.json")
        reason = entry.reason.replace("|", "\\|")
        rows.append(f"| {entry.check_id} | `{entry.resource}` | `{stacks}` | {reason} |")
    return "\n".join(rows)


def with_table(document: str, table: str) -> str:
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    table = suppression_table()
    for document in DOCUMENTS:
        document.write_text(with_table(document.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"updated the suppression list in {document.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
