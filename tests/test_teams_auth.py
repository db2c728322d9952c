"""``/api/messages`` with an app id: Bot Framework JWTs are validated by the Agents SDK.

A real RSA key signs the tokens; its public half is served as a JWKS document on loopback, and
the SDK's key cache is pointed at it for the Bot Framework issuer (the one thing redirected:
the SDK would otherwise fetch Microsoft's keys over the internet). Signature, audience and
expiry are checked by the SDK's own validator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.channels.teams.endpoint import TeamsEndpoint
from bot.settings import Settings
from store.db import Store
from store.queue import InboundItem
from tests.teams_fake_support import (
    SERVICE_URL,
    BotFrameworkKeys,
    FakeConnector,
    message_activity,
)

APP_ID = "00000000-0000-0000-0000-00000000a11d"
TENANT = "5f1a2b3c-0000-4000-8000-00000000beef"
OTHER_TENANT = "9e8d7c6b-0000-4000-8000-00000000cafe"
# Where the SDK fetches the keys for a token whose issuer is not the Bot Framework: our
# tenant's, pointed at the same loopback keys, so that such a token's signature verifies and
# only its issuer decides.
TENANT_KEYS = f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys"


@pytest.fixture
def keys() -> Iterator[BotFrameworkKeys]:
    """Signing keys, published on loopback and registered as the Bot Framework's (and our
    tenant's)."""
    with BotFrameworkKeys(APP_ID, also_for=(TENANT_KEYS,)) as made:
        yield made


def _statuses(db_store: Store, settings: Settings, requests: list[dict[str, str]]
              ) -> list[int]:
    """POST one activity per header set to a running endpoint; the statuses, in order."""
    with FakeConnector() as connector:
        activity = message_activity(connector, activity_id="act-1", aad_id="aad-x", text="hi")
    activity["serviceUrl"] = SERVICE_URL  # the fake connector is gone: only its name matters

    async def run() -> list[int]:
        endpoint = TeamsEndpoint(settings, db_store, lambda: None)
        app = web.Application()
        app.router.add_post("/api/messages", endpoint.handle)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            statuses = []
            for headers in requests:
                response = await client.post("/api/messages", json=activity, headers=headers)
                statuses.append(response.status)
            return statuses

    return asyncio.run(run())


def _stored(db_store: Store) -> int:
    with db_store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(InboundItem)) or 0)


def test_with_an_app_id_only_a_valid_bot_framework_token_gets_in(
    db_store: Store, keys: BotFrameworkKeys
) -> None:
    settings = Settings(teams_app_id=APP_ID, teams_app_password="secret",
                        teams_anonymous=True)  # ignored: an app id means tokens are required
    statuses = _statuses(db_store, settings, [
        {},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": f"Bearer {keys.token(aud='someone-else')}"},
        {"Authorization": f"Bearer {keys.token(expires_in=-3600)}"},
        {"Authorization": f"Bearer {keys.token()}"},
    ])
    assert statuses == [401, 401, 401, 401, 202]
    assert _stored(db_store) == 1


def test_anonymous_mode_lets_unsigned_requests_in_but_still_checks_a_token(
    db_store: Store, keys: BotFrameworkKeys
) -> None:
    settings = Settings(teams_anonymous=True)
    statuses = _statuses(db_store, settings, [
        {"Authorization": f"Bearer {keys.token(aud='someone-else')}"},
        {},
    ])
    assert statuses == [401, 202]
    assert _stored(db_store) == 1


def test_without_anonymous_mode_or_an_app_id_everything_is_refused(db_store: Store) -> None:
    assert _statuses(db_store, Settings(), [{}]) == [401]
    assert _stored(db_store) == 0


def _with_app(tenant: str | None = TENANT) -> Settings:
    return Settings(teams_app_id=APP_ID, teams_app_password="secret", teams_tenant=tenant)


def test_a_token_names_the_service_the_activity_comes_from(
    db_store: Store, keys: BotFrameworkKeys
) -> None:
    """Replies go to the activity's serviceUrl: a token issued for another one (or naming
    none) must not choose where they go."""
    statuses = _statuses(db_store, _with_app(), [
        {"Authorization": f"Bearer {keys.token(serviceurl='https://attacker.example/')}"},
        {"Authorization": f"Bearer {keys.token(serviceurl=SERVICE_URL.rstrip('/'))}"},
        {"Authorization": f"Bearer {keys.token(serviceurl='')}"},
        {"Authorization": f"Bearer {keys.token(serviceurl=None)}"},
        {"Authorization": f"Bearer {keys.token(without=('serviceurl',))}"},
        {"Authorization": f"Bearer {keys.token(serviceurl=SERVICE_URL)}"},
    ])
    assert statuses == [401, 401, 401, 401, 401, 202]
    assert _stored(db_store) == 1


def test_only_the_bot_framework_and_our_tenant_issue_tokens(
    db_store: Store, keys: BotFrameworkKeys
) -> None:
    """Every token here is signed with keys the SDK fetched and trusts, for our app id: only
    its issuer differs."""
    ours = f"https://login.microsoftonline.com/{TENANT}/v2.0"
    theirs = f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
    statuses = _statuses(db_store, _with_app(), [
        {"Authorization": f"Bearer {keys.token(iss='https://issuer.example')}"},
        {"Authorization": f"Bearer {keys.token(iss=theirs, tid=OTHER_TENANT)}"},
        {"Authorization": f"Bearer {keys.token(iss=ours, tid=TENANT)}"},
    ])
    assert statuses == [401, 401, 202]
    statuses = _statuses(db_store, _with_app(), [
        {"Authorization": f"Bearer {keys.token()}"},  # the Bot Framework's own issuer
    ])
    assert statuses == [202]
