"""The Complaints and praise plugin: manifest and hook implementations (thin: logic lives beside it)."""

from core import PluginManifest

manifest = PluginManifest(
    id="complaints",
    name="Complaints and praise",
    version="0.1.0",
    description="Complaint intake, SLA workflow, follow-up and praise",
    requires_core=">=0.1,<1",
)
