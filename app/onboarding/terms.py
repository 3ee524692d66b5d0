"""The data-sharing terms the owner accepts; the exact version and text hash are kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

TERMS_VERSION = "2026-11-01"

# One paragraph per list item; {tenant}, {device} and {manufacturer} are filled in.
TERMS_TEMPLATE = (
    "You allow {tenant} to connect to your {device} from {manufacturer} and to read "
    "its data: energy measured, state of charge or production, and status.",
    "{tenant} may send commands that you set up yourself, such as smart charging "
    "schedules. It never does so without a setting you chose.",
    "Your data is used only to provide the energy services you asked for. It is not "
    "sold, and it is shared with nobody else without your consent.",
    "You can withdraw this consent at any moment by disconnecting the device. "
    "{tenant} then stops reading it and deletes the access it was given.",
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
    """The terms as the owner reads them for this device."""
    values = {"tenant": tenant, "device": device, "manufacturer": manufacturer}
    return Terms(TERMS_VERSION, tuple(p.format(**values) for p in TERMS_TEMPLATE))
