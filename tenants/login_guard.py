"""What stands between ``staffLogin`` and password guessing (API-2, issue 17 finding 7).

* **Throttling.** Failed logins are counted per account (tenant slug + login, whether or not
  it exists: a lock then says nothing about existence) and per client address. ``ACCOUNT_LIMIT``
  failures within ``WINDOW_SECONDS`` lock the account for ``LOCK_SECONDS``; ``ADDRESS_LIMIT``
  failures from one address lock that address for as long. A lock is lifted by time or, for an
  account, by an owner (:func:`tenants.credentials.unlock_staff`). Counters live in Redis
  when it is configured (shared by every process), in-process otherwise — and while Redis is
  away, in-process too: a login never fails for want of Redis.
* **Argon2 as a bounded resource.** Hashing and verifying run in a thread (the event loop keeps
  serving), at most ``HASH_CONCURRENCY`` at a time per process; past ``HASH_QUEUE`` waiting,
  a login is refused at once (``login_busy``) instead of queueing CPU work without end.
* **Same cost on every path.** Every login verifies exactly one Argon2 hash (a dummy one when
  the tenant or login is unknown) and takes at least ``LOGIN_FLOOR_SECONDS``, so the time of an
  answer tells nothing about whether a tenant or login exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Forbidden
from core.redis import REDIS_ERRORS, OutageLog, get_redis

__all__ = [
    "ACCOUNT_LIMIT",
    "ADDRESS_LIMIT",
    "LOCK_SECONDS",
    "LOGIN_FLOOR_SECONDS",
    "WINDOW_SECONDS",
    "Lock",
    "check_password",
    "clear_account",
    "hash_password",
    "locked",
    "record_failure",
]

ACCOUNT_LIMIT = 5  # failed logins of one account …
ADDRESS_LIMIT = 20  # … or from one address …
WINDOW_SECONDS = 15 * 60  # … within this window lock it …
LOCK_SECONDS = 15 * 60  # … for this long
LOGIN_FLOOR_SECONDS = 0.25  # every login answer takes at least this long
HASH_CONCURRENCY = max(1, (os.cpu_count() or 2) // 2)
HASH_QUEUE = 64  # logins waiting for a hash slot before new ones are refused

_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters
_DUMMY_HASH = _hasher.hash("mendian: verifies as long as a real password does")
_pool = ThreadPoolExecutor(max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2")
_slots: dict[int, asyncio.Semaphore] = {}  # per event loop
_waiting = [0]

T = TypeVar("T")


async def _hash_work(fn: Callable[[], T]) -> T:
    """Run one Argon2 computation off the event loop, within the process's bound."""
    if _waiting[0] >= HASH_QUEUE:
        raise Forbidden("too many logins at once: try again shortly", code="login_busy")
    loop = asyncio.get_running_loop()
    slots = _slots.setdefault(id(loop), asyncio.Semaphore(HASH_CONCURRENCY))
    _waiting[0] += 1
    try:
        async with slots:
            return await loop.run_in_executor(_pool, fn)
    finally:
        _waiting[0] -= 1


async def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (bounded, off the event loop)."""
    return await _hash_work(lambda: _hasher.hash(password))


async def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown tenant or login) a dummy hash is
    verified, so every path costs one Argon2 verification."""

    def verify() -> bool:
        try:
            return bool(_hasher.verify(password_hash or _DUMMY_HASH, password)) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    return await _hash_work(verify)


# -- throttling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    """A refusal: ``scope`` ("account" or "address") locked for ``seconds`` more."""

    scope: str
    seconds: int


def account_key(tenant_slug: str, login: str) -> str:
    digest = hashlib.sha256(f"{tenant_slug}\x00{login}".encode()).hexdigest()[:32]
    return f"acct:{digest}"


def address_key(address: str | None) -> str | None:
    return f"addr:{address}" if address else None


class _Memory:
    """The in-process counters (embedded default, and while Redis is away)."""

    def __init__(self) -> None:
        self.failures: dict[str, tuple[int, float]] = {}  # key → (count, window ends)
        self.locks: dict[str, float] = {}  # key → locked until

    def locked(self, key: str, now: float) -> int:
        until = self.locks.get(key)
        if until is None or until <= now:
            self.locks.pop(key, None)
            return 0
        return int(until - now) + 1

    def fail(self, key: str, limit: int, now: float) -> int:
        if len(self.failures) > 100_000:  # bounded, whatever an attacker sends
            self.failures.clear()
        count, ends = self.failures.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + WINDOW_SECONDS
        count += 1
        self.failures[key] = (count, ends)
        if count >= limit:
            self.locks[key] = now + LOCK_SECONDS
            self.failures.pop(key, None)
        return count

    def clear(self, key: str) -> None:
        self.failures.pop(key, None)
        self.locks.pop(key, None)


_memory = _Memory()
_outage = OutageLog("login throttling", "failed logins are counted per process")


def _rkey(key: str, kind: str) -> str:
    return f"mendian:login:{kind}:{key}"  # platform-wide: the tenant may not even exist


async def locked(keys: list[str | None]) -> Lock | None:
    """The first lock on these keys (account, address), if any."""
    present = [k for k in keys if k]
    now = time.time()
    client = get_redis()
    if client is not None and (_outage.since is None or _retry_due()):
        try:
            ttls = [await client.ttl(_rkey(k, "lock")) for k in present]
            _outage.ok()
            for k, ttl in zip(present, ttls, strict=True):
                if ttl and ttl > 0:
                    return Lock("account" if k.startswith("acct:") else "address", int(ttl))
            return None
        except REDIS_ERRORS as exc:
            _outage_failed(exc)
    for k in present:
        if seconds := _memory.locked(k, now):
            return Lock("account" if k.startswith("acct:") else "address", seconds)
    return None


async def record_failure(key: str, limit: int) -> bool:
    """Count a failed login for ``key``; True when this failure locked it."""
    client = get_redis()
    if client is not None and (_outage.since is None or _retry_due()):
        try:
            failures = _rkey(key, "fail")
            count = int(await client.incr(failures))
            if count == 1:
                await client.expire(failures, WINDOW_SECONDS)
            _outage.ok()
            if count >= limit:
                await client.set(_rkey(key, "lock"), "1", ex=LOCK_SECONDS)
                await client.delete(failures)
                return True
            return False
        except REDIS_ERRORS as exc:
            _outage_failed(exc)
    return _memory.fail(key, limit, time.time()) >= limit


async def clear_account(key: str) -> None:
    """Forget an account's failures and lock (a successful login, an owner's unlock)."""
    _memory.clear(key)
    client = get_redis()
    if client is not None:
        try:
            await client.delete(_rkey(key, "fail"), _rkey(key, "lock"))
        except REDIS_ERRORS as exc:
            _outage_failed(exc)


_RETRY_SECONDS = 1.0
_next_try = [0.0]


def _retry_due() -> bool:
    return time.monotonic() >= _next_try[0]


def _outage_failed(exc: BaseException) -> None:
    _outage.failed(exc)
    _next_try[0] = time.monotonic() + _RETRY_SECONDS
