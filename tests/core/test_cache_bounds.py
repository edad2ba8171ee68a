"""Every per-tenant cache has a size bound (issue 16, item 3): filled past it, it keeps the most
recently used entries and never grows."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from cachetools import Cache

import core.lookups
import tenants.credentials
import tenants.service
from core import __version__
from core.cache import TENANT_ENTRIES, bounded
from core.plugins.registry import PluginRegistry
from core.plugins.runtime import PluginRuntime


def _caches() -> dict[str, Cache[Any, Any]]:
    runtime = PluginRuntime(PluginRegistry(core_version=__version__))
    return {
        "tenants by id and slug": tenants.service._cache,
        "resolved API keys": tenants.credentials._key_cache,
        "role permissions": tenants.credentials._role_cache,
        "public tenant look-ups": core.lookups._tenants,
        "enabled module sets": runtime._states,
        "typed plugin settings": runtime._settings,
    }


@pytest.mark.parametrize("name", list(_caches()))
def test_each_per_tenant_cache_is_bounded(name: str) -> None:
    cache = _caches()[name]
    assert cache.maxsize == TENANT_ENTRIES  # room for 10,000 tenants under two names each
    saved = dict(cache.items())
    try:
        cache.clear()
        keys = [(uuid4(), "k") for _ in range(TENANT_ENTRIES + 500)]
        for key in keys:
            cache[key] = "v"
        assert len(cache) == TENANT_ENTRIES
        assert keys[0] not in cache  # the least recently used left first
        assert keys[-1] in cache
    finally:
        cache.clear()
        cache.update(saved)


def test_a_used_entry_outlives_newer_ones_and_every_entry_expires() -> None:
    now = [0.0]
    cache = bounded(5.0, maxsize=3, timer=lambda: now[0])
    a, b, c, d = (UUID(int=i) for i in range(4))
    cache[a], cache[b], cache[c] = 1, 2, 3
    assert cache[a] == 1  # used: now the most recent
    cache[d] = 4
    assert set(cache) == {a, c, d}  # b, the least recently used, left
    now[0] = 5.1
    assert a not in cache and len(cache) == 0


def test_entries_whose_changes_are_heard_stay_long_and_fall_back_when_not() -> None:
    now, live = [0.0], [True]
    cache = bounded(5.0, maxsize=10, timer=lambda: now[0], live_seconds=600.0, live=lambda: live[0])
    a, b = UUID(int=1), UUID(int=2)
    cache[a] = 1  # written while the invalidation channel is heard
    now[0] = 300.0
    assert cache[a] == 1  # past the short TTL, inside the long one
    live[0] = False
    cache[b] = 2  # written while it is not: the short TTL
    now[0] = 305.1
    assert b not in cache
    now[0] = 600.1
    assert a not in cache


async def test_forgetting_a_tenant_by_one_name_drops_the_other_even_if_it_left_first(tenant):
    """The id and slug entries leave the LRU separately: forgetting by the name that left
    still drops the other (else a suspended tenant's id entry would outlive the notice)."""
    from tenants.service import _cache, forget_tenant, get_tenant

    await get_tenant(tenant.id)  # cached under both names
    assert str(tenant.id) in _cache and tenant.slug in _cache
    _cache.pop(tenant.slug)  # as if evicted
    forget_tenant(tenant.slug)
    assert str(tenant.id) not in _cache
