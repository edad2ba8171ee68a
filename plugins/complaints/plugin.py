"""Manifest of the complaints plugin. Its body lands with its own issue; the shell is discoverable now."""

from typing import Any

MANIFEST: dict[str, Any] = {
    "id": "complaints",
    "name": "complaints".capitalize(),
    "version": "0.1.0",
    "requires_core": ">=0.1",
}
