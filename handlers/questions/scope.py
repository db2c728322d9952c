"""Who may ask about what (spec §6): coordinators and chairs about their own Maracs, managers
about their scope, admins (and the local operator) about everything. Anyone else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from handlers.questions.registry import MaracEntry, RegistrySnapshot
from kernel.answers import Area, ScopeInfo
from store.models import Contact, Role
from store.views import ContactSenderView

OPERATOR = "operator"


@dataclass(frozen=True)
class Scope:
    """The Maracs one asker may ask about."""

    role: str  # a store.models.Role value, or "operator" for the local command line
    everything: bool
    maracs: frozenset[str]  # the Maracs in scope when not everything
    own: frozenset[str]  # the Maracs the asker belongs to
    scopes: tuple[str, ...]  # a manager's regions / police force areas, as registered
    email: str | None = None

    @classmethod
    def operator(cls) -> Scope:
        return cls(OPERATOR, True, frozenset(), frozenset(), ("*",))

    @classmethod
    def for_contact(cls, session: Session, contact: Contact) -> Scope:
        view = ContactSenderView.load(session, contact)
        scopes = tuple(contact.scopes) if contact.role == Role.MANAGER.value else ()
        return cls(view.role, view.everything, view.in_scope, view.own, scopes, view.email)

    def may_view(self, marac: str) -> bool:
        return self.everything or marac in self.maracs

    def visible(self, registry: RegistrySnapshot, area: Area | None) -> list[MaracEntry]:
        """The Maracs of ``area`` (every Marac for None) this asker may ask about."""
        return [m for m in registry.in_area(area) if self.may_view(m.name)]

    def info(self) -> ScopeInfo:
        """How the scope is described in an answer or a refusal."""
        return ScopeInfo(self.role, self.everything, tuple(sorted(self.own)), self.scopes)


def scope_for(session: Session, asker: Contact | None, *, is_operator: bool) -> Scope | None:
    """The asker's scope; None for someone who may ask nothing (not registered)."""
    if is_operator:
        return Scope.operator()
    if asker is None:
        return None
    return Scope.for_contact(session, asker)
