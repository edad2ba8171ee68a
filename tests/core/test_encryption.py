"""CORE-10: phones and emails never appear in plaintext in the database or the logs."""

import logging
import os
import shutil
import subprocess

import pytest

from core.config import DatabaseURL
from core.crypto import FieldCipher, mask_email, mask_phone
from core.customers import create_customer, find_by_phone, get_customer
from core.logging import MaskingFilter, mask_text

CANARY_PHONE = "13987650123"
CANARY_EMAIL = "canary.zhou@example.org"


def test_masks():
    assert mask_phone("+8613912347777") == "139****7777"
    assert mask_email("wang.fang@example.com") == "w***@example.com"
    assert (
        mask_text("call 13912347777 or +8613912347777, mail wang@x.cn")
        == "call 139****7777 or 139****7777, mail w***@x.cn"
    )


def test_cipher_roundtrip_rotation_and_tamper():
    import uuid

    tid = uuid.uuid4()
    old = FieldCipher(["old-key-" + "x" * 40])
    token = old.encrypt("+8613912347777", context=tid.bytes)
    rotated = FieldCipher(["new-key-" + "y" * 40, "old-key-" + "x" * 40])
    assert rotated.decrypt(token, context=tid.bytes) == "+8613912347777"
    assert rotated.needs_rekey(token)
    assert old.blind_index(tid, "a") in rotated.blind_indexes(tid, "a")
    with pytest.raises(ValueError):
        rotated.decrypt(token, context=uuid.uuid4().bytes)  # ciphertext moved to another tenant
    with pytest.raises(ValueError):
        FieldCipher(["other-" + "z" * 40]).decrypt(token, context=tid.bytes)


async def test_canary_is_absent_from_the_database_file_or_dump(db, tenant, owner, caplog):
    caplog.set_level(logging.DEBUG)
    c = await create_customer(
        tenant, owner, {"name": "Canary", "phone": CANARY_PHONE, "email": CANARY_EMAIL}
    )
    assert (await find_by_phone(tenant, owner, CANARY_PHONE)).id == c.id
    assert (await get_customer(tenant, owner, c.id, unmask=True)).email == CANARY_EMAIL
    if db.is_postgres:
        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
        url: DatabaseURL = db.settings.database
        dump = subprocess.run(
            ["pg_dump", "-h", url.host, "-p", str(url.port), "-U", url.user, "-d", url.database],
            capture_output=True,
            check=True,
            env=os.environ | ({"PGPASSWORD": url.password} if url.password else {}),
        ).stdout
        assert b"Canary" in dump  # the dump did include the row
    else:
        path = db.settings.database.path
        dump = b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))
        assert b"Canary" in dump
    for needle in (CANARY_PHONE, CANARY_PHONE[3:], CANARY_EMAIL, "canary.zhou"):
        assert needle.encode() not in dump
    assert CANARY_PHONE not in caplog.text and CANARY_EMAIL not in caplog.text


def test_logging_filter_masks_records(caplog):
    logger = logging.getLogger("mendian.test")
    handler = logging.Handler()
    records = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(MaskingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("customer %s wrote from %s", "13912347777", "li@example.com")
    finally:
        logger.removeHandler(handler)
    assert records[0].getMessage() == "customer 139****7777 wrote from l***@example.com"
