import pytest

from core.calendars import BusinessHours, parse_business_hours
from core.calendars.hours import Schedule
from core.errors import ValidationFailed


def test_valid_hours_are_normalised():
    hours = parse_business_hours(
        {
            "mon": ["09:00-12:00", {"start": "13:00", "end": "18:00"}],
            "fri": ["18:00 - 02:00"],
            "sat": ["10:00-24:00"],
            "holiday_policy": "closed",
        }
    )
    assert hours == BusinessHours(
        mon=("09:00-12:00", "13:00-18:00"),
        fri=("18:00-02:00",),
        sat=("10:00-24:00",),
        holiday_policy="closed",
    )
    assert hours.as_json() == {
        "mon": ["09:00-12:00", "13:00-18:00"],
        "fri": ["18:00-02:00"],
        "sat": ["10:00-24:00"],
        "holiday_policy": "closed",
    }
    schedule = Schedule.from_hours(hours)
    assert schedule.week[0] == ((540, 720), (780, 1080))
    assert schedule.week[4] == ((1080, 1560),)  # crosses midnight
    assert schedule.week[5] == ((600, 1440),)
    assert schedule.week[6] == ()
    assert parse_business_hours(hours.as_json()) == hours


def test_empty_means_not_configured():
    assert parse_business_hours({}) is None
    assert parse_business_hours(None) is None
    closed_all_week = parse_business_hours({"mon": []})
    assert closed_all_week == BusinessHours()
    assert Schedule.from_hours(closed_all_week).never_open


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"mon": ["9:00-12:00"]}, "business_hours.mon[0]", "invalid_time"),
        ({"mon": ["09:00-12:60"]}, "business_hours.mon[0]", "invalid_time"),
        ({"mon": ["24:00-02:00"]}, "business_hours.mon[0]", "invalid_time"),
        ({"mon": ["09:00-24:30"]}, "business_hours.mon[0]", "invalid_time"),
        ({"mon": ["09:00-09:00"]}, "business_hours.mon[0]", "invalid_time"),
        ({"tue": ["09:00"]}, "business_hours.tue[0]", "invalid_time"),
        ({"tue": [9]}, "business_hours.tue[0]", "invalid_time"),
        ({"wed": "09:00-18:00"}, "business_hours.wed", "invalid"),
        ({"mon": ["09:00-12:00", "11:00-14:00"]}, "business_hours.mon[1]", "overlap"),
        (
            {"mon": ["08:00-20:00", "09:00-10:00", "11:00-12:00"]},
            "business_hours.mon[1]",
            "overlap",
        ),
        ({"mon": ["18:00-02:00"], "tue": ["01:00-09:00"]}, "business_hours.tue[0]", "overlap"),
        ({"sun": ["20:00-03:00"], "mon": ["02:00-09:00"]}, "business_hours.mon[0]", "overlap"),
        ({"holiday": ["18:00-03:00", "02:00-04:00"]}, "business_hours.holiday[1]", "overlap"),
        ({"holiday_policy": "sometimes"}, "business_hours.holiday_policy", "invalid"),
        ({"makeup_day": "someday"}, "business_hours.makeup_day", "invalid"),
        ({"monday": ["09:00-18:00"]}, "business_hours.monday", "invalid"),
        ([], "business_hours", "invalid"),
    ],
)
def test_invalid_hours_name_the_field(raw, field, code):
    with pytest.raises(ValidationFailed) as err:
        parse_business_hours(raw)
    assert (err.value.field, err.value.code) == (field, code)


def test_every_error_is_reported():
    with pytest.raises(ValidationFailed) as err:
        parse_business_hours({"mon": ["bad", "09:00-10:00"], "tue": ["25:00-26:00"]})
    assert [e.field for e in err.value.errors] == ["business_hours.mon[0]", "business_hours.tue[0]"]


def test_adjacent_periods_are_fine():
    hours = parse_business_hours(
        {"mon": ["00:00-12:00", "12:00-24:00"], "tue": ["00:00-24:00"], "sun": ["18:00-00:00"]}
    )
    assert hours is not None
    # Sunday 18:00-00:00 ends at midnight exactly; 00:00 as an end means the next midnight.
    assert Schedule.from_hours(hours).week[6] == ((1080, 1440),)
