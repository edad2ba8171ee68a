"""Tenant webhooks (issue 17, finding 9): the owner or HQ subscribes an endpoint, events arrive
signed with the secret shown once, failures are retried and logged, secrets rotate, and
loopback or private addresses are refused unless the operator allows them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from core import to_global_id
from core.db import fetch, tenant_tx
from core.plugins import get_runtime
from core.plugins.delivery import deliver_pending

CREATE = """mutation($i: WebhookSubscriptionCreateInput!) { webhookSubscriptionCreate(input: $i) {
  subscription { id url events active } secret errors { field code } } }"""
LIST = """{ webhookSubscriptions { nodes { id url deliveries { eventName status attempts
  lastError doneAt } } } }"""
ROTATE = """mutation($id: ID!) { webhookSubscriptionRotateSecret(input: {id: $id}) {
  secret errors { code } } }"""
UPDATE = """mutation($id: ID!) { webhookSubscriptionUpdate(input: {id: $id, active: false}) {
  subscription { active } errors { code } } }"""
DELETE = """mutation($id: ID!) { webhookSubscriptionDelete(input: {id: $id}) {
  deletedId errors { code } } }"""
RECORD = """mutation($i: PurchaseRecordInput!) { purchaseRecord(input: $i) {
  purchase { id } errors { code } } }"""


class Receiver:
    """A local HTTP endpoint recording each POST; answers ``status``."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def allow_private(monkeypatch):
    """The operator's ``MENDIAN_WEBHOOK_ALLOW_PRIVATE=1`` (the receiver is on loopback)."""
    import core.webhooks

    monkeypatch.setattr(core.webhooks, "_allow_private", lambda: True)


def _signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:9000/hook", "private_address"),
        ("http://localhost/hook", "private_address"),
        ("https://10.1.2.3/hook", "private_address"),
        ("http://[::1]/hook", "private_address"),
        ("http://169.254.169.254/latest/meta-data", "private_address"),
        ("ftp://example.com/hook", "invalid_url"),
        ("https://user:pw@example.com/hook", "invalid_url"),
        ("example.com/hook", "invalid_url"),
    ],
)
async def test_a_webhook_cannot_point_inside_the_network(api, tenant, make_key, url, code):
    key = await make_key(tenant)
    body = await api.gql(CREATE, {"i": {"url": url, "events": ["purchase.recorded"]}}, key=key)
    payload = body["data"]["webhookSubscriptionCreate"]
    assert payload["errors"] == [{"field": "url", "code": code}]
    assert payload["subscription"] is None and payload["secret"] is None
    listed = await api.gql(LIST, key=key)
    assert listed["data"]["webhookSubscriptions"]["nodes"] == []


async def test_events_must_be_named(api, tenant, make_key):
    key = await make_key(tenant)
    for events in ([], ["Purchase Recorded"], ["x" * 10 + "."]):
        body = await api.gql(
            CREATE, {"i": {"url": "https://example.com/h", "events": events}}, key=key
        )
        assert body["data"]["webhookSubscriptionCreate"]["errors"] == [
            {"field": "events", "code": "invalid_events"}
        ]


async def test_only_the_owner_and_hq_manage_webhooks(api, tenant, make_key):
    cashier = await make_key(tenant, role="cashier")
    body = await api.gql(
        CREATE, {"i": {"url": "https://example.com/h", "events": ["*"]}}, key=cashier
    )
    assert body["data"] is None  # a missing permission is a request error, as everywhere
    assert [e["extensions"]["code"] for e in body["errors"]] == ["forbidden"]
    hq = await make_key(tenant, role="hq_manager")
    body = await api.gql(CREATE, {"i": {"url": "https://example.com/h", "events": ["*"]}}, key=hq)
    assert body["data"]["webhookSubscriptionCreate"]["errors"] == []


