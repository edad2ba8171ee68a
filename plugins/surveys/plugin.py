"""Manifest of the surveys plugin. Its body lands with its own issue; the shell is discoverable now."""

from typing import Any

MANIFEST: dict[str, Any] = {
    "id": "surveys",
    "name": "surveys".capitalize(),
    "version": "0.1.0",
    "requires_core": ">=0.1",
}
