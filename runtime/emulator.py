"""Local emulator settings: the one place that decides whether an endpoint is a loopback emulator, and the
key the Cosmos DB emulator accepts. Anything else gets Entra ID credentials and verified TLS."""

from __future__ import annotations

from urllib.parse import urlparse

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# The key the Cosmos DB emulator accepts (it checks no signatures): public, and only ever sent to loopback.
COSMOS_EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def is_loopback(url: str) -> bool:
    """True only for an endpoint on this machine: the one case where an emulator key and unverified TLS are OK."""
    return (urlparse(url).hostname or "") in LOOPBACK_HOSTS
