"""Cross-site request forgery protection for the HTML form (POST /).

Two checks, both required: the browser's own word on where the request came from (Sec-Fetch-Site, and
Origin when it names one), and a double-submit token: a random value in a SameSite=Strict, HttpOnly
cookie that the form repeats in a hidden field. Another site can neither read the cookie nor make the
browser send it, so it cannot produce a matching pair. No server-side state, so any worker can check it.
The JSON API needs none of this: it accepts only application/json, which a cross-site form cannot send
and a cross-site script may not send without CORS permission, which the app never grants.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

COOKIE = "carprice_csrf"
FIELD = "csrf_token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SAME_SITE_FETCH = {"same-origin", "none"}  # "none": typed in the address bar, a bookmark


def token_for(request: Request) -> str:
    """The browser's token if it has a well-formed one, else a new one (set by `remember`)."""
    current = request.cookies.get(COOKIE, "")
    return current if _TOKEN.match(current) else secrets.token_urlsafe(32)


def remember(request: Request, response: Response, token: str) -> None:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def rejection(request: Request, form: dict[str, str]) -> str | None:
    """Why this form POST must be refused (None: it comes from our own page)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _SAME_SITE_FETCH:
        return "the form was sent from another site"
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        return "the form was sent from another site"
    cookie, sent = request.cookies.get(COOKIE, ""), form.get(FIELD, "")
    if not (_TOKEN.match(cookie) and hmac.compare_digest(cookie, sent)):
        return "the form has expired or did not come from this page"
    return None
