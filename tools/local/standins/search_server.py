"""Azure AI Search stand-in: the REST subset azure-search-documents uses (create/update/get an index, index
documents, count, look up, search with filter/top/select and vector queries), over SQLite.

Keyword search is SQLite FTS5 with bm25 over the index's searchable fields; vector search is exact cosine
similarity; a hybrid query fuses the two rankings with reciprocal rank fusion (k = 60), as the service does.
Filters are OData ($filter syntax: eq ne gt ge lt le, and or not, parentheses, null) on filterable fields only,
translated to SQL with parameters. Like the service, it refuses documents with unknown fields or vectors of the
wrong width, filters on fields that are not filterable, and any request without a bearer token or with a key.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.stand_in_token import token_for

SEARCH_SCOPE = "https://search.azure.com/.default"
RRF_K = 60
KEYWORD_CANDIDATES = 50


class SearchRequestError(ValueError):
    pass


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "", "message": message}}, status_code=status)


# --- OData $filter -> SQL ---------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>\(|\))|(?P<word>[A-Za-z_][\w]*))")
_COMPARE = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            raise SearchRequestError(f"Invalid expression: syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class _FilterParser:
    def __init__(self, text: str, filterable: set[str]) -> None:
        self.tokens, self.at, self.filterable, self.params = _tokens(text), 0, filterable, []  # type: ignore[var-annotated]

    def parse(self) -> str:
        sql = self._or()
        if self.at != len(self.tokens):
            raise SearchRequestError(f"Invalid expression: unexpected '{self.tokens[self.at][1]}'.")
        return sql

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise SearchRequestError("Invalid expression: the filter ends too early.")
        self.at += 1
        return token

    def _or(self) -> str:
        parts = [self._and()]
        while self._peek() == ("word", "or"):
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._unary()]
        while self._peek() == ("word", "and"):
            self._take()
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _unary(self) -> str:
        if self._peek() == ("word", "not"):
            self._take()
            return f"NOT ({self._unary()})"
        if self._peek() == ("op", "("):
            self._take()
            inner = self._or()
            if self._take() != ("op", ")"):
                raise SearchRequestError("Invalid expression: ')' expected.")
            return inner
        return self._comparison()

    def _comparison(self) -> str:
        kind, name = self._take()
        if kind != "word":
            raise SearchRequestError(f"Invalid expression: a field name was expected, got '{name}'.")
        if name not in self.filterable:
            raise SearchRequestError(f"Invalid expression: '{name}' is not a filterable field. Only filterable "
                                     "fields can be used in filter expressions.")
        op_kind, op = self._take()
        if op_kind != "word" or op not in _COMPARE:
            raise SearchRequestError(f"Invalid expression: comparison operator expected after '{name}'.")
        value_kind, value = self._take()
        column = f'"{name}"'
        if value_kind == "word" and value == "null":
            return f"{column} IS {'NOT ' if op == 'ne' else ''}NULL"
        if value_kind == "str":
            self.params.append(value[1:-1].replace("''", "'"))
        elif value_kind == "num":
            self.params.append(float(value))
        elif value_kind == "word" and value in ("true", "false"):
            self.params.append(1 if value == "true" else 0)
        else:
            raise SearchRequestError(f"Invalid expression: a literal was expected after '{name} {op}'.")
        return f"{column} {_COMPARE[op]} ?"


# --- one index ----------------------------------------------------------------------------------------------
@dataclass
class StandInIndex:
    definition: dict[str, Any]
    db: sqlite3.Connection = field(init=False)
    vectors: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fields = self.definition["fields"]
        self.key = next(f["name"] for f in fields if f.get("key"))
        self.vector_fields = {f["name"]: int(f["dimensions"]) for f in fields if f.get("dimensions")}
        self.plain = [f["name"] for f in fields if f["name"] not in self.vector_fields]
        self.searchable = [f["name"] for f in fields if f.get("searchable") and f["name"] not in self.vector_fields]
        self.filterable = {f["name"] for f in fields if f.get("filterable") or f.get("key")}
        self.hidden = {f["name"] for f in fields if f.get("retrievable") is False}
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        columns = ", ".join(f'"{n}"' for n in self.plain)
        self.db.execute(f"CREATE TABLE docs (body TEXT NOT NULL, {columns}, PRIMARY KEY (\"{self.key}\"))")
        text_columns = ", ".join(f'"{n}"' for n in self.searchable) or '"_none"'
        self.db.execute(f"CREATE VIRTUAL TABLE fts USING fts5(doc_key UNINDEXED, {text_columns})")
        self.vectors = {name: {} for name in self.vector_fields}

    def _check(self, doc: dict[str, Any]) -> None:
        known = set(self.plain) | set(self.vector_fields)
        unknown = [k for k in doc if k not in known and k != "@search.action"]
        if unknown:
            raise SearchRequestError(f"The request is invalid. Details: The property '{unknown[0]}' does not exist "
                                     "on type 'search.documentFields'.")
        for name, width in self.vector_fields.items():
            vector = doc.get(name)
            if vector is not None and len(vector) != width:
                raise SearchRequestError(f"The vector field '{name}' must have dimension {width}; got {len(vector)}.")

    def write(self, action: str, doc: dict[str, Any]) -> int:
        self._check(doc)
        key = str(doc[self.key])
        row = self.db.execute(f"SELECT body FROM docs WHERE \"{self.key}\" = ?", (key,)).fetchone()
        if action == "delete":
            self.db.execute(f'DELETE FROM docs WHERE "{self.key}" = ?', (key,))
            self.db.execute("DELETE FROM fts WHERE doc_key = ?", (key,))
            for store in self.vectors.values():
                store.pop(key, None)
            return 200
        if action == "merge" and row is None:
            raise KeyError(key)
        merged = {**(json.loads(row[0]) if row and action in ("merge", "mergeOrUpload") else {}), **doc}
        merged.pop("@search.action", None)
        stored = {k: v for k, v in merged.items() if k not in self.vector_fields}
        values = [json.dumps(stored)] + [stored.get(n) for n in self.plain]
        marks = ", ".join("?" for _ in values)
        columns = ", ".join(f'"{n}"' for n in self.plain)
        self.db.execute(f"INSERT OR REPLACE INTO docs (body, {columns}) VALUES ({marks})", values)
        self.db.execute("DELETE FROM fts WHERE doc_key = ?", (key,))
        if self.searchable:
            cols = ", ".join(f'"{n}"' for n in self.searchable)
            self.db.execute(f"INSERT INTO fts (doc_key, {cols}) VALUES (?, {', '.join('?' for _ in self.searchable)})",
                            [key] + [str(stored.get(n) or "") for n in self.searchable])
        for name in self.vector_fields:
            if merged.get(name) is not None:
                vector = np.asarray(merged[name], dtype=np.float32)
                self.vectors[name][key] = vector / (np.linalg.norm(vector) or 1.0)
        return 201 if row is None else 200

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute(f'SELECT body FROM docs WHERE "{self.key}" = ?', (key,)).fetchone()
        return None if row is None else self._shown(json.loads(row[0]), None)

    def _shown(self, doc: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k not in self.hidden and (select is None or k in select)}

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        where, params = "1", []  # type: ignore[var-annotated]
        if body.get("filter"):
            parser = _FilterParser(body["filter"], self.filterable)
            where, params = parser.parse(), parser.params
        allowed = {key for (key,) in self.db.execute(f'SELECT "{self.key}" FROM docs WHERE {where}', params)}
        top, skip = int(body.get("top") or 50), int(body.get("skip") or 0)
        rankings: list[list[tuple[str, float]]] = []
        words = re.findall(r"[A-Za-z0-9]+", (body.get("search") or "").lower())
        if words and self.searchable:
            match = " OR ".join(f'"{w}"' for w in words)
            rows = self.db.execute("SELECT doc_key, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts)",
                                   (match,)).fetchall()
            rankings.append([(k, -s) for k, s in rows if k in allowed][:KEYWORD_CANDIDATES])
        for query in body.get("vectorQueries") or []:
            rankings.append(self._vector_ranking(query, allowed))
        if not rankings:  # '*' or no query: every matching document, in key order
            rankings.append([(k, 1.0) for k in sorted(allowed)])
        if len(rankings) == 1:
            scored = rankings[0]
        else:
            fused: dict[str, float] = {}
            for ranking in rankings:
                for rank, (key, _) in enumerate(ranking, start=1):
                    fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            scored = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        select = [s.strip() for s in body["select"].split(",")] if body.get("select") else None
        hits = []
        for key, score in scored[skip:skip + top]:
            doc = json.loads(self.db.execute(f'SELECT body FROM docs WHERE "{self.key}" = ?', (key,)).fetchone()[0])
            hits.append({"@search.score": score, **self._shown(doc, select)})
        answer: dict[str, Any] = {"value": hits}
        if body.get("count"):
            answer["@odata.count"] = len({k for ranking in rankings for k, _ in ranking})
        return answer

    def _vector_ranking(self, query: dict[str, Any], allowed: set[str]) -> list[tuple[str, float]]:
        name = query.get("fields", "")
        if query.get("kind", "vector") != "vector" or name not in self.vector_fields:
            raise SearchRequestError(f"The field '{name}' is not a vector field of this index, or the query kind "
                                     f"'{query.get('kind')}' is not supported by this stand-in.")
        vector = np.asarray(query["vector"], dtype=np.float32)
        if vector.shape[0] != self.vector_fields[name]:
            raise SearchRequestError(f"The vector query's dimensions ({vector.shape[0]}) do not match the field's "
                                     f"({self.vector_fields[name]}).")
        vector = vector / (np.linalg.norm(vector) or 1.0)
        scores = [(key, float(stored @ vector)) for key, stored in self.vectors[name].items() if key in allowed]
        scores.sort(key=lambda item: (-item[1], item[0]))
        return scores[:int(query.get("k") or query.get("kNearestNeighborsCount") or 50)]


# --- the HTTP surface ---------------------------------------------------------------------------------------
_INDEX_PATH = r"/indexes(?:\('(?P<a>[^']+)'\)|/(?P<b>[A-Za-z0-9_-]+))"


class SearchStandIn:
    """The stand-in's state and ASGI app. `requests` records each call's auth headers (for the tests)."""

    def __init__(self) -> None:
        self.indexes: dict[str, StandInIndex] = {}
        self.requests: list[dict[str, Any]] = []
        self.seconds_serving = 0.0  # time spent answering (a benchmark subtracts it)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "PUT", "POST", "DELETE"])])

    async def _dispatch(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            return await self._answer(request)
        finally:
            self.seconds_serving += time.perf_counter() - started

    async def _answer(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        self.requests.append({"path": request.url.path, "authorization": auth,
                              "api_key": request.headers.get("api-key")})
        if request.headers.get("api-key") is not None:
            return _error(401, "API keys are refused: like the deployed service (local auth off), this stand-in "
                               "takes Entra tokens only.")
        if auth != f"Bearer {token_for(SEARCH_SCOPE)}":
            return _error(401, "Authorization: Bearer <Entra token for https://search.azure.com> is required.")
        path = request.url.path
        match = re.fullmatch(_INDEX_PATH + r"(?P<rest>/.*)?", path)
        if not match:
            return _error(404, f"No route for {request.method} {path} in this stand-in.")
        name, rest = match["a"] or match["b"], match["rest"] or ""
        try:
            with self._lock:
                return await self._route(request, name, rest)
        except SearchRequestError as exc:
            return _error(400, str(exc))

    async def _route(self, request: Request, name: str, rest: str) -> Response:
        index = self.indexes.get(name)
        if rest == "" and request.method == "PUT":
            return await self._put_index(request, name, index)
        if index is None:
            return _error(404, f"No index with the name '{name}' was found in the service.")
        if rest == "" and request.method == "GET":
            return JSONResponse(index.definition)
        if rest == "" and request.method == "DELETE":
            del self.indexes[name]
            return Response(status_code=204)
        if rest == "/docs/search.index" and request.method == "POST":
            return await self._index_documents(request, index)
        if rest == "/docs/search.post.search" and request.method == "POST":
            return JSONResponse(index.search(await request.json()))
        if rest == "/docs/$count" and request.method == "GET":
            return Response(str(index.count()), media_type="text/plain")
        lookup = re.fullmatch(r"/docs(?:\('(?P<a>[^']+)'\)|/(?P<b>[^/]+))", rest)
        if lookup and request.method == "GET":
            doc = index.get(lookup["a"] or lookup["b"])
            return JSONResponse(doc) if doc is not None else _error(404, "Document not found.")
        return _error(404, f"No route for {request.method} {rest} in this stand-in.")

    async def _put_index(self, request: Request, name: str, index: StandInIndex | None) -> Response:
        """Create or update an index; changed fields rebuild it, keeping the documents' values of kept fields."""
        definition = await request.json()
        fields_now = index.definition["fields"] if index else None
        if index is None or fields_now != definition["fields"]:
            kept = [] if index is None else [json.loads(body) for (body,) in
                                             index.db.execute("SELECT body FROM docs")]
            self.indexes[name] = StandInIndex(definition)
            for doc in kept:
                self.indexes[name].write("upload", {k: v for k, v in doc.items() if k in
                                                    {f["name"] for f in definition["fields"]}})
        else:
            index.definition = definition
        return JSONResponse({**definition, "@odata.etag": '"1"'}, status_code=201 if index is None else 200)

    @staticmethod
    async def _index_documents(request: Request, index: StandInIndex) -> Response:
        """A batch of upload/merge/delete actions; 207 when any of them failed."""
        results = []
        for doc in (await request.json())["value"]:
            action = doc.get("@search.action", "upload")
            try:
                status = index.write(action, doc)
                results.append({"key": str(doc[index.key]), "status": True, "errorMessage": None,
                                "statusCode": status})
            except KeyError:
                results.append({"key": str(doc[index.key]), "status": False, "statusCode": 404,
                                "errorMessage": "Document not found."})
        return JSONResponse({"value": results}, status_code=200 if all(r["status"] for r in results) else 207)
