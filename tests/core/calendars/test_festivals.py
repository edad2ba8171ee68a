import datetime as dt

import pytest

from core.calendars import BUILTIN_FESTIVALS, FestivalCalendar
from core.calendars.festivals import (
    Festival,
    Fixed,
    LunarRule,
    LunarYearEnd,
    Monthly,
    NthWeekday,
    SolarTermRule,
    parse_rule,
    rule_dates,
)
from core.errors import ValidationFailed

D = dt.date


def codes_on(cal: FestivalCalendar, day: dt.date) -> list[str]:
    return [o.code for o in cal.on(day)]


def test_builtin_festivals_2026():
    cal = FestivalCalendar()
    expected = {
        "new_year": D(2026, 1, 1),
        "valentines_day": D(2026, 2, 14),
        "new_years_eve": D(2026, 2, 16),
        "spring_festival": D(2026, 2, 17),
        "lantern_festival": D(2026, 3, 3),
        "womens_day": D(2026, 3, 8),
        "qingming": D(2026, 4, 5),
        "labour_day": D(2026, 5, 1),
        "mothers_day": D(2026, 5, 10),
        "childrens_day": D(2026, 6, 1),
        "dragon_boat": D(2026, 6, 19),
        "fathers_day": D(2026, 6, 21),
        "qixi": D(2026, 8, 19),
        "mid_autumn": D(2026, 9, 25),
        "national_day": D(2026, 10, 1),
        "double_ninth": D(2026, 10, 18),
    }
    for code, day in expected.items():
        assert cal.occurrences(code, D(2026, 1, 1), D(2026, 12, 31)) == [day], code
        assert code in codes_on(cal, day)
    # 腊八 of lunar 2025 fell in January 2026, and 腊八 of lunar 2026 falls in January 2027.
    assert cal.occurrences("laba", D(2026, 1, 1), D(2026, 12, 31)) == [D(2026, 1, 26)]
    assert codes_on(cal, D(2026, 2, 16)) == ["new_years_eve"]
    assert cal.on(D(2026, 2, 16))[0].name_zh == "除夕"
    assert cal.on(D(2026, 9, 25))[0].name_en == "Mid-Autumn Festival"


def test_new_years_eve_is_the_last_lunar_day():
    cal = FestivalCalendar()
    assert cal.occurrences("new_years_eve", D(2024, 1, 1), D(2024, 12, 31)) == [D(2024, 2, 9)]
    assert cal.occurrences("new_years_eve", D(2026, 1, 1), D(2027, 12, 31)) == [
        D(2026, 2, 16),
        D(2027, 2, 5),
    ]


def test_codes_and_names_are_unique_and_complete():
    codes = [f.code for f in BUILTIN_FESTIVALS]
    assert len(codes) == len(set(codes)) == 17
    assert all(f.name_zh and f.name_en for f in BUILTIN_FESTIVALS)


def test_tenant_rules():
    member_day = Festival("member_day", "会员日", "Member day", Monthly(18), builtin=False)
    month_end = Festival("month_end", "月末", "Month end", Monthly(31), builtin=False)
    anniversary = Festival(
        "anniversary",
        "店庆",
        "Store anniversary",
        Fixed(9, 9),
        builtin=False,
        valid_from=D(2026, 1, 1),
    )
    winter = Festival("winter", "冬至", "Winter solstice", SolarTermRule("冬至"), builtin=False)
    lunar_30 = Festival("l30", "三十", "", LunarRule(12, 30), builtin=False)
    cal = FestivalCalendar([member_day, month_end, anniversary, winter, lunar_30])
    assert len(cal.occurrences("member_day", D(2026, 1, 1), D(2026, 12, 31))) == 12
    assert cal.occurrences("month_end", D(2026, 1, 1), D(2026, 4, 30)) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
    ]
    assert cal.occurrences("anniversary", D(2025, 1, 1), D(2027, 12, 31)) == [
        D(2026, 9, 9),
        D(2027, 9, 9),
    ]
    assert cal.occurrences("winter", D(2026, 1, 1), D(2026, 12, 31)) == [D(2026, 12, 22)]
    # 腊月 of lunar 2025 has 29 days: a "30th" rule falls on its last day.
    assert cal.occurrences("l30", D(2026, 1, 1), D(2026, 12, 31)) == [D(2026, 2, 16)]
    # 重阳 and a 会员日 can share a day: built-in ones come first.
    assert codes_on(cal, D(2026, 10, 18)) == ["double_ninth", "member_day"]
    assert cal.next("member_day", D(2026, 12, 19)) == D(2027, 1, 18)


def test_rule_kinds():
    assert rule_dates(NthWeekday(11, 4, 4), 2026) == [D(2026, 11, 26)]  # Thanksgiving
    assert rule_dates(NthWeekday(5, 1, -1), 2026) == [D(2026, 5, 25)]  # last Monday of May
    assert rule_dates(NthWeekday(2, 7, 5), 2026) == []  # no fifth Sunday in February 2026
    assert rule_dates(Fixed(2, 29), 2026) == [D(2026, 2, 28)]
    assert rule_dates(Fixed(2, 29), 2028) == [D(2028, 2, 29)]
    assert rule_dates(LunarYearEnd(), 2026) == [D(2026, 2, 16)]
    assert rule_dates(LunarRule(8, 15), 1) == []  # no lunar data there: nothing, no error
    assert rule_dates(SolarTermRule("清明"), 9999) == []


def test_parse_rule_names_the_field():
    assert parse_rule({"kind": "monthly", "day": 18}) == Monthly(18)
    assert parse_rule({"kind": "nth_weekday", "month": 5, "weekday": 7, "n": 2}) == NthWeekday(
        5, 7, 2
    )
    for raw, field in [
        ({"kind": "monthly", "day": 32}, "rule.day"),
        ({"kind": "fixed", "month": 2, "day": 30}, "rule"),
        ({"kind": "weekly"}, "rule.kind"),
        ({"kind": "solar_term", "term": "春节"}, "rule"),
        ({"kind": "nth_weekday", "month": 5, "weekday": 7, "n": 0}, "rule"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            parse_rule(raw)
        assert err.value.field == field, raw


def test_between_validates_its_span():
    cal = FestivalCalendar()
    with pytest.raises(ValidationFailed) as err:
        cal.between(D(2026, 2, 1), D(2026, 1, 1))
    assert err.value.field == "end"
    with pytest.raises(ValidationFailed) as err:
        cal.occurrences("no_such", D(2026, 1, 1), D(2026, 2, 1))
    assert (err.value.field, err.value.code) == ("code", "not_found")
    # The whole supported range is answerable without an error.
    assert cal.on(D(1, 1, 1)) == cal.on(D(1, 1, 1))
    assert codes_on(cal, D(9999, 1, 1)) == ["new_year"]
