"""The `listings` index's deploy step and its batch fill from gold.

    python -m tools.deploy.genai.search_index create --search-endpoint https://<service>.search.windows.net
    python -m tools.deploy.genai.search_index fill-gold --search-endpoint ... --openai-endpoint ... --lake <root>
    python -m tools.deploy.genai.search_index fill-gold --env dev   # endpoints and lake from the synth output

`create` creates the index or updates it in place from contract/listings_index.py (Search refuses changes an
index cannot take in place, e.g. a field's type: it then names the field, and the step fails with that reason).
`fill-gold` makes the index's gold listings equal the gold table: it creates or updates the index first (the ML
pipeline may run before the app pipeline ever has), upserts every car by listing id `gold-<car_id>`, then
deletes the gold listings the table no longer holds, so a re-run leaves the index as it found it. Stream
listings (`source` market) are never touched.
Credentials: the pipeline's federated identity (tools/deploy/credential.py), or the stand-ins' token for
loopback endpoints; never a key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from azure.search.documents.indexes import SearchIndexClient
from azure.search.documents.indexes.models import (
    HnswAlgorithmConfiguration,
    HnswParameters,
    SearchField,
    SearchIndex,
    VectorSearch,
    VectorSearchAlgorithmConfiguration,
    VectorSearchProfile,
)

from contract import genai
from contract.listings_index import KEY_FIELD, SOURCE_GOLD, index_definition

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
STORAGE_SCOPE = "https://storage.azure.com/.default"
PAGE = 1000  # Search's largest `top`
_FLAGS = {"key": "key", "searchable": "searchable", "filterable": "filterable", "sortable": "sortable",
          "facetable": "facetable"}


@dataclass(frozen=True)
class GoldFill:
    indexed: int
    deleted: int


def search_index_model(definition: dict[str, Any] | None = None) -> SearchIndex:
    """The contract's index as the SDK's model."""
    spec = definition or index_definition()
    fields = []
    for f in spec["fields"]:
        kwargs: dict[str, Any] = {flag: f[flag] for flag in _FLAGS if flag in f}
        if "dimensions" in f:
            kwargs.update(vector_search_dimensions=f["dimensions"], vector_search_profile_name=f["vectorSearchProfile"])
        fields.append(SearchField(name=f["name"], type=f["type"], hidden=not f.get("retrievable", True), **kwargs))
    algorithms: list[VectorSearchAlgorithmConfiguration] = [
        HnswAlgorithmConfiguration(name=a["name"], parameters=HnswParameters(
            metric=a["hnswParameters"]["metric"], m=a["hnswParameters"]["m"],
            ef_construction=a["hnswParameters"]["efConstruction"], ef_search=a["hnswParameters"]["efSearch"]))
        for a in spec["vectorSearch"]["algorithms"]
    ]
    profiles = [VectorSearchProfile(name=p["name"], algorithm_configuration_name=p["algorithm"])
                for p in spec["vectorSearch"]["profiles"]]
    return SearchIndex(name=spec["name"], fields=fields,
                       vector_search=VectorSearch(algorithms=algorithms, profiles=profiles))


def endpoints_from_synth(environment: str, outdir: Path) -> dict[str, str]:
    """The environment's search and OpenAI endpoints and its lake root, read from its synthesized stacks (the
    search service's name, the OpenAI account's custom subdomain, the data stack's hierarchical-namespace
    account): the pipeline passes ENV, not URLs."""
    found: dict[str, str] = {}
    for stack in sorted((outdir / "stacks").glob(f"{environment}-*/cdk.tf.json")):
        resources = json.loads(stack.read_text()).get("resource", {})
        if stack.parent.name == f"{environment}-data":
            for account in resources.get("azurerm_storage_account", {}).values():
                if account.get("is_hns_enabled") and "${" not in str(account.get("name", "${")):
                    found.setdefault("lake", f"abfss://{{layer}}@{account['name']}.dfs.core.windows.net")
        for service in resources.get("azurerm_search_service", {}).values():
            if "${" not in str(service.get("name", "${")):
                found.setdefault("search", f"https://{service['name']}.search.windows.net")
        for account in resources.get("azurerm_cognitive_account", {}).values():
            subdomain = str(account.get("custom_subdomain_name", "${"))
            if account.get("kind") == "OpenAI" and "${" not in subdomain:
                found.setdefault("openai", f"https://{subdomain}.openai.azure.com")
    return found


def _is_loopback(endpoint: str) -> bool:
    return (urlparse(endpoint).hostname or "") in LOOPBACK


def credential_for(*endpoints: str) -> Any:
    if all(_is_loopback(e) for e in endpoints if e):
        from runtime.stand_in_token import SyncStandInCredential

        return SyncStandInCredential()
    from tools.deploy.credential import azure_credential

    return azure_credential()


def _verify(endpoint: str, ca_file: str | None) -> str | bool:
    return ca_file if ca_file and _is_loopback(endpoint) else True


def create_or_update_index(endpoint: str, credential: Any, ca_file: str | None = None) -> SearchIndex:
    client = SearchIndexClient(endpoint, credential, connection_verify=_verify(endpoint, ca_file))
    try:
        return client.create_or_update_index(search_index_model())
    finally:
        client.close()


def listing_writer(search_endpoint: str, openai_endpoint: str, embedding_deployment: str, credential: Any,
                   ca_file: str | None = None) -> Any:
    from functions.listing_index import build_writer

    verify = _verify(search_endpoint, ca_file) if _is_loopback(openai_endpoint) else True
    return build_writer(search_endpoint, openai_endpoint, embedding_deployment, credential, verify)


def lake_storage_options(lake: str, credential: Any) -> dict[str, str]:
    """How delta-rs reads the lake: nothing for a folder; an Entra token of the caller for ADLS Gen2 (Storage
    Blob Data Reader on the gold container), never an account key. One token covers the read: it takes seconds."""
    if "://" not in lake:
        return {}
    return {"bearer_token": credential.get_token(STORAGE_SCOPE).token}


def indexed_gold_keys(search: Any) -> set[str]:
    """The keys of every gold listing in the index (pages of Search's largest `top`)."""
    keys: set[str] = set()
    while True:
        page = [d[KEY_FIELD] for d in search.search(search_text="*", filter=f"source eq '{SOURCE_GOLD}'",
                                                     select=[KEY_FIELD], top=PAGE, skip=len(keys))]
        keys.update(page)
        if len(page) < PAGE:
            return keys


def fill_from_gold(writer: Any, rows: Iterable[dict[str, Any]], progress: Any = print) -> GoldFill:
    """Upsert every gold car, then delete the gold listings no longer in the table (a re-run changes nothing)."""
    from functions.listing_index import from_gold_row

    docs = [from_gold_row(row) for row in rows]
    written = 0
    for start in range(0, len(docs), 500):
        written += writer.upsert(docs[start:start + 500])
        progress(f"[search index] {written} of {len(docs)} gold listings indexed")
    stale = sorted(indexed_gold_keys(writer.search) - {d[KEY_FIELD] for d in docs})
    for start in range(0, len(stale), 500):
        results = writer.search.delete_documents([{KEY_FIELD: key} for key in stale[start:start + 500]])
        failed = [r.key for r in results if not r.succeeded]
        if failed:
            raise RuntimeError(f"{len(failed)} stale gold listings not deleted: {', '.join(failed[:5])}")
    if stale:
        progress(f"[search index] {len(stale)} gold listings no longer in gold deleted")
    return GoldFill(written, len(stale))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="create/update the listings index, or fill it from gold")
    parser.add_argument("action", choices=("create", "fill-gold"))
    parser.add_argument("--search-endpoint", default=os.environ.get(genai.SETTING_SEARCH_ENDPOINT, ""))
    parser.add_argument("--openai-endpoint", default=os.environ.get(genai.SETTING_OPENAI_ENDPOINT, ""))
    parser.add_argument("--embedding-deployment", default=os.environ.get(genai.SETTING_OPENAI_EMBEDDING_DEPLOYMENT,
                                                                          genai.OPENAI_EMBEDDING_DEPLOYMENT))
    parser.add_argument("--lake", default=os.environ.get("CARPRICE_LAKE_ROOT", ""), help="the lake root (gold)")
    parser.add_argument("--ca-file", default=os.environ.get("CARPRICE_ASSISTANT_CA_FILE"))
    parser.add_argument("--env", help="read the endpoints from this environment's synthesized stacks")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args(argv)
    if args.env:
        synthesized = endpoints_from_synth(args.env, args.outdir)
        args.search_endpoint = args.search_endpoint or synthesized.get("search", "")
        args.openai_endpoint = args.openai_endpoint or synthesized.get("openai", "")
        args.lake = args.lake or synthesized.get("lake", "")
    if not args.search_endpoint:
        print(f"search index: no search endpoint: pass --search-endpoint, set {genai.SETTING_SEARCH_ENDPOINT}, or "
              "--env with a synthesized stack that has an azurerm_search_service", file=sys.stderr)
        return 2
    if args.action == "fill-gold" and (not args.openai_endpoint or not args.lake):
        print("fill-gold: --openai-endpoint and --lake are required (or --env with the genai and data stacks "
              "synthesized)", file=sys.stderr)
        return 2
    credential = credential_for(args.search_endpoint, args.openai_endpoint)
    index = create_or_update_index(args.search_endpoint, credential, args.ca_file)
    print(f"[search index] {index.name}: {len(index.fields)} fields, created or updated")
    if args.action == "create":
        return 0
    from ml.carprice.prep import load_gold

    lake = args.lake if "://" in args.lake else Path(args.lake)
    rows = load_gold(lake, lake_storage_options(args.lake, credential)).to_dict("records")
    writer = listing_writer(args.search_endpoint, args.openai_endpoint, args.embedding_deployment, credential,
                            args.ca_file)
    try:
        filled = fill_from_gold(writer, rows)
    finally:
        writer.close()
    print(f"[search index] gold: {filled.indexed} listings indexed, {filled.deleted} stale ones deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
