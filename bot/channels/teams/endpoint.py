"""``POST /api/messages``: Teams activities from the Bot Connector, authenticated, then stored.

The Bot Framework signs each request with a JWT (audience: our app id), checked here by the
Agents SDK's validator. Without an app id, ``MARAC_TEAMS_ANONYMOUS=1`` lets unsigned requests in
for local testing; a request that does carry a token is still validated. Accepted activities are
stored in the inbox (keyed by activity id, so a redelivery is a no-op) and answered 202; the
worker does the rest and replies through the connector.

Whatever cannot be validated is refused with one log line and never a traceback: a token of any
other shape (no key id, ``alg: none``, HS256, not a JWT at all), from an issuer other than the
Bot Framework or our tenant, or issued for another ``serviceUrl`` than the activity's, is 401;
a body that is not an activity the worker can read (not JSON, not an object, fields of the
wrong type, no conversation) is 400.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from jwt import PyJWTError
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator

from bot.channels.teams.inbound import held_action, reference_of
from bot.settings import Settings
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow

logger = logging.getLogger(__name__)

# Activities worth storing: messages (and card button presses, which are messages), and
# conversation updates, which carry the conversation reference of a new 1:1 chat.
STORED_TYPES = ("message", "conversationUpdate")


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    # The issuer is checked too (the SDK leaves that to an opt-in): the Bot Framework's own,
    # our tenant's, Microsoft's first-party ones. Without it, a token from any issuer whose
    # keys the SDK fetches, and with our app id as audience, would get in.
    return AgentAuthConfiguration(
        client_id=settings.teams_app_id, tenant_id=settings.teams_tenant,
        client_secret=settings.teams_app_password,
        anonymous_allowed=settings.teams_anonymous and not settings.teams_app_id,
        validate_issuer=True,
    )


@dataclass(frozen=True)
class _Credentials:
    """What a request's Authorization header showed: why it is refused, or the claims of
    its valid token (None: no token, let in anonymously)."""

    refusal: str | None = None
    claims: dict[str, Any] | None = None


class TeamsEndpoint:
    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.store, self.on_stored = store, on_stored
        self.auth = auth_configuration(settings)

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for ``POST /api/messages``."""
        credentials = await self._credentials(request.headers.getall("Authorization", []))
        if credentials.refusal is not None:
            return _unauthorised(credentials.refusal)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:  # aiohttp answers 413; the log still says why
            logger.warning("Teams request refused (413): body over %d bytes",
                           request.client_max_size)
            raise
        try:
            activity = to_activity(raw)
        except ValueError as exc:
            logger.warning("Teams request refused (400): %s", exc)
            return web.json_response({"error": "not an activity"}, status=400)
        if credentials.claims is not None and not _same_service(credentials.claims, activity):
            # Replies go to the activity's serviceUrl: a token minted for another one
            # must not choose where the bot sends what it knows (Bot Framework's rule).
            return _unauthorised("serviceUrl is not the one the token was issued for")
        if activity.type not in STORED_TYPES or (activity.type == "message" and not activity.id):
            return web.Response(status=200)
        key = f"teams:{activity.id or _update_key(raw)}"
        try:
            await asyncio.to_thread(self._store, key, raw)
        except Exception:
            # 500: the connector retries, and nothing was lost or half-recorded.
            logger.exception("could not store Teams activity %s", key)
            return web.json_response({"error": "try again"}, status=500)
        self.on_stored()
        return web.Response(status=202)

    async def _credentials(self, headers: list[str]) -> _Credentials:
        """Why the request's credentials are not enough, or the claims that let it in."""
        if not headers:
            return _Credentials(None if self.auth.ANONYMOUS_ALLOWED
                                else "no Authorization header")
        if len(headers) > 1:
            return _Credentials(f"{len(headers)} Authorization headers")
        scheme, _, token = headers[0].partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _Credentials("not a bearer token")
        if not token.isascii():  # a JWT is base64url; PyJWT raises UnicodeError on the rest
            return _Credentials("token is not ASCII")
        problem = token_header_problem(token)
        if problem is not None:
            return _Credentials(problem)
        try:
            identity = await JwtTokenValidator(self.auth).validate_token(token)
        except (PyJWTError, ValueError) as exc:
            return _Credentials(f"token not valid ({type(exc).__name__})")
        except (KeyError, TypeError, AttributeError) as exc:
            # The SDK reads some claims unguarded: a shape it did not expect is a token it
            # could not validate, so a refusal like any other.
            return _Credentials(f"token not readable ({type(exc).__name__})")
        return _Credentials(claims=dict(identity.claims))

    def _store(self, key: str, raw: bytes) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="teams", raw=raw, source_key=key,
                            received_at=utcnow())


