"""FAKE Azure (Resource Manager, Microsoft Graph, the blob data plane) at the SDK's HTTP transport, for the
bootstrap scenario. The real SDK clients run; no request leaves this process. Documented rules it encodes:

- Resource provider registration is asynchronous: POST .../register moves NotRegistered to Registering, and
  the provider reports Registered only some polls later (Learn: azure-resource-manager/management/
  resource-providers-and-types, "Register resource provider").
- Registering Microsoft.DevOpsInfrastructure creates the DevOpsInfrastructure service principal in the
  tenant; before that a Graph lookup finds nothing (Learn: managed-devops-pools/configure-networking).
- A storage account with shared keys off admits blob requests with Entra ID only, and only for a principal
  holding a data role; a new role assignment reaches the data plane some polls later (Learn:
  role-based-access-control/troubleshooting, "up to 10 minutes"). Until then: 403
  AuthorizationPermissionMismatch.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse
from azure.core.rest._requests_basic import RestRequestsTransportResponse

CALLER = "11111111-2222-4333-8444-555555555555"
POOL_PRINCIPAL = "66666666-7777-4888-8999-aaaaaaaaaaaa"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


class FakeCredential:
    """A signed-in caller: a JWT-shaped token whose `oid` claim is CALLER (only the fake ever sees it)."""

    token = "e30." + base64.urlsafe_b64encode(json.dumps({"oid": CALLER}).encode()).decode().rstrip("=") + ".sig"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, 4_102_444_800)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.token, 4_102_444_800)


@dataclass
class FakeAzure(HttpTransport):
    """An empty subscription: providers NotRegistered, no state account, no role assignments."""

    polls_until_registered: int = 3
    polls_until_role_propagates: int = 2
    providers: dict[str, str] = field(default_factory=dict)
    provider_polls: dict[str, int] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    blob_polls_since_grant: int = 0
    log: list[str] = field(default_factory=list)

    def send(self, request: Any, **kwargs: Any) -> Any:
        url = urlparse(request.url)
        path = unquote(url.path)
        raw = request.content if hasattr(request, "content") else request.data
        body = json.loads(raw) if raw else None
        self.log.append(f"{request.method} {url.netloc}{path}")
        if url.netloc == "graph.microsoft.com":
            return self._graph(request)
        if url.netloc.endswith(".blob.core.windows.net"):
            return self._blob(request)
        return self._arm(request, request.method, path, body)

    def _graph(self, request: Any) -> Any:
        created = self.providers.get("Microsoft.DevOpsInfrastructure") == "Registered"
        found = [{"id": POOL_PRINCIPAL, "displayName": "DevOpsInfrastructure"}] if created else []
        return self._response(request, 200, {"value": found})

    def _blob(self, request: Any) -> Any:
        granted = any(a["principalId"] == CALLER and a["roleDefinitionId"].endswith(BLOB_DATA_CONTRIBUTOR)
                      for a in self.role_assignments)
        if granted:
            self.blob_polls_since_grant += 1
        if not granted or self.blob_polls_since_grant <= self.polls_until_role_propagates:
            error = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>'
                     "<Message>This request is not authorized to perform this operation using this permission."
                     "</Message></Error>")
            code = {"x-ms-error-code": "AuthorizationPermissionMismatch"}
            return self._response(request, 403, error, "application/xml", code)
        listing = ('<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs></Blobs>'
                   "<NextMarker /></EnumerationResults>")
        return self._response(request, 200, listing, "application/xml")

    def _arm(self, request: Any, method: str, path: str, body: Any) -> Any:
        if match := re.fullmatch(r"/subscriptions/[^/]+/providers/([^/]+)(/register)?", path, re.IGNORECASE):
            namespace, register = match.groups()
            return self._response(request, 200, {"namespace": namespace,
                                                 "registrationState": self._provider_state(namespace, register)})
        if "/providers/Microsoft.Authorization/roleAssignments/" in path and method == "PUT":
            self.role_assignments.append(body["properties"])
            created = {**body["properties"], "provisioningState": "Succeeded"}
            self.resources[path.lower()] = {"id": path, "properties": created}
            return self._response(request, 200, self.resources[path.lower()])
        return self._resource(request, method, path, body)

    def _provider_state(self, namespace: str, register: str | None) -> str:
        """A resource provider's registration: Registering once asked, Registered after a few polls."""
        state = self.providers.setdefault(namespace, "NotRegistered")
        if register:
            self.providers[namespace] = "Registering"
            self.provider_polls[namespace] = 0
        elif state == "Registering":
            self.provider_polls[namespace] += 1
            if self.provider_polls[namespace] >= self.polls_until_registered:
                self.providers[namespace] = "Registered"
        return self.providers[namespace]

    def _resource(self, request: Any, method: str, path: str, body: Any) -> Any:
        """Any other ARM resource: kept as written (PUT, PATCH), read back (GET), checked for (HEAD)."""
        key = path.lower()
        if method == "HEAD":
            return self._response(request, 204 if key in self.resources else 404, None)
        if method in ("PUT", "PATCH"):
            current = self.resources.get(key, {})
            merged = {**current, **(body or {}), "id": path, "name": path.rsplit("/", 1)[-1]}
            if "/storageaccounts/" in key and "/blobservices" not in key:
                merged.setdefault("properties", {})["provisioningState"] = "Succeeded"
            self.resources[key] = merged
            return self._response(request, 200, merged)
        if method == "GET":
            if key in self.resources:
                return self._response(request, 200, self.resources[key])
            if key.endswith("/blobservices/default"):
                return self._response(request, 200, {"properties": {}})
            return self._response(request, 404, {"error": {"code": "ResourceNotFound", "message": f"{path} not found"}})
        return self._response(request, 404, {"error": {"code": "NotFound", "message": f"no fake for {method} {path}"}})

    @staticmethod
    def _response(request: Any, status: int, payload: Any, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Any:
        response = requests.Response()
        response.status_code = status
        text = payload if isinstance(payload, str) else ("" if payload is None else json.dumps(payload))
        response.raw = io.BytesIO(text.encode())
        response.headers["Content-Type"] = content_type
        response.headers.update(headers or {})
        response.url = request.url
        if hasattr(request, "content"):
            return RestRequestsTransportResponse(request=request, internal_response=response)
        return RequestsTransportResponse(request, response)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeAzure:
        return self

    def __exit__(self, *args: Any) -> None:
        pass
