"""PLUG-1/2/5: discovery through entry points, manifests, quarantine."""

import types

import msgspec
import pytest

from core import __version__
from core.plugins import PluginRegistry, StrictPluginError
from tests.plugins.conftest import plugin_module


def test_builtin_and_pip_installed_plugins_are_discovered_by_entry_point():
    registry = PluginRegistry(core_version=__version__).discover()
    assert {"loyalty", "surveys", "complaints", "care", "sample"} <= set(registry.plugins)
    assert registry.quarantined == {}
    assert registry.plugins["sample"].source == "mendian_sample.plugin"
    assert "mendian_sample.piccolo_app" in registry.piccolo_apps()


def test_broken_plugins_are_quarantined_with_reasons_and_others_load():
    def bad_hook(tenant, event, extra):  # not the spec's signature
        pass

    from core import hookimpl

    unknown = plugin_module("unknownhook", on_something_nobody_specified=lambda tenant: None)
    optional = plugin_module("optional")

    def on_other_plugins_event(tenant, event):  # another plugin's event, when it is installed
        pass

    optional.on_other_plugins_event = hookimpl(optionalhook=True)(on_other_plugins_event)
    registry = PluginRegistry(core_version=__version__).load(
        [
            ("good", plugin_module("good")),
            ("optional", optional),
            ("missing", "no_such_module_anywhere"),
            ("nomanifest", types.ModuleType("nomanifest")),
            ("Bad-Id", plugin_module("Bad-Id")),
            ("future", plugin_module("future", requires_core=">=99")),
            ("orphan", plugin_module("orphan", depends=("ghost",))),
            ("unknownhook", unknown),
            ("badsig", plugin_module("badsig", on_purchase_recorded=bad_hook)),
            ("customer", plugin_module("customer")),
        ]
    )
    assert sorted(registry.plugins) == ["good", "optional"]  # an optional hook needs no spec
    reasons = {pid: q.reason for pid, q in registry.quarantined.items()}
    assert reasons["missing"].startswith("import failed: ModuleNotFoundError")
    assert reasons["nomanifest"] == "module has no `manifest = PluginManifest(...)`"
    assert "must match" in reasons["Bad-Id"]
    assert reasons["future"] == "bad manifest: requires core >=99, this core is 0.1.0"
    assert reasons["orphan"] == "missing dependency: ghost"
    assert reasons["unknownhook"] == "implements unknown hooks: on_something_nobody_specified"
    assert reasons["badsig"].startswith("invalid hook implementation")
    assert "reserved" in reasons["customer"]


def test_strict_mode_makes_quarantine_fatal():
    with pytest.raises(StrictPluginError, match="future"):
        PluginRegistry(core_version=__version__, strict=True).load(
            [("future", plugin_module("future", requires_core="<0.1"))]
        )


def test_dependency_order_and_closure():
    registry = PluginRegistry(core_version=__version__).load(
        [
            ("c", plugin_module("cc", depends=("bb",)))
            if False
            else ("cc", plugin_module("cc", depends=("bb",))),
            ("bb", plugin_module("bb", depends=("aa",))),
            ("aa", plugin_module("aa")),
        ]
    )
    assert registry.dependency_order() == ["aa", "bb", "cc"]
    assert registry.dependency_closure("cc") == ["aa", "bb", "cc"]
    assert registry.dependents("aa") == ["bb"]


def test_settings_schema_marks_secrets():
    class Settings(msgspec.Struct):
        token: str = ""
        limit: int = 3

    module = plugin_module("withsettings", settings=Settings, secret_settings=("token",))
    registry = PluginRegistry(core_version=__version__).load([("withsettings", module)])
    manifest = registry.manifest("withsettings")
    schema = manifest.settings_schema()
    props = schema["$defs"]["Settings"]["properties"]
    assert props["token"]["writeOnly"] is True and props["limit"] == {
        "type": "integer",
        "default": 3,
    }
    assert manifest.public_settings({"token": "s3cret", "limit": 3}) == {
        "token": "********",
        "limit": 3,
    }
    assert manifest.default_settings() == {"token": "", "limit": 3}


def test_plugins_publish_their_own_hookspecs():
    from core import hookimpl, hookspec

    class Specs:
        @hookspec
        def publisher_thing_happened(self, tenant, event):
            """A hook published by a plugin."""

    publisher = plugin_module("publisher")
    publisher.manifest = publisher.manifest.__class__(
        **{**publisher.manifest.__dict__, "hookspecs": Specs}
    )
    seen = []

    def publisher_thing_happened(tenant, event):
        seen.append(event)

    listener = plugin_module("listener")
    listener.publisher_thing_happened = hookimpl(publisher_thing_happened)
    registry = PluginRegistry(core_version=__version__).load(
        [("publisher", publisher), ("listener", listener)]
    )
    assert sorted(registry.plugins) == ["listener", "publisher"]
    registry.pm.hook.publisher_thing_happened(tenant=None, event={"x": 1})
    assert seen == [{"x": 1}]
