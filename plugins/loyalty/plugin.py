"""The Loyalty plugin: manifest and hook implementations (thin: logic lives beside it)."""

from core import PluginManifest

manifest = PluginManifest(
    id="loyalty",
    name="Loyalty",
    version="0.1.0",
    description="Points and growth ledger, tiers, rewards and coupons",
    requires_core=">=0.1,<1",
)
