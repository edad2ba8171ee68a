"""The API process's collector (api/collector.py): settle collects, then freezes; the hourly
reclaim also collects what became garbage after it was frozen."""

from __future__ import annotations

import gc
import weakref

import pytest

from api.collector import RECLAIM_SECONDS, YOUNG_THRESHOLD, Collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


@pytest.fixture
def collector():
    threshold = gc.get_threshold()
    collector = Collector()
    collector.start()
    yield collector
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_freezes_what_is_loaded_and_raises_the_young_threshold(collector):
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] >= YOUNG_THRESHOLD


def test_settle_collects_garbage_before_freezing_and_freezes_the_survivors(collector):
    garbage, dead = cycle()
    del garbage
    kept, alive = cycle()
    frozen = gc.get_freeze_count()
    collector.settle()
    assert dead() is None  # unreachable when settled: collected, not frozen
    assert alive() is kept
    assert gc.get_freeze_count() > frozen
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: no collection walks it


def test_a_frozen_cycle_that_becomes_garbage_is_reclaimed_within_the_hour(collector):
    kept, ref = cycle()
    collector.settle()
    del kept  # garbage now, but frozen: an ordinary settle leaves it
    collector.settle()
    still_there = ref() is not None  # (not asserted inline: that would keep a reference)
    assert still_there
    collector.settle(now=collector._reclaimed_at + RECLAIM_SECONDS + 1)
    assert ref() is None