def _unauthorised(why: str) -> web.Response:
    logger.warning("Teams request refused (401): %s", why)
    return web.json_response({"error": "unauthorised"}, status=401)


def _same_service(claims: dict[str, Any], activity: Activity) -> bool:
    """Whether the token was issued for the service the activity names as its own: the
    ``serviceurl`` claim equals the activity's ``serviceUrl``, as the Bot Framework's own
    SDKs require (a token without the claim names no service, so none)."""
    claimed = claims.get("serviceurl")
    return isinstance(claimed, str) and bool(claimed) and claimed == activity.service_url


def _update_key(raw: bytes) -> str:
    """Conversation updates may come without an id: key them by their content instead."""
    return "update:" + hashlib.sha256(raw).hexdigest()



def token_header_problem(token: str) -> str | None:
    """What rules a token out before any key is fetched, or None.

    The Bot Framework signs with RS256 and names its key (``kid``); the SDK's validator reads
    ``kid`` unguarded (a KeyError, so a 500, for ``alg: none``, HS256 or a token without one).
    """
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError as exc:
        return f"not a JWT ({type(exc).__name__})"
    if header.get("alg") != "RS256":
        return f"algorithm {repr(header.get('alg'))[:40]}, not RS256"
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        return "no key id (kid)"
    return None


_VALIDATING: ContextVar[bool] = ContextVar("teams_validating", default=False)


class _QuietWhileValidating(logging.Filter):
    """The SDK logs every activity it cannot validate as an error, with a traceback; when the
    endpoint validates a sender's body, that is the sender's fault: one warning (ours) is enough.
    A context variable, so only the endpoint's own validation is quieted (not the worker's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _VALIDATING.get()


logging.getLogger("microsoft_agents.activity.activity").addFilter(_QuietWhileValidating())


def to_activity(raw: bytes) -> Activity:
    """The activity a request carries, if the worker can read it; else ``ValueError``."""
    token = _VALIDATING.set(True)
    try:
        activity = Activity.model_validate_json(raw)
        if activity.type in STORED_TYPES:
            # What the worker reads first (inbound.py): refused here, not failed there.
            reference_of(activity)
            held_action(activity)
    except ValueError as exc:  # pydantic's ValidationError: not JSON, or not an activity
        raise ValueError(_first_error(exc)) from None
    except Exception as exc:
        # The SDK's own checks raise a bare Exception (a channel id that contradicts its
        # product-info entity): still a body we cannot take, not our failure.
        raise ValueError(f"not an activity ({type(exc).__name__})") from None
    finally:
        _VALIDATING.reset(token)
    if activity.type in STORED_TYPES and not activity.conversation.id:
        raise ValueError(f"{activity.type} without a conversation id")
    return activity


def _first_error(exc: ValueError) -> str:
    """One line for the log: where the first problem is, never the sender's text."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)[:200]
    first = errors(include_input=False, include_url=False)[:1]
    if not first:
        return "not an activity"
    where = ".".join(str(part) for part in first[0].get("loc", ())) or "body"
    return f"not an activity: {where}: {first[0].get('msg', '')}"[:200]
