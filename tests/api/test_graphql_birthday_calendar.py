"""``Customer.birthdayCalendar`` and ``CustomerFields.birthdayCalendar`` over GraphQL."""

import pytest

pytestmark = pytest.mark.usefixtures("db")

CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    customer { id birthday birthdayCalendar } errors { field code message }
  }
}"""


async def test_birthday_calendar_round_trip(api, tenant, make_key):
    key = await make_key(tenant)
    created = await api.gql(
        CREATE,
        {"input": {"name": "王芳", "birthday": "1990-10-01", "birthdayCalendar": "LUNAR"}},
        key=key,
    )
    payload = created["data"]["customerCreate"]
    assert payload["errors"] == []
    assert (payload["customer"]["birthday"], payload["customer"]["birthdayCalendar"]) == (
        "1990-10-01",
        "LUNAR",
    )
    refused = await api.gql(CREATE, {"input": {"name": "x", "birthdayCalendar": "MOON"}}, key=key)
    assert refused["data"] is None  # an enum: the value is not in the schema
    assert refused["errors"][0]["extensions"]["code"] == "invalid_input"
