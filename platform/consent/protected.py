"""The protected-person list, kept by admins: faces that are refused unless an
elevated, verified consent covers the job. Photos are reduced to embeddings."""
from __future__ import annotations

from django.utils.translation import gettext_noop

from accounts.permissions import is_admin
from audit.chain import atomic as audit_atomic
from audit.chain import record

from .identity import embed_photo
from .models import ProtectedPerson
from .services import ConsentError


def _require_admin(user):
    if not is_admin(user):
        raise ConsentError(gettext_noop("only an admin can change the protected-person list"), code="forbidden")


@audit_atomic()
def protect_person(*, name: str, photos: list[bytes], by, note: str = "") -> ProtectedPerson:
    _require_admin(by)
    if not name.strip() or not photos:
        raise ConsentError(gettext_noop("a protected person needs a name and at least one photo"))
    embeddings = [embed_photo(p) for p in photos]
    person = ProtectedPerson.objects.create(name=name.strip(), embeddings=embeddings, note=note, added_by=by)
    record("protected.added", actor=by, target=person, data={"name": person.name, "photos": len(photos),
                                                              "note": note})
    return person


@audit_atomic()
def unprotect_person(person: ProtectedPerson, *, by, note: str) -> ProtectedPerson:
    _require_admin(by)
    if not note.strip():
        raise ConsentError(gettext_noop("say why the person is removed from the list"), field="note")
    person.active = False
    person.save(update_fields=["active"])
    record("protected.removed", actor=by, target=person, data={"name": person.name, "note": note})
    return person
