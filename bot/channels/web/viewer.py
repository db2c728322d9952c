"""Who is looking: the signed-in contact and what they may see (spec §6), decided on the
server for every page and download from the registry as it is now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.questions.scope import Scope
from kernel.answers import Area
from store.models import Contact, Role


@dataclass(frozen=True)
class Viewer:
    contact_id: int
    email: str
    name: str
    role: str
    scope: Scope

    @classmethod
    def of(cls, session: Session, contact: Contact) -> Viewer:
        return cls(contact.id, contact.email, contact.name, contact.role,
                   Scope.for_contact(session, contact))

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    def may_view(self, marac: str) -> bool:
        return self.scope.may_view(marac)

    def visible(self, registry: RegistrySnapshot, area: Area | None) -> list[MaracEntry]:
        return self.scope.visible(registry, area)

    def contact(self, session: Session) -> Contact:
        found = session.get(Contact, self.contact_id)
        assert found is not None  # looked up in this request's session a moment ago
        return found
