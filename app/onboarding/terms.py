"""The data-sharing terms the owner accepts; the exact version and text hash are kept.

The paragraphs are translated: `terms_for` renders them in the current language, and the
hash kept as evidence is the hash of exactly that text, the one the owner read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask_babel import gettext

from app.identifiers import N_

TERMS_VERSION = "2026-11-01"

# One paragraph per list item; %(tenant)s, %(device)s and %(manufacturer)s are filled in.
TERMS_TEMPLATE = (
    N_(
        "You allow %(tenant)s to connect to your %(device)s from %(manufacturer)s and to read "
        "its data: energy measured, state of charge or production, and status."
    ),
    N_(
        "%(tenant)s may send commands that you set up yourself, such as smart charging "
        "schedules. It never does so without a setting you chose."
    ),
    N_(
        "Your data is used only to provide the energy services you asked for. It is not "
        "sold, and it is shared with nobody else without your consent."
    ),
    N_(
        "You can withdraw this consent at any moment by disconnecting the device. "
        "%(tenant)s then stops reading it and deletes the access it was given."
    ),
)


@dataclass(frozen=True)
class Terms:
    version: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def terms_for(tenant: str, device: str, manufacturer: str) -> Terms:
    """The terms as the owner reads them for this device, in the current language."""
    values = {"tenant": tenant, "device": device, "manufacturer": manufacturer}
    return Terms(TERMS_VERSION, tuple(gettext(p) % values for p in TERMS_TEMPLATE))
