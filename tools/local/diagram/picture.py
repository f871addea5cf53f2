"""A picture as plain data (boxes, icons, arrows) and its Graphviz DOT text.

Node and edge ids are written into the DOT as `id` attributes, so the SVG graphviz makes carries them
(`<g id="..." class="node">`) and the drift test can read the picture back without trusting any sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

FONT = "Helvetica"


@dataclass(frozen=True)
class Box:
    """A cluster: resource group, VNet, subnet, component or domain."""

    id: str
    label: str
    parent: str | None = None
    style: str = "solid"  # "dashed" for things another stack owns
    fill: str = "#ffffff"
    pen: str = "#9aa5b1"
    font_size: int = 12


@dataclass(frozen=True)
class Node:
    id: str
    title: str
    subtitle: str = ""
    icon: Path | None = None
    box: str | None = None
    icon_size: int = 36
    title_size: int = 11
    subtitle_size: int = 9
    emphasis: bool = False  # a numbered step or the thing a reader should look at first


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str = ""
    style: str = "solid"
    color: str = "#52606d"
    bold: bool = False

    @property
    def id(self) -> str:
        return f"{self.source}->{self.target}"


@dataclass
class Picture:
    name: str  # file stem under docs/architecture/
    title: str
    rankdir: str = "LR"
    spacing: tuple[float, float] = (0.25, 0.5)  # Graphviz nodesep, ranksep in inches
    boxes: dict[str, Box] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    arrows: dict[str, Arrow] = field(default_factory=dict)
    layout: list[str] = field(default_factory=list)  # extra DOT lines: invisible edges and rank hints

    def add_box(self, box: Box) -> None:
        self.boxes.setdefault(box.id, box)

    def add_node(self, node: Node) -> None:
        self.nodes[node.id] = node

    def add_arrow(self, arrow: Arrow) -> None:
        """One arrow per pair; a second reference between the same two adds its label."""
        existing = self.arrows.get(arrow.id)
        if existing is None:
            self.arrows[arrow.id] = arrow
        elif arrow.label and arrow.label not in existing.label.split(", "):
            merged = ", ".join(part for part in (existing.label, arrow.label) if part)
            self.arrows[arrow.id] = Arrow(existing.source, existing.target, merged, existing.style, existing.color,
                                          existing.bold)

    def to_dot(self) -> str:
        lines = [
            f"digraph {_quote(self.name)} {{",
            f"  graph [rankdir={self.rankdir}, newrank=true, compound=true, fontname={_quote(FONT)}, "
            f"fontsize=18, labelloc=t, label={_html_title(self.title)}, nodesep={self.spacing[0]}, "
            f"ranksep={self.spacing[1]}, "
            'pad=0.3, bgcolor="white", splines=spline, forcelabels=true];',
            f'  node [shape=plain, fontname={_quote(FONT)}, fontsize=11];',
            f'  edge [fontname={_quote(FONT)}, fontsize=10, arrowsize=0.7, penwidth=1.1];',
        ]
        lines += self._box_lines(None, "  ")
        lines += [f"  {line}" for line in self.layout]
        for arrow in self.arrows.values():
            lines.append(f"  {_quote(arrow.source)} -> {_quote(arrow.target)} [{_arrow_attrs(arrow)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _box_lines(self, parent: str | None, indent: str) -> list[str]:
        lines = [f"{indent}{_node_line(node)}" for node in self.nodes.values() if node.box == parent]
        for box in self.boxes.values():
            if box.parent != parent:
                continue
            style = "rounded,dashed" if box.style == "dashed" else "rounded,filled"
            lines.append(f"{indent}subgraph {_quote('cluster_' + box.id)} {{")
            lines.append(
                f"{indent}  graph [label={_html_title(box.label, box.font_size)}, style={_quote(style)}, "
                f'fillcolor={_quote(box.fill)}, color={_quote(box.pen)}, labeljust=l, margin=10];'
            )
            lines += self._box_lines(box.id, indent + "  ")
            lines.append(f"{indent}}}")
        return lines


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_title(text: str, size: int = 18) -> str:
    return f'<<B><FONT POINT-SIZE="{size}">{escape(text)}</FONT></B>>'


def _node_line(node: Node) -> str:
    rows = []
    if node.icon is not None:
        rows.append(
            f'<TR><TD FIXEDSIZE="TRUE" WIDTH="{node.icon_size}" HEIGHT="{node.icon_size}">'
            f'<IMG SRC="{escape(str(node.icon))}" SCALE="TRUE"/></TD></TR>'
        )
    title = f"<B>{escape(node.title)}</B>" if node.emphasis else escape(node.title)
    for line in title.split("\n"):
        rows.append(f'<TR><TD><FONT POINT-SIZE="{node.title_size}">{line}</FONT></TD></TR>')
    for line in node.subtitle.split("\n") if node.subtitle else []:
        rows.append(f'<TR><TD><FONT POINT-SIZE="{node.subtitle_size}" COLOR="#52606d">{escape(line)}</FONT></TD></TR>')
    table = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>'
    return f"{_quote(node.id)} [id={_quote(node.id)}, label=<{table}>];"


def _arrow_attrs(arrow: Arrow) -> str:
    attrs = [f"id={_quote(arrow.id)}", f"color={_quote(arrow.color)}", f"style={arrow.style}"]
    if arrow.label:
        attrs.append(f"label={_html_title(arrow.label, 13)}" if arrow.bold else f"xlabel={_quote(arrow.label)}")
        attrs.append(f"fontcolor={_quote(arrow.color)}")
    if arrow.bold:
        attrs.append("penwidth=2.4")
    return ", ".join(attrs)
