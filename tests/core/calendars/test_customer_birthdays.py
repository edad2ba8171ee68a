"""The customer's ``birthday_calendar`` (solar | lunar) through the customer services."""

import datetime as dt

import pytest

from core.calendars import next_birthday
from core.customers import create_customer, get_customer, merge_customers, update_customer
from core.db import tenant_tx
from core.errors import ValidationFailed
from core.privacy import erase_customer
from core.tables import Customer


async def test_default_is_solar_and_lunar_is_kept(tenant, owner):
    plain = await create_customer(tenant, owner, {"name": "A", "birthday": "1990-10-01"})
    assert plain.birthday_calendar == "solar"
    lunar = await create_customer(
        tenant, owner, {"name": "B", "birthday": "1990-10-01", "birthday_calendar": "lunar"}
    )
    assert lunar.birthday_calendar == "lunar"
    assert (await get_customer(tenant, owner, lunar.id)).birthday_calendar == "lunar"
    assert next_birthday(
        lunar.birthday, on_or_after=dt.date(2026, 1, 1), calendar=lunar.birthday_calendar
    ) == dt.date(2026, 9, 23)
    changed = await update_customer(tenant, owner, plain.id, {"birthday_calendar": "lunar"})
    assert (changed.birthday_calendar, changed.birthday) == ("lunar", dt.date(1990, 10, 1))
    back = await update_customer(tenant, owner, plain.id, {"birthday_calendar": "solar"})
    assert back.birthday_calendar == "solar"


async def test_invalid_values_are_refused_and_nothing_changes(tenant, owner):
    with pytest.raises(ValidationFailed) as err:
        await create_customer(tenant, owner, {"name": "C", "birthday_calendar": "moon"})
    assert err.value.field == "birthday_calendar"
    with pytest.raises(ValidationFailed) as err:
        await create_customer(
            tenant, owner, {"name": "D", "birthday": "0001-01-01", "birthday_calendar": "lunar"}
        )
    assert (err.value.field, err.value.code) == ("birthday", "out_of_range")
    async with tenant_tx(tenant.id, write=False):
        assert await Customer.count() == 0
    with pytest.raises(ValidationFailed) as err:  # a birthday lies between 1900 and today
        await create_customer(tenant, owner, {"name": "E", "birthday": "0001-01-01"})
    assert (err.value.field, err.value.code) == ("birthday", "out_of_range")
    c = await create_customer(tenant, owner, {"name": "E", "birthday": "1950-01-01"})
    with pytest.raises(ValidationFailed) as err:
        await update_customer(tenant, owner, c.id, {"birthday_calendar": None})
    assert err.value.field == "birthday_calendar"
    assert (await get_customer(tenant, owner, c.id)).birthday_calendar == "solar"


async def test_merge_carries_the_calendar_with_the_birthday(tenant, owner):
    source = await create_customer(
        tenant, owner, {"name": "S", "birthday": "1985-03-03", "birthday_calendar": "lunar"}
    )
    target = await create_customer(tenant, owner, {"name": "T"})
    merged = await merge_customers(tenant, owner, source.id, target.id)
    assert (merged.birthday, merged.birthday_calendar) == (dt.date(1985, 3, 3), "lunar")


async def test_erasure_resets_it(tenant, owner):
    c = await create_customer(
        tenant, owner, {"name": "Z", "birthday": "1985-03-03", "birthday_calendar": "lunar"}
    )
    await erase_customer(tenant, owner, c.id)
    erased = await get_customer(tenant, owner, c.id)
    assert (erased.birthday, erased.birthday_calendar) == (None, "solar")
