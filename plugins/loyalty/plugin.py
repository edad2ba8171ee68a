"""Manifest of the loyalty plugin. Its body lands with its own issue; the shell is discoverable now."""

from typing import Any

MANIFEST: dict[str, Any] = {
    "id": "loyalty",
    "name": "loyalty".capitalize(),
    "version": "0.1.0",
    "requires_core": ">=0.1",
}
