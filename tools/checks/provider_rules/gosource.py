"""Go packages of the provider read straight from its git mirror at one tag, parsed with tree-sitter.

A package is one directory; its declarations (functions, methods, constants, variables) are indexed by
name so the evaluator can follow a call or a constant into any file of it, or into an imported package
(the provider's own `internal/...` or a vendored module under `vendor/`).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_go
from tree_sitter import Language, Node, Parser

MODULE = "github.com/hashicorp/terraform-provider-azurerm/"
_PARSER = Parser(Language(tree_sitter_go.language()))


class GitTree:
    """Files of one commit-ish of a git repository, read through one `git cat-file --batch` process."""

    def __init__(self, repo: Path, ref: str) -> None:
        self.repo, self.ref = repo, ref
        self._cat = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._listing: dict[str, list[str]] = {}

    def close(self) -> None:
        if self._cat.stdin:
            self._cat.stdin.close()
        self._cat.wait()

    def read(self, path: str) -> bytes:
        assert self._cat.stdin and self._cat.stdout
        self._cat.stdin.write(f"{self.ref}:{path}\n".encode())
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) != 3:
            raise FileNotFoundError(f"{path} does not exist at {self.ref}")
        body = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)
        return body

    def list_dir(self, directory: str) -> list[str]:
        """File names (not subdirectories) directly in `directory`."""
        if directory not in self._listing:
            out = subprocess.run(
                ["git", "-C", str(self.repo), "ls-tree", f"{self.ref}:{directory}"], capture_output=True, text=True,
            )
            rows = [line.split(None, 3) for line in out.stdout.splitlines()] if out.returncode == 0 else []
            self._listing[directory] = [row[3] for row in rows if len(row) == 4 and row[1] == "blob"]
        return self._listing[directory]

    def grep(self, text: str, pathspec: str) -> list[str]:
        """Files (at the ref) under `pathspec` containing `text` literally."""
        out = subprocess.run(
            ["git", "-C", str(self.repo), "grep", "-l", "-F", text, self.ref, "--", pathspec],
            capture_output=True, text=True,
        )
        return sorted({line.split(":", 1)[1] for line in out.stdout.splitlines() if ":" in line})


def text(node: Node) -> str:
    return node.text.decode() if node.text is not None else ""


@dataclass
class Decl:
    """One top-level declaration: its node, the file it is in and that file's imports (alias -> path)."""

    node: Node
    file: str
    imports: dict[str, str]


@dataclass
class Package:
    directory: str
    funcs: dict[str, Decl] = field(default_factory=dict)
    methods: dict[tuple[str, str], Decl] = field(default_factory=dict)  # (receiver type, name)
    values: dict[str, Decl] = field(default_factory=dict)  # const and var specs
    types: set[str] = field(default_factory=set)


def import_alias(spec: Node) -> tuple[str, str]:
    path = text(spec.child_by_field_name("path"))[1:-1]  # type: ignore[arg-type]
    name = spec.child_by_field_name("name")
    return (text(name) if name is not None else path.rstrip("/").split("/")[-1]), path


def package_directory(import_path: str) -> str:
    if import_path.startswith(MODULE):
        return import_path[len(MODULE):]
    return f"vendor/{import_path}"


def _receiver_type(method: Node) -> str:
    receiver = text(method.child_by_field_name("receiver"))  # type: ignore[arg-type]
    return receiver.strip("()").split()[-1].lstrip("*")


class Source:
    """Lazily parsed packages of the provider at one tag."""

    def __init__(self, tree: GitTree) -> None:
        self.tree = tree
        self._packages: dict[str, Package] = {}
        self.missing: list[str] = []

    def package(self, directory: str) -> Package:
        if directory in self._packages:
            return self._packages[directory]
        package = Package(directory)
        self._packages[directory] = package
        for name in self.tree.list_dir(directory):
            if name.endswith(".go") and not name.endswith("_test.go"):
                try:
                    self._index(package, f"{directory}/{name}")
                except FileNotFoundError:  # a mirror may list its largest files without their content
                    self.missing.append(f"{directory}/{name}")
        return package

    def _index(self, package: Package, path: str) -> None:
        root = _PARSER.parse(self.tree.read(path)).root_node
        imports: dict[str, str] = {}
        for node in root.children:
            if node.type == "import_declaration":
                for spec in find_all(node, "import_spec"):
                    alias, import_path = import_alias(spec)
                    imports[alias] = import_path
        for node in root.children:
            _declare(package, node, path, imports)


def _declare(package: Package, node: Node, path: str, imports: dict[str, str]) -> None:
    """Index one top-level declaration of a file: a function, a method, constants and variables, or types."""
    if node.type == "function_declaration":
        package.funcs[text(node.child_by_field_name("name"))] = Decl(node, path, imports)  # type: ignore[arg-type]
    elif node.type == "method_declaration":
        key = (_receiver_type(node), text(node.child_by_field_name("name")))  # type: ignore[arg-type]
        package.methods[key] = Decl(node, path, imports)
    elif node.type in ("const_declaration", "var_declaration"):
        for spec in find_all(node, "const_spec", "var_spec"):
            for name in spec.children_by_field_name("name"):
                package.values[text(name)] = Decl(spec, path, imports)
    elif node.type == "type_declaration":
        for spec in find_all(node, "type_spec", "type_alias"):
            package.types.add(text(spec.child_by_field_name("name")))  # type: ignore[arg-type]


def find_all(node: Node, *types: str) -> list[Node]:
    """`node` and every node below it whose type is one of `types`, in source order."""
    found = [node] if node.type in types else []
    for child in node.children:
        found.extend(find_all(child, *types))
    return found
