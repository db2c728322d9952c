"""What every dashboard response carries: security headers; and the login form's CSRF token
(double submit: a random value in a cookie and in the form, signed, compared on POST)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.web.signin import Signer
from kernel.wording import web as words

logger = logging.getLogger(__name__)

CSRF_COOKIE = "marac_csrf"
_CSRF = "csrf"

HEADERS = {
    # No script at all, inline or not; styles only from our own /static.
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a sign-in link in a URL never leaks to another site
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",  # pages hold personal data: not kept by shared caches
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_dashboard(path: str) -> bool:
    """The dashboard's paths (the chat endpoints and /healthz keep their own headers)."""
    return not (path.startswith(("/slack/", "/api/")) or path == "/healthz")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The headers on every dashboard response, errors included; a fault in a page is logged
    with a reference and answered with a plain page, never a traceback."""
    if not is_dashboard(request.path):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects and errors carry the headers too
        exc.headers.update(HEADERS)
        raise
    except Exception:
        reference = secrets.token_hex(4)
        logger.exception("dashboard page %s failed (reference %s)", request.path, reference)
        response = web.Response(text=words.page_failed(reference), status=500)
    response.headers.update(HEADERS)
    return response


def is_secure(request: web.Request, web_url: str | None) -> bool:
    """Served over TLS: directly, or behind a proxy whose public address is https."""
    return request.secure or bool(web_url and web_url.startswith("https://"))


def csrf_pair(signer: Signer, request: web.Request) -> tuple[str, str]:
    """The form value and the cookie value for a login form (the cookie's own if present)."""
    token = signer.unsign(_CSRF, request.cookies.get(CSRF_COOKIE, "")) or secrets.token_urlsafe(
        24)
    signed = signer.sign(_CSRF, token)
    return signed, signed


def csrf_ok(signer: Signer, request: web.Request, form_value: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and cookie == form_value and signer.unsign(_CSRF, cookie) is not None
