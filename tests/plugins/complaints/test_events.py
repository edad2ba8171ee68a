"""Another plugin hears complaints' published events through their hooks (never an import):
a media complaint is received and escalated to HQ at once, each delivered once."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import plugin_module

pytestmark = pytest.mark.usefixtures("db")


async def test_published_events_reach_a_listening_plugin(
    tenant, owner, store, make_runtime, enable_plugins, deliver_events
):
    import plugins.complaints.plugin as complaints
    from plugins.complaints.records import create_complaint
    from plugins.complaints.settings import ComplaintsSettings

    heard: list[tuple[str, dict]] = []

    async def on_complaints_received(tenant, event):
        heard.append(("received", event))

    async def on_complaints_escalated(tenant, event):
        heard.append(("escalated", event))

    listener = plugin_module(
        "listener",
        depends=("complaints",),
        on_complaints_received=on_complaints_received,
        on_complaints_escalated=on_complaints_escalated,
    )
    runtime = make_runtime(complaints, listener)
    await enable_plugins(tenant, "listener")
    made = await create_complaint(
        tenant,
        owner,
        ComplaintsSettings(),
        {"channel": "media", "summary": "报社来电", "store_id": store},
        channels=await runtime.channels(tenant),
    )
    await deliver_events(tenant)
    await deliver_events(tenant)  # once each
    assert sorted(kind for kind, _ in heard) == ["escalated", "received"]
    events = dict(heard)
    assert events["received"]["complaint_id"] == str(made.id)
    assert events["received"]["channel"] == "media"
    assert events["escalated"] == {
        "complaint_id": str(made.id),
        "stage": "intake",
        "trigger": "media",
        "level": 2,
    }
