"""The Care campaigns plugin: manifest and hook implementations (thin: logic lives beside it)."""

from core import PluginManifest

manifest = PluginManifest(
    id="care",
    name="Care campaigns",
    version="0.1.0",
    description="Birthday, holiday, revisit and win-back campaigns",
    requires_core=">=0.1,<1",
)
