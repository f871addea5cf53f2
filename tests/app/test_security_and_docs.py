"""Security headers, no CORS, health probes, and OpenAPI docs served from vendored assets (no CDN)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

import contract

pytestmark = pytest.mark.xdist_group("app")


@pytest.mark.parametrize("path", ["/", "/api/predictions", "/static/app.css", contract.HEALTH_PATH, "/docs"])
def test_every_response_carries_security_headers(api: TestClient, path: str) -> None:
    headers = api.get(path).headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_cross_origin_callers_get_no_cors_permission(api: TestClient) -> None:
    origin = {"origin": "https://evil.example"}
    preflight = api.options(
        "/api/predictions", headers={**origin, "access-control-request-method": "POST"}
    )
    simple = api.get("/api/predictions", headers=origin)
    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers


def test_liveness_is_cheap_and_readiness_checks_model_and_store(api: TestClient) -> None:
    assert api.get(contract.HEALTH_PATH).json() == {"status": "ok"}
    ready = api.get(contract.READY_PATH)
    assert ready.status_code == 200
    assert ready.json()["checks"]["model"] == "ok" and ready.json()["checks"]["store"] == "ok"


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_openapi_describes_the_request_schema_and_error_shape(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    post = spec["paths"]["/api/predictions"]["post"]
    schema = _resolve(spec, post["requestBody"]["content"]["application/json"]["schema"])
    assert {"make", "curb_weight"} <= set(schema["required"]) and "horsepower" in schema["properties"]
    assert {"201", "413", "415", "422", "503"} <= set(post["responses"])
    assert {"limit", "make"} <= {p["name"] for p in spec["paths"]["/api/predictions"]["get"]["parameters"]}


def test_openapi_declares_the_error_body_the_app_sends_and_the_readiness_503(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path != contract.READY_PATH:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "503" in spec["paths"][contract.READY_PATH]["get"]["responses"]
    body = api.get("/api/predictions", params={"limit": 0}).json()
    assert set(body) == {"detail", "errors"} and set(body["errors"][0]) == {"field", "reason"}


def test_docs_page_uses_only_vendored_assets(api: TestClient) -> None:
    html = api.get("/docs").text
    assets = re.findall(r'(?:src="|<link [^>]*href=")([^"]+)"', html)  # scripts, stylesheets, icon
    assert assets and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        assert api.get(asset).status_code == 200
    assert api.get("/static/vendor/swagger-ui/LICENSE").status_code == 200
    assert re.findall(r'<a href="([^"]+)"', html)[0] == "/"  # and a way back to the app
