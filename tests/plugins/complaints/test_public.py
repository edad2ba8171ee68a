"""The public form's GraphQL, without a credential: ``complaintSubmit`` files a complaint that
staff see as an online-form complaint of the store, ``complaintStatus`` follows it by token;
a missing form answers one error whatever is missing; floods and bad input are refused with
nothing written; a token works only in its own tenant."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest

from core import to_global_id

pytestmark = pytest.mark.usefixtures("db")

SUBMIT = (
    "mutation($i: ComplaintSubmitInput!) { complaintSubmit(input: $i) { number token "
    "errors { field code message } } }"
)
STATUS = (
    "query($t: String!, $l: String) { complaintStatus(token: $t, locale: $l) { complaint { number "
    "kind state statusText store receivedAt promisedReplyAt dueAt resolvedAt resolution } "
    "errors { field code } } }"
)
STAFF = (
    "{ complaints { nodes { number channel kind state storeId contactName summary description "
    "spot category occurredAt contactPhone } } }"
)


def _when(hours: int = 2) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat()


def _form(chain, store="A1", **changes):
    return {
        "tenant": chain.slug,
        "store": store,
        "name": "李女士",
        "phone": "13912345678",
        "what": "收银员多收了我五块钱\n小票上写的是 12.5 元",
        "occurredAt": _when(),
        **changes,
    }


async def _rows(tenant):
    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        return await fetch(
            "SELECT number, channel, kind, store_id, token_hash, created_by, contact_phone "
            "FROM complaints_complaint WHERE tenant_id = {}",
            tenant.id,
        )


async def _store(tenant, owner, code="A1", name="徐家汇店"):
    from tenants.service import create_store

    return (await create_store(tenant, owner, {"code": code, "name": name}))["id"]


@pytest.fixture
async def form_on(tenant, owner, enable_plugins):
    await enable_plugins(tenant, "complaints")
    return await _store(tenant, owner)


async def test_a_customer_files_a_complaint_that_staff_see_and_follows_it_by_token(
    api, tenant, owner, make_key, form_on
):
    from plugins.complaints import workflow
    from plugins.complaints.settings import ComplaintsSettings

    body = await api.gql(
        SUBMIT, {"i": _form(tenant, kind="COMPLAINT", category="service.cashier.overcharge")}
    )
    done = body["data"]["complaintSubmit"]
    assert done["errors"] == []
    token = done["token"]
    assert token.startswith(f"{tenant.slug}.") and len(token.split(".", 1)[1]) == 43  # 256 bits
    (row,) = await _rows(tenant)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert (row["number"], row["channel"], row["kind"]) == (
        done["number"],
        "online_form",
        "complaint",
    )
    assert str(row["store_id"]) == str(form_on) and row["created_by"] == "public:online_form"
    assert "13912345678" not in str(row["contact_phone"])  # sealed

    staff = await api.gql(STAFF, key=await make_key(tenant))
    (seen,) = staff["data"]["complaints"]["nodes"]
    assert seen == {
        "number": done["number"],
        "channel": "ONLINE_FORM",
        "kind": "COMPLAINT",
        "state": "RECEIVED",
        "storeId": to_global_id("Store", form_on),
        "contactName": "李女士",
        "summary": "收银员多收了我五块钱",
        "description": "收银员多收了我五块钱\n小票上写的是 12.5 元",
        "spot": "",
        "category": "service.cashier.overcharge",
        "occurredAt": seen["occurredAt"],
        "contactPhone": "139****5678",
    }

    status = (await api.gql(STATUS, {"t": token}))["data"]["complaintStatus"]
    assert status["errors"] == []
    s = status["complaint"]
    assert (s["number"], s["kind"], s["state"], s["store"]) == (
        done["number"],
        "COMPLAINT",
        "RECEIVED",
        "徐家汇店",
    )
    assert s["statusText"] == "已收到，我们会尽快受理。"
    assert s["dueAt"] is not None and s["resolvedAt"] is None and s["resolution"] is None
    english = (await api.gql(STATUS, {"t": token, "l": "en"}))["data"]["complaintStatus"]
    assert english["complaint"]["statusText"] == "Received: we will take it up shortly."

    uid = (await workflow_id(tenant))[0]
    settings = ComplaintsSettings()
    await workflow.acknowledge(tenant, owner, settings, uid, "内部备注：找收银主管")
    await workflow.resolve(
        tenant,
        owner,
        settings,
        uid,
        resolution_type="compensation",
        resolution="已退还多收的 5 元，并向您致歉。",
        follow_up="call",
    )
    s = (await api.gql(STATUS, {"t": token}))["data"]["complaintStatus"]["complaint"]
    assert (s["state"], s["statusText"], s["resolution"], s["dueAt"]) == (
        "RESOLVED",
        "已处理完毕。",
        "已退还多收的 5 元，并向您致歉。",
        None,
    )
    assert s["resolvedAt"] is not None
    assert "内部备注" not in str(s) and "13912345678" not in str(s)


async def workflow_id(tenant):
    from uuid import UUID

    from core.db import fetch, tenant_tx

    async with tenant_tx(tenant.id, write=False):
        rows = await fetch("SELECT id FROM complaints_complaint WHERE tenant_id = {}", tenant.id)
    return [UUID(str(r["id"])) for r in rows]


async def test_a_missing_form_answers_the_same_whatever_is_missing(
    api, tenant, other_tenant, owner, form_on
):
    from tenants.stores import close_store

    await _store(other_tenant, owner, code="B1")  # complaints not enabled there
    closed = await _store(tenant, owner, code="OLD", name="已关店")
    await close_store(tenant, owner, closed)
    expected = [{"field": "store", "code": "not_found", "message": "no such store"}]
    for changes in (
        {"tenant": "no-such-chain"},
        {"tenant": "Bad slug!"},
        {"store": "NOPE"},
        {"store": "OLD"},
        {"tenant": other_tenant.slug, "store": "B1"},
    ):
        body = await api.gql(SUBMIT, {"i": _form(tenant, **changes)})
        assert body["data"]["complaintSubmit"] == {
            "number": None,
            "token": None,
            "errors": expected,
        }, changes
    assert await _rows(tenant) == [] and await _rows(other_tenant) == []


async def test_bad_input_is_a_typed_error_and_writes_nothing(api, tenant, form_on):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    body = await api.gql(
        SUBMIT,
        {
            "i": _form(
                tenant,
                name="  ",
                phone="12345",
                what="x" * 2001,
                occurredAt=future,
                category="no.such",
            )
        },
    )
    errors = body["data"]["complaintSubmit"]["errors"]
    assert sorted((e["field"], e["code"]) for e in errors) == [
        ("category", "unknown_category"),
        ("name", "required"),
        ("occurredAt", "in_future"),
        ("phone", "invalid_phone"),
        ("what", "too_long"),
    ]
    long_ago = await api.gql(SUBMIT, {"i": _form(tenant, occurredAt=_when(24 * 400))})
    assert [e["code"] for e in long_ago["data"]["complaintSubmit"]["errors"]] == ["too_long_ago"]
    assert await _rows(tenant) == []


async def test_a_suggestion_and_a_replay_file_once(api, tenant, form_on):
    form = _form(tenant, kind="SUGGESTION", idempotencyKey="form-1", spot="生鲜区")
    first = (await api.gql(SUBMIT, {"i": form}))["data"]["complaintSubmit"]
    again = (await api.gql(SUBMIT, {"i": form}))["data"]["complaintSubmit"]
    assert first["token"] and again == {"number": first["number"], "token": None, "errors": []}
    (row,) = await _rows(tenant)
    assert row["kind"] == "suggestion"


async def test_floods_are_refused(api, tenant, owner, enable_plugins, monkeypatch):
    from api.graphql import plan_check

    # complaintStatus counts each look-up against its limit: the plan check's second answer
    # would count twice (and be refused where the first was not)
    monkeypatch.setattr(plan_check, "enabled", False)
    await enable_plugins(
        tenant, "complaints", settings={"form_client_rate": "2/minute", "status_rate": "3/minute"}
    )
    await _store(tenant, owner)
    answers = [
        (await api.gql(SUBMIT, {"i": _form(tenant)}))["data"]["complaintSubmit"] for _ in "abc"
    ]
    assert [a["errors"] for a in answers[:2]] == [[], []]
    (limited,) = answers[2]["errors"]
    assert (limited["field"], limited["code"]) == (None, "rate_limited")
    assert len(await _rows(tenant)) == 2
    token = answers[0]["token"]
    codes = [
        [
            e["code"]
            for e in (await api.gql(STATUS, {"t": token}))["data"]["complaintStatus"]["errors"]
        ]
        for _ in range(4)
    ]
    assert codes == [[], [], [], ["rate_limited"]]


async def test_floods_per_store_are_refused_whoever_sends_them(api, tenant, owner, enable_plugins):
    import httpx

    await enable_plugins(tenant, "complaints", settings={"form_store_rate": "1/minute"})
    await _store(tenant, owner)
    assert (await api.gql(SUBMIT, {"i": _form(tenant)}))["data"]["complaintSubmit"]["errors"] == []
    # another address, the same store
    transport = httpx.ASGITransport(
        app=api.http._transport.app, client=(f"10.{uuid.uuid4().int % 250}.8.7", 1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://mendian.test") as other:
        body = (
            await other.post("/graphql", json={"query": SUBMIT, "variables": {"i": _form(tenant)}})
        ).json()
    assert [e["code"] for e in body["data"]["complaintSubmit"]["errors"]] == ["rate_limited"]
    assert len(await _rows(tenant)) == 1


async def test_a_token_opens_its_own_tenant_only(
    api, tenant, other_tenant, owner, enable_plugins, form_on
):
    await enable_plugins(other_tenant, "complaints")
    await _store(other_tenant, owner, code="A1", name="B 店")
    theirs = (await api.gql(SUBMIT, {"i": _form(other_tenant)}))["data"]["complaintSubmit"]
    mine = (await api.gql(SUBMIT, {"i": _form(tenant)}))["data"]["complaintSubmit"]
    secret = theirs["token"].split(".", 1)[1]
    missing = {"complaint": None, "errors": [{"field": "token", "code": "not_found"}]}
    for token in (f"{tenant.slug}.{secret}", f"{tenant.slug}.{'x' * 43}", "nonsense", ""):
        assert (await api.gql(STATUS, {"t": token}))["data"]["complaintStatus"] == missing, token
    mine_status = (await api.gql(STATUS, {"t": mine["token"]}))["data"]["complaintStatus"]
    assert mine_status["complaint"]["number"] == mine["number"]
    # each tenant's staff see only their own
    key = await make_key_for(tenant, owner)
    nodes = (await api.gql(STAFF, key=key))["data"]["complaints"]["nodes"]
    assert [n["number"] for n in nodes] == [mine["number"]]
    # the module disabled: the token answers like an unknown one, the form is gone
    from core.plugins import get_runtime
    from tenants.modules import disable_module

    await disable_module(other_tenant, owner, get_runtime(), "complaints")
    assert (await api.gql(STATUS, {"t": theirs["token"]}))["data"]["complaintStatus"] == missing
    gone = (await api.gql(SUBMIT, {"i": _form(other_tenant)}))["data"]["complaintSubmit"]
    assert [e["code"] for e in gone["errors"]] == ["not_found"]


async def make_key_for(tenant, owner):
    from tenants.credentials import create_api_key

    _id, key = await create_api_key(tenant, owner, name="t", role="owner")
    return key


async def test_a_suggestion_may_be_anonymous_and_a_complaint_needs_its_contact(
    api, tenant, form_on
):
    anonymous = {
        k: v for k, v in _form(tenant, kind="SUGGESTION").items() if k not in ("name", "phone")
    }
    done = (await api.gql(SUBMIT, {"i": anonymous}))["data"]["complaintSubmit"]
    assert done["errors"] == [] and done["token"]
    blank = await api.gql(SUBMIT, {"i": _form(tenant, kind="SUGGESTION", name=" ", phone="")})
    assert blank["data"]["complaintSubmit"]["errors"] == []
    rows = await _rows(tenant)
    assert sorted((r["kind"], r["contact_phone"]) for r in rows) == [
        ("suggestion", ""),
        ("suggestion", ""),
    ]

    for form in (
        {k: v for k, v in _form(tenant, kind="COMPLAINT").items() if k not in ("name", "phone")},
        _form(tenant, name="", phone="  "),  # kind omitted: a complaint
    ):
        errors = (await api.gql(SUBMIT, {"i": form}))["data"]["complaintSubmit"]["errors"]
        assert sorted((e["field"], e["code"]) for e in errors) == [
            ("name", "required"),
            ("phone", "required"),
        ]
        assert all("required for a complaint" in e["message"] for e in errors)
    assert len(await _rows(tenant)) == 2  # nothing more written
