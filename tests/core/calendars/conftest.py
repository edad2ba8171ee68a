"""Calendar tests: every test starts from a fresh platform snapshot (the cache is per process,
and the session runs SQLite and PostgreSQL databases one after the other)."""

from collections.abc import Iterator

import pytest

from core.calendars.platform import forget_platform_snapshot


@pytest.fixture(autouse=True)
def _fresh_platform_snapshot() -> Iterator[None]:
    forget_platform_snapshot()
    yield
    forget_platform_snapshot()
