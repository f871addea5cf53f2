"""Read a generated SVG back into its node and edge sets (the ids graphviz copied from the DOT).

Comparing sets, not bytes, keeps the drift check stable across Graphviz versions that lay out differently.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

_SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class DrawnGraph:
    nodes: dict[str, str]  # node id -> its visible text (title and captions, joined by " | ")
    edges: frozenset[tuple[str, str]]

    def node_set(self) -> set[tuple[str, str]]:
        return set(self.nodes.items())


def read_svg(path: Path) -> DrawnGraph:
    root = ET.parse(path).getroot()
    nodes: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    for group in root.iter(f"{_SVG}g"):
        kind, ident = group.get("class"), group.get("id", "")
        if kind == "node":
            texts = [t.text.strip() for t in group.iter(f"{_SVG}text") if t.text and t.text.strip()]
            nodes[ident] = " | ".join(texts)
        elif kind == "edge" and "->" in ident:
            tail, head = ident.split("->", 1)
            edges.add((tail, head))
    return DrawnGraph(nodes, frozenset(edges))
