"""Turn a Picture into SVG and PNG with Graphviz's `dot`, rendering in a temp dir and moving the results.

Graphviz puts icons into the SVG as links to local files, which would break for anyone else; every icon is
embedded once as a base64 <symbol> and each node `<use>`s it, so the SVG stands alone and stays small.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tools.local.diagram.picture import Picture

PNG_DPI = 110  # ~1.5x Graphviz's 72 pt/in: crisp when a browser scales the PNG down to README width

_IMAGE = re.compile(
    r'<image xlink:href="(?P<href>[^"]+)" width="(?P<w>[\d.]+)px" height="(?P<h>[\d.]+)px" '
    r'preserveAspectRatio="[^"]*" x="(?P<x>[-\d.]+)" y="(?P<y>[-\d.]+)"/>'
)
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)


class GraphvizMissing(Exception):
    """The `dot` program is not installed (Debian/Ubuntu: apt-get install graphviz)."""


def dot_program() -> str:
    found = shutil.which("dot")
    if found is None:
        raise GraphvizMissing("`dot` not found: install Graphviz (make setup does, via tools/setup.sh)")
    return found


def render(picture: Picture, outdir: Path) -> list[Path]:
    """Write <name>.svg and <name>.png into outdir; returns the paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diagram-") as scratch:
        work = Path(scratch)
        source = work / f"{picture.name}.dot"
        source.write_text(picture.to_dot(), encoding="utf-8")
        svg, png = work / f"{picture.name}.svg", work / f"{picture.name}.png"
        _run_dot(source, "svg", svg)
        _run_dot(source, "png", png, f"-Gdpi={PNG_DPI}")
        svg.write_text(embed_icons(svg.read_text(encoding="utf-8")), encoding="utf-8")
        written = []
        for path in (svg, png):
            target = outdir / path.name
            shutil.move(path, target)
            written.append(target)
    return written


def _run_dot(source: Path, fmt: str, target: Path, *extra: str) -> None:
    result = subprocess.run(
        [dot_program(), f"-T{fmt}", *extra, "-o", str(target), str(source)],
        capture_output=True, text=True, check=False,
    )
    # dot warns (exit 0) about things like label sizes; only a failed exit means no picture.
    if result.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed for {source.name}: {result.stderr.strip()}")


def embed_icons(svg: str) -> str:
    """Replace file links to icons with one embedded <symbol> per icon and a <use> per node."""
    symbols: dict[str, str] = {}

    def use(match: re.Match[str]) -> str:
        href = match["href"]
        if href not in symbols:
            symbols[href] = f"icon{len(symbols)}"
        return (f'<use xlink:href="#{symbols[href]}" x="{match["x"]}" y="{match["y"]}" '
                f'width="{match["w"]}" height="{match["h"]}"/>')

    body = _IMAGE.sub(use, _COMMENT.sub("", svg))
    if not symbols:
        return body
    defs = ["<defs>"]
    for href, symbol_id in symbols.items():
        raw = Path(href).read_bytes()
        width, height = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")  # PNG IHDR
        data = base64.b64encode(raw).decode("ascii")
        defs.append(
            f'<symbol id="{symbol_id}" viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" '
            f'xlink:href="data:image/png;base64,{data}"/></symbol>'
        )
    defs.append("</defs>")
    # The <defs> go right after the opening <svg ...> tag.
    head, sep, rest = body.partition(">\n<g ")
    return head + ">\n" + "\n".join(defs) + "\n<g " + rest if sep else body
