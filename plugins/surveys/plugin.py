"""The Surveys plugin: manifest and hook implementations (thin: logic lives beside it)."""

from core import PluginManifest

manifest = PluginManifest(
    id="surveys",
    name="Surveys",
    version="0.1.0",
    description="NPS/CSAT surveys, invitations and scores",
    requires_core=">=0.1,<1",
)
