"""The data-sharing terms the owner accepts; the exact version and text hash are kept.

What the connection reads and whether it may send commands come from the catalog (the
manufacturer's `reads` and `commands`): `scope_wording` says it, and the terms, the
consent overview and the manufacturer's step all show that same wording. The paragraphs
are translated: `terms_for` renders them in the current language, and the hash kept as
evidence is the hash of exactly that text, the one the owner read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from babel.lists import format_list
from flask_babel import get_locale, gettext

from app.catalog import Manufacturer
from app.identifiers import N_

TERMS_VERSION = "2026-12-04"

# %(tenant)s, %(device)s, %(manufacturer)s, %(data)s and %(commands)s are filled in.
READS = N_(
    "You allow %(tenant)s to connect to your %(device)s from %(manufacturer)s and to read "
    "its data: %(data)s."
)
SENDS = N_(
    "%(tenant)s may also send it commands: %(commands)s. It never does so without a "
    "setting you chose."
)
READS_ONLY = N_("%(tenant)s cannot send commands to your %(device)s: it only reads its data.")
USE = N_(
    "Your data is used only to provide the energy services you asked for. It is not "
    "sold, and it is shared with nobody else without your consent."
)
WITHDRAW = N_(
    "You can withdraw this consent at any moment by disconnecting the device. "
    "%(tenant)s then stops reading it and deletes the access it was given."
)


@dataclass(frozen=True)
class Terms:
    version: str
    paragraphs: tuple[str, ...]

    @property
    def scope(self) -> tuple[str, ...]:
        """What is read and whether commands are sent: the wording every consent page shows."""
        return self.paragraphs[:2]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _listed(labels: tuple[str, ...]) -> str:
    locale = get_locale()
    return format_list([gettext(label) for label in labels], locale=str(locale or "en"))


def scope_wording(tenant: str, device: str, manufacturer: Manufacturer) -> tuple[str, str]:
    """(what is read, whether commands are sent) for this device, in the current language."""
    values = {
        "tenant": tenant,
        "device": device,
        "manufacturer": manufacturer.name,
        "data": _listed(tuple(s.label for s in manufacturer.reads)),
        "commands": _listed(tuple(s.label for s in manufacturer.commands)),
    }
    commands = SENDS if manufacturer.commands else READS_ONLY
    return gettext(READS) % values, gettext(commands) % values


def terms_for(tenant: str, device: str, manufacturer: Manufacturer) -> Terms:
    """The terms as the owner reads them for this device, in the current language."""
    values = {"tenant": tenant}
    return Terms(
        TERMS_VERSION,
        (
            *scope_wording(tenant, device, manufacturer),
            gettext(USE) % values,
            gettext(WITHDRAW) % values,
        ),
    )
