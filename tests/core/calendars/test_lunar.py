import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendars import (
    LunarDate,
    from_lunar,
    leap_month,
    lunar_month_days,
    lunar_year_end,
    solar_term_date,
    to_lunar,
)
from core.errors import ValidationFailed

D = dt.date


def test_new_years_eve_2026_is_the_29th_of_the_twelfth_month():
    assert to_lunar(D(2026, 2, 16)) == LunarDate(2025, 12, 29)
    assert to_lunar(D(2026, 2, 16)).label == "腊月廿九"
    assert lunar_year_end(2025) == D(2026, 2, 16)
    assert lunar_month_days(2025, 12) == 29
    assert to_lunar(D(2026, 2, 17)) == LunarDate(2026, 1, 1)
    assert to_lunar(D(2026, 2, 17)).label == "正月初一"


def test_new_years_eve_2024_is_the_30th():
    assert lunar_year_end(2023) == D(2024, 2, 9)
    assert to_lunar(D(2024, 2, 9)).label == "腊月三十"
    assert lunar_month_days(2023, 12) == 30


def test_leap_month_both_ways():
    # 2025 has a leap sixth month (闰六月): 29 days from 25 July 2025.
    assert leap_month(2025) == 6
    assert leap_month(2026) is None
    assert to_lunar(D(2025, 8, 8)) == LunarDate(2025, 6, 15, leap=True)
    assert to_lunar(D(2025, 8, 8)).label == "闰六月十五"
    assert from_lunar(2025, 6, 15, leap=True) == D(2025, 8, 8)
    assert from_lunar(2025, 6, 15) == D(2025, 7, 9)
    assert LunarDate(2025, 6, 15, leap=True).to_solar() == D(2025, 8, 8)
    # 2020 had 闰四月: 闰四月十五 was 6 June 2020.
    assert to_lunar(D(2020, 6, 6)).label == "闰四月十五"


def test_labels():
    assert LunarDate(2026, 11, 1).label == "冬月初一"
    assert LunarDate(2026, 1, 10).label == "正月初十"
    assert LunarDate(2026, 1, 20).label == "正月二十"
    assert LunarDate(2026, 3, 21).label == "三月廿一"
    assert LunarDate(2026, 8, 15).label == "八月十五"


def test_impossible_lunar_dates_are_validation_errors():
    with pytest.raises(ValidationFailed) as err:
        from_lunar(2026, 6, 1, leap=True)
    assert (err.value.field, err.value.code) == ("leap", "no_leap_month")
    with pytest.raises(ValidationFailed) as err:
        from_lunar(2025, 12, 30)
    assert (err.value.field, err.value.code) == ("day", "out_of_range")
    with pytest.raises(ValidationFailed) as err:
        from_lunar(2026, 13, 1)
    assert err.value.field == "month"


def test_qingming_is_a_solar_term():
    assert solar_term_date(2026, "清明") == D(2026, 4, 5)
    assert solar_term_date(2025, "清明") == D(2025, 4, 4)
    # 冬至 of December 2026 (tyme4py counts it into 2027's cycle).
    assert solar_term_date(2026, "冬至") == D(2026, 12, 22)
    with pytest.raises(ValidationFailed):
        solar_term_date(2026, "春节")


def test_far_years_convert_and_edges_are_typed_errors():
    assert to_lunar(D(2100, 1, 1)).year == 2099
    assert to_lunar(D(1900, 1, 31)) == LunarDate(1900, 1, 1)
    for day in (D(1, 1, 1), D(9999, 12, 31)):
        with pytest.raises(ValidationFailed) as err:
            to_lunar(day)
        assert err.value.code == "out_of_range"


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=D(1901, 1, 1), max_value=D(2199, 12, 31)))
def test_table_conversion_matches_the_library(day):
    """The cached per-year table answers exactly what tyme4py's own conversion does."""
    from tyme4py.solar import SolarDay

    expected = SolarDay.from_ymd(day.year, day.month, day.day).get_lunar_day()
    got = to_lunar(day)
    month = expected.get_lunar_month()
    assert (got.year, got.month, got.day, got.leap) == (
        expected.get_year(),
        abs(month.get_month_with_leap()),
        expected.get_day(),
        month.is_leap(),
    )
    assert got.to_solar() == day
