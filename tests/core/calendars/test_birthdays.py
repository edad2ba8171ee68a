import datetime as dt

from core.calendars import is_birthday, next_birthday, to_lunar
from core.context import CalendarPolicy

D = dt.date
MAR1 = CalendarPolicy(leap_day_birthday="mar1")
LEAP = CalendarPolicy(lunar_leap_birthday="leap")


def test_solar_birthday():
    assert next_birthday(D(1990, 6, 18), on_or_after=D(2026, 6, 1)) == D(2026, 6, 18)
    assert next_birthday(D(1990, 6, 18), on_or_after=D(2026, 6, 18)) == D(2026, 6, 18)
    assert next_birthday(D(1990, 6, 18), on_or_after=D(2026, 6, 19)) == D(2027, 6, 18)
    assert is_birthday(D(1990, 6, 18), D(2026, 6, 18))
    assert not is_birthday(D(1990, 6, 18), D(1990, 6, 18))  # the day of birth itself
    # Born later than asked: the first birthday is the first anniversary... of birth itself.
    assert next_birthday(D(2026, 8, 1), on_or_after=D(2026, 1, 1)) == D(2026, 8, 1)


def test_29_february():
    born = D(2000, 2, 29)
    assert next_birthday(born, on_or_after=D(2026, 1, 1)) == D(2026, 2, 28)
    assert next_birthday(born, on_or_after=D(2026, 1, 1), policy=MAR1) == D(2026, 3, 1)
    assert next_birthday(born, on_or_after=D(2028, 1, 1), policy=MAR1) == D(2028, 2, 29)
    assert is_birthday(born, D(2027, 2, 28))
    assert not is_birthday(born, D(2027, 3, 1))
    assert is_birthday(born, D(2027, 3, 1), policy=MAR1)


def test_lunar_birthday():
    # Born 1 October 1990 = 八月十三 of lunar 1990.
    born = D(1990, 10, 1)
    assert to_lunar(born).label == "八月十三"
    assert next_birthday(born, on_or_after=D(2026, 1, 1), calendar="lunar") == D(2026, 9, 23)
    assert to_lunar(D(2026, 9, 23)).label == "八月十三"
    assert next_birthday(born, on_or_after=D(2026, 9, 24), calendar="lunar") == D(2027, 9, 13)
    assert is_birthday(born, D(2026, 9, 23), calendar="lunar")
    assert not is_birthday(born, D(2026, 10, 1), calendar="lunar")


def test_lunar_birthday_early_in_the_year_belongs_to_the_previous_lunar_year():
    # 腊月二十 of lunar 1985 was 29 January 1986; in 2026 腊月二十 of lunar 2025 is 7 February.
    born = D(1986, 1, 29)
    assert to_lunar(born).label == "腊月二十"
    assert next_birthday(born, on_or_after=D(2026, 1, 1), calendar="lunar") == D(2026, 2, 7)
    assert next_birthday(born, on_or_after=D(2026, 2, 8), calendar="lunar") == D(2027, 1, 27)


def test_lunar_30th_in_a_short_month():
    # 腊月三十 (lunar 2023's last day, 9 Feb 2024); lunar 2025's 腊月 has 29 days.
    born = D(2024, 2, 9)
    assert to_lunar(born).label == "腊月三十"
    assert next_birthday(born, on_or_after=D(2025, 6, 1), calendar="lunar") == D(2026, 2, 16)


def test_leap_month_birthday_follows_the_tenant_setting():
    # Born 闰六月十五 of lunar 2025 (8 August 2025). 2026 has no leap month.
    born = D(2025, 8, 8)
    assert to_lunar(born).label == "闰六月十五"
    regular_2026 = next_birthday(born, on_or_after=D(2026, 1, 1), calendar="lunar")
    assert regular_2026 == D(2026, 7, 28)
    assert to_lunar(regular_2026).label == "六月十五"
    assert next_birthday(born, on_or_after=D(2026, 1, 1), calendar="lunar", policy=LEAP) == D(
        2026, 7, 28
    )
    # 2036 has 闰六月 again; 2044's leap month is the 7th.
    regular_2036 = next_birthday(born, on_or_after=D(2036, 1, 1), calendar="lunar")
    assert (regular_2036, to_lunar(regular_2036).label) == (D(2036, 7, 8), "六月十五")
    leap_2036 = next_birthday(born, on_or_after=D(2036, 1, 1), calendar="lunar", policy=LEAP)
    assert (leap_2036, to_lunar(leap_2036).label) == (D(2036, 8, 6), "闰六月十五")
    leap_2044 = next_birthday(born, on_or_after=D(2044, 1, 1), calendar="lunar", policy=LEAP)
    assert to_lunar(leap_2044).label == "六月十五"