async def test_events_arrive_signed_failures_retry_and_secrets_rotate(
    api, tenant, make_key, store, receiver, allow_private
):
    key = await make_key(tenant)
    created = (
        await api.gql(
            CREATE, {"i": {"url": receiver.url, "events": ["purchase.recorded"]}}, key=key
        )
    )["data"]["webhookSubscriptionCreate"]
    assert created["errors"] == []
    secret, webhook = created["secret"], created["subscription"]["id"]
    assert secret.startswith("whsec_") and len(secret) > 40
    async with tenant_tx(tenant.id, write=False):
        [row] = await fetch(
            "SELECT secret FROM webhook_subscription WHERE tenant_id = {}", tenant.id
        )
    assert row["secret"].startswith("v1.") and secret not in row["secret"]  # sealed at rest

    sale = {"storeId": to_global_id("Store", store), "lines": [{"sku": "tea", "unitPrice": "9.90"}]}
    recorded = await api.gql(RECORD, {"i": sale}, key=key)
    assert recorded["data"]["purchaseRecord"]["errors"] == []
    await deliver_pending(get_runtime(), tenant)
    [(headers, body)] = receiver.posts
    assert headers["x-mendian-event"] == "purchase.recorded"
    assert headers["x-mendian-signature"] == _signed(secret, body)
    event = json.loads(body)
    assert event["name"] == "purchase.recorded"
    assert event["payload"]["purchase_id"]
    log = (await api.gql(LIST, key=key))["data"]["webhookSubscriptions"]["nodes"][0]
    assert [(d["eventName"], d["status"], d["attempts"]) for d in log["deliveries"]] == [
        ("purchase.recorded", "DONE", 1)
    ]

    # the receiver fails: the delivery stays pending with the error, then succeeds on retry
    rotated = (await api.gql(ROTATE, {"id": webhook}, key=key))["data"][
        "webhookSubscriptionRotateSecret"
    ]
    assert rotated["errors"] == [] and rotated["secret"] != secret
    receiver.status = 500
    await api.gql(RECORD, {"i": sale}, key=key)
    await deliver_pending(get_runtime(), tenant)
    assert len(receiver.posts) == 2
    log = (await api.gql(LIST, key=key))["data"]["webhookSubscriptions"]["nodes"][0]
    latest = log["deliveries"][0]
    assert (latest["status"], latest["attempts"]) == ("PENDING", 1)
    assert "500" in latest["lastError"]
    receiver.status = 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    await deliver_pending(get_runtime(), tenant, now=later)
    assert len(receiver.posts) == 3
    headers, body = receiver.posts[-1]
    assert headers["x-mendian-signature"] == _signed(rotated["secret"], body)  # the new secret
    assert receiver.posts[1][1] == body  # the same event, retried
    log = (await api.gql(LIST, key=key))["data"]["webhookSubscriptions"]["nodes"][0]
    assert [(d["status"], d["attempts"]) for d in log["deliveries"]] == [("DONE", 2), ("DONE", 1)]

    # paused: nothing more is sent; deleted: gone
    assert (await api.gql(UPDATE, {"id": webhook}, key=key))["data"]["webhookSubscriptionUpdate"][
        "subscription"
    ] == {"active": False}
    await api.gql(RECORD, {"i": sale}, key=key)
    await deliver_pending(get_runtime(), tenant)
    assert len(receiver.posts) == 3
    deleted = (await api.gql(DELETE, {"id": webhook}, key=key))["data"]["webhookSubscriptionDelete"]
    assert deleted == {"deletedId": webhook, "errors": []}
    assert (await api.gql(LIST, key=key))["data"]["webhookSubscriptions"]["nodes"] == []
    async with tenant_tx(tenant.id, write=False):
        actions = await fetch(
            "SELECT action FROM audit_log WHERE tenant_id = {} AND action LIKE 'webhook.%'",
            tenant.id,
        )
    assert sorted(a["action"] for a in actions) == [
        "webhook.create",
        "webhook.delete",
        "webhook.rotate_secret",
        "webhook.update",
    ]


async def test_a_host_resolving_to_loopback_is_refused_at_delivery():
    from core.webhooks import check_address

    with pytest.raises(PermissionError, match="private address"):
        await check_address("http://localhost:8080/hook")  # a name: only DNS can tell
