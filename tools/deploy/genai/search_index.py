"""The `listings` index's deploy step and its batch fill from gold.

    python -m tools.deploy.genai.search_index create --search-endpoint https://<service>.search.windows.net
    python -m tools.deploy.genai.search_index fill-gold --search-endpoint ... --openai-endpoint ... --lake <root>

`create` creates the index or updates it in place from contract/listings_index.py (Search refuses changes an
index cannot take in place, e.g. a field's type: it then names the field, and the step fails with that reason).
`fill-gold` indexes every car of the gold table, by listing id `gold-<car_id>` (a re-run rewrites, never adds).
Credentials: the pipeline's federated identity (tools/deploy/credential.py), or the stand-ins' token for
loopback endpoints; never a key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
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
from contract.listings_index import index_definition

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_FLAGS = {"key": "key", "searchable": "searchable", "filterable": "filterable", "sortable": "sortable",
          "facetable": "facetable"}


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
    """The environment's search and OpenAI endpoints, read from its synthesized stacks (the search service's
    name, the OpenAI account's custom subdomain): the pipeline passes ENV, not URLs."""
    found: dict[str, str] = {}
    for stack in sorted((outdir / "stacks").glob(f"{environment}-*/cdk.tf.json")):
        resources = json.loads(stack.read_text()).get("resource", {})
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


def fill_from_gold(writer: Any, rows: Iterable[dict[str, Any]], progress: Any = print) -> int:
    from functions.listing_index import from_gold_row

    docs = [from_gold_row(row) for row in rows]
    written = 0
    for start in range(0, len(docs), 500):
        written += writer.upsert(docs[start:start + 500])
        progress(f"[search index] {written} of {len(docs)} gold listings indexed")
    return written


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
    if not args.search_endpoint:
        print(f"search index: no search endpoint: pass --search-endpoint, set {genai.SETTING_SEARCH_ENDPOINT}, or "
              "--env with a synthesized stack that has an azurerm_search_service", file=sys.stderr)
        return 2
    credential = credential_for(args.search_endpoint, args.openai_endpoint)
    if args.action == "create":
        index = create_or_update_index(args.search_endpoint, credential, args.ca_file)
        print(f"[search index] {index.name}: {len(index.fields)} fields, created or updated")
        return 0
    if not args.openai_endpoint or not args.lake:
        print("fill-gold: --openai-endpoint and --lake are required", file=sys.stderr)
        return 2
    from ml.carprice.prep import load_gold

    rows = load_gold(Path(args.lake) if "://" not in args.lake else args.lake).to_dict("records")
    writer = listing_writer(args.search_endpoint, args.openai_endpoint, args.embedding_deployment, credential,
                            args.ca_file)
    try:
        fill_from_gold(writer, rows)
    finally:
        writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
