"""The "Record a meeting" form in Slack (issue 16): ``/marac``, the button, the modal.

Slack gives a modal's trigger 3 seconds and answers a submission in the modal itself, so these
listeners work inside the request, unlike messages (stored, then answered by the worker):

- ``/marac`` (or ``/marac record``) and the "Record a meeting" button open the modal
  (``views.open``) with the person's own Maracs (an admin's: every one).
- Choosing a Marac and a date already recorded fills the boxes in (``views.update``), so one
  figure can be changed and sent as an amendment; a Scottish Marac relabels the boxes.
- On submit, the entry is checked exactly as a file row (handlers/form_entry.py). A finding a
  box can show (a negative number, a future date, repeats over cases) goes back as
  ``response_action: errors`` beside that box, and nothing is lost; otherwise the submission
  is stored in the inbox like any message, the modal closes, and the worker records it and
  answers in the person's DM (Confirm / Keep for a held change).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.channels.slack import form_view
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.send import web_client
from bot.settings import Settings
from handlers import form_entry
from kernel import wording
from kernel.entry import MeetingEntry
from store.db import Store
from store.queue import enqueue_inbound
from store.types import utcnow

logger = logging.getLogger(__name__)

COMMAND = "/marac"
Ack = Callable[..., Awaitable[Any]]


class SlackForms:
    """The listeners, registered on the Bolt app that serves events (HTTP and Socket Mode)."""

    def __init__(self, settings: Settings, store: Store, on_stored: Callable[[], None]) -> None:
        self.settings, self.store, self.on_stored = settings, store, on_stored
        self._directory: SlackDirectory | None = None

    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(self._on_command)
        app.action(form_view.OPEN_ACTION)(self._on_open)
        app.action(form_view.MARAC_ACTION)(self._on_change)
        app.action(form_view.DATE_ACTION)(self._on_change)
        app.view(form_view.CALLBACK_ID)(self._on_submit)
        app.event("app_home_opened")(self._on_home)

    async def _on_home(self, event: dict[str, Any], client: Any) -> None:
        """App Home: the "Record a meeting" button (published each time; it costs one call)."""
        if event.get("tab") not in (None, "home") or not isinstance(event.get("user"), str):
            return
        await _call(
            client.views_publish(user_id=event["user"], view=form_view.home_view()), "views.publish"
        )

    # -- opening -------------------------------------------------------------------------------

    async def _on_command(self, ack: Ack, body: dict[str, Any], client: Any) -> None:
        await ack()
        await self._open(client, str(body.get("trigger_id") or ""), str(body.get("user_id")))

    async def _on_open(self, ack: Ack, body: dict[str, Any], client: Any) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        await self._open(client, str(body.get("trigger_id") or ""), str(user or ""))

    async def _open(self, client: Any, trigger_id: str, user: str) -> None:
        choices = await asyncio.to_thread(self._choices, user)
        view = (
            form_view.form_view(choices)
            if choices
            else form_view.message_view(wording.FORM_NO_MARACS)
        )
        await _call(client.views_open(trigger_id=trigger_id, view=view), "views.open")

    # -- a Marac or date chosen: fill in a recorded meeting ---------------------------------

    async def _on_change(self, ack: Ack, body: dict[str, Any], client: Any) -> None:
        await ack()
        view = body.get("view") or {}
        user = str((body.get("user") or {}).get("id") or "")
        entry = form_view.to_entry(view)
        updated = await asyncio.to_thread(self._refilled, user, entry)
        await _call(
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=updated),
            "views.update",
        )

    def _refilled(self, user: str, entry: MeetingEntry) -> dict[str, Any]:
        """The form again, its labels in the chosen Marac's edition; a recorded meeting's
        figures filled in, else the figures typed so far."""
        sender = self._sender(user)
        day = entry.day
        with self.store.transaction() as session:
            choices = form_entry.form_choices(session, sender)
            allowed = any(c.name == entry.marac for c in choices)
            recorded = (
                form_entry.recorded_counts(session, entry.marac, day)
                if allowed and day is not None
                else None
            )
        if recorded is None:
            typed = {k: _as_int(v) for k, v in entry.counts.items()}
            return form_view.form_view(choices, marac=entry.marac, day=day, values=typed)
        return form_view.form_view(
            choices,
            marac=entry.marac,
            day=day,
            values=recorded,
            note=wording.form_prefilled_note(entry.marac, day),
        )

    # -- submitted ---------------------------------------------------------------------------

    async def _on_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        entry = form_view.to_entry(view)
        errors = await asyncio.to_thread(self._errors, user, entry)
        shown = form_view.errors_for(view, errors)
        if shown:
            await ack(response_action="errors", errors=shown)
            return
        key = f"slack-view:{user}:{view.get('id')}:{view.get('hash')}"
        await asyncio.to_thread(self._enqueue, json.dumps(body).encode("utf-8"), key)
        self.on_stored()
        await ack()

    def _errors(self, user: str, entry: MeetingEntry) -> dict[str, str]:
        sender = self._sender(user)
        today = utcnow().astimezone(self.settings.tz).date()
        with self.store.transaction() as session:
            checked = form_entry.check_entry(
                session, entry, sender=sender, channel="slack", settings=self.settings, today=today
            )
            return form_entry.field_errors(checked)

    def _enqueue(self, raw: bytes, key: str) -> None:
        with self.store.transaction() as session:
            enqueue_inbound(session, channel="slack", raw=raw, source_key=key, received_at=utcnow())

    # -- who -----------------------------------------------------------------------------------

    def _choices(self, user: str) -> list[form_entry.MaracChoice]:
        sender = self._sender(user)
        with self.store.transaction() as session:
            return form_entry.form_choices(session, sender)

    def _sender(self, user: str) -> str:
        if self._directory is None:
            self._directory = SlackDirectory(self.store, web_client(self.settings))
        return self._directory.sender_for(user)


async def _call(request: Awaitable[Any], method: str) -> None:
    """A views call; a refusal is logged (the person sees the form not open, or not refill),
    never a crash of the listener (Slack would show them a generic error instead)."""
    try:
        await request
    except SlackApiError as exc:
        logger.warning("Slack %s refused: %s", method, exc.response.get("error"))


def _as_int(value: str | int | None) -> int | None:
    if isinstance(value, int) or value is None:
        return value
    try:
        return int(value)
    except ValueError:
        return None
