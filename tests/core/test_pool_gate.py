"""The pools' gate (core.db._Gate): connections go to waiters first come, first served — a
newcomer never takes a released connection from someone already waiting (asyncpg's queue let
it, and some requests waited 100-200 ms behind others)."""

from __future__ import annotations

import asyncio

import pytest

from core import db
from core.db import _Gate


async def test_a_released_turn_goes_to_the_longest_waiter_not_a_newcomer() -> None:
    gate = _Gate(1)
    order: list[str] = []

    async def use(name: str, hold: float = 0.0) -> None:
        await gate.enter()
        order.append(name)
        await asyncio.sleep(hold)
        gate.leave()

    await gate.enter()  # the only connection is taken
    first = asyncio.create_task(use("first"))
    second = asyncio.create_task(use("second"))
    await asyncio.sleep(0)  # both wait now
    gate.leave()  # handed to "first", which has not run yet …
    await use("newcomer")  # … and a newcomer asks in the same tick, before it could
    await asyncio.gather(first, second)
    assert order == ["first", "second", "newcomer"]
    assert gate.free == 1 and not gate.waiters


async def test_a_waiter_that_gives_up_passes_its_turn_on() -> None:
    gate = _Gate(1)
    await gate.enter()
    quitter = asyncio.create_task(gate.enter())
    patient = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    gate.leave()
    await asyncio.wait_for(patient, 1)  # the turn went past the one who left
    gate.leave()
    assert gate.free == 1 and not gate.waiters


async def test_a_turn_handed_over_as_the_wait_is_cancelled_is_not_lost() -> None:
    gate = _Gate(1)
    await gate.enter()
    waiter = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gate.leave()  # the turn is handed to the waiter …
    waiter.cancel()  # … which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.free == 1 and not gate.waiters  # the turn came back, nothing leaked


async def test_waiting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "ACQUIRE_SECONDS", 0.05)
    gate = _Gate(1)
    await gate.enter()
    with pytest.raises(TimeoutError):
        await gate.enter()
    assert not gate.waiters
    gate.leave()
    assert gate.free == 1
