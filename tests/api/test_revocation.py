"""Revocation and suspension reach every process at once (issue 17, finding 8).

Two ``mendian serve`` processes on one database and one Redis, each with its own caches. A key
revoked through one was still accepted by the other for 29.7 s (its resolved-key cache), a
suspended tenant's key for 4.8 s (its tenant cache): now both are refused by the other
process as soon as the invalidation arrives over Redis.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from typing import Any

import httpx
import pytest

from tests.api.servers import RedisServer, serve, stop_server

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

ME = "{ me { role } }"
LOGIN = (
    "mutation($t: String!, $l: String!, $p: String!) "
    "{ staffLogin(input: {tenant: $t, login: $l, password: $p}) { token errors { code } } }"
)


async def accepted(client: httpx.AsyncClient, credential: str) -> bool:
    r = await client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {credential}"}
    )
    if r.status_code == 401:
        return False
    assert r.status_code == 200, r.text
    assert r.json()["data"]["me"]["role"] in ("owner", "cashier"), r.text
    return True


async def refused_within(client: httpx.AsyncClient, credential: str, limit: float) -> float:
    """Seconds until ``credential`` is refused (polling), failing past ``limit``."""
    started = time.monotonic()
    while await accepted(client, credential):
        assert time.monotonic() - started < limit, f"still accepted after {limit} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_revoked_keys_and_suspended_tenants_are_refused_by_every_process_at_once(
    db, tenant, owner, make_key, tmp_path, capsys
):
    from tenants.credentials import create_staff

    await create_staff(
        tenant,
        owner,
        {"login": "till1", "name": "Till", "password": "till-password-1", "role": "cashier"},
    )
    revoked, kept = await make_key(tenant), await make_key(tenant)
    redis = RedisServer(tmp_path)
    redis.start()
    servers: list[Any] = []
    try:
        for _ in range(2):
            servers.append(await serve(db, REDIS_URL=redis.url))
        (_a, url_a), (_b, url_b) = servers
        admin = {"Authorization": f"Bearer {db.settings.admin_token}"}
        async with (
            httpx.AsyncClient(base_url=url_a, timeout=10) as a,
            httpx.AsyncClient(base_url=url_b, timeout=10) as b,
        ):
            login = await a.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"t": tenant.slug, "l": "till1", "p": "till-password-1"},
                },
            )
            token = login.json()["data"]["staffLogin"]["token"]
            for client in (a, b):  # both processes have resolved (and cached) everything
                for credential in (revoked, kept, token):
                    assert await accepted(client, credential)

            keys = (await a.get(f"/admin/tenants/{tenant.slug}/api-keys", headers=admin)).json()
            key_id = next(k["id"] for k in keys if revoked.endswith(k["key_hint"]))
            r = await a.delete(f"/admin/tenants/{tenant.slug}/api-keys/{key_id}", headers=admin)
            assert r.status_code == 204
            revocation = await refused_within(b, revoked, 1.0)  # it took 29.7 s
            assert await accepted(b, kept)  # only that key

            r = await a.post(f"/admin/tenants/{tenant.slug}/suspend", headers=admin)
            assert r.status_code == 200
            suspension = await refused_within(b, kept, 1.0)  # it took 4.8 s
            assert not await accepted(b, token)  # staff tokens too
            r = await a.post(f"/admin/tenants/{tenant.slug}/activate", headers=admin)
            assert r.status_code == 200
            started = time.monotonic()
            while not await accepted(b, kept):  # and reactivation, just as fast
                assert time.monotonic() - started < 1.0
                await asyncio.sleep(0.02)
            assert not await accepted(b, revoked)
        with capsys.disabled():
            print(
                f"\nrefused by the other process {revocation * 1000:.0f} ms after the revocation,"
                f" {suspension * 1000:.0f} ms after the suspension"
            )
    finally:
        logs = [await stop_server(server) for server, _url in servers]
        redis.stop()
    for log in logs:
        assert "Traceback" not in log, log[-3000:]
