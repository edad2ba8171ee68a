"""Customer input and output shapes (msgspec), validated at the service boundary."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = [
    "SOURCES",
    "CustomerFilter",
    "CustomerInput",
    "CustomerPatch",
    "CustomerView",
]

Gender = Literal["male", "female", "other", "unknown"]
# Which calendar the customer keeps the birthday by (农历生日: lunar); ``birthday`` is always
# the Gregorian date of birth.
BirthdayCalendar = Literal["solar", "lunar"]
Source = Literal["registration_form", "membership_card", "questionnaire", "import", "pos", "api"]
SOURCES: tuple[str, ...] = Source.__args__  # type: ignore[attr-defined]
Name = Annotated[str, Meta(max_length=200)]
Short = Annotated[str, Meta(max_length=200)]
Tag = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\s,][^,]*$")]
Tags = Annotated[list[Tag], Meta(max_length=50)]
Notes = Annotated[str, Meta(max_length=5000)]
CardNo = Annotated[str, Meta(min_length=1, max_length=64)]
Contact = Annotated[str, Meta(max_length=320)]


class CustomerInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name = ""
    phone: Contact | None = None
    email: Contact | None = None
    gender: Gender = "unknown"
    birthday: dt.date | None = None
    birthday_calendar: BirthdayCalendar = "solar"
    company: Short = ""
    position: Short = ""
    address: Annotated[str, Meta(max_length=500)] = ""
    tags: Tags = []
    notes: Notes = ""
    attributes: dict[str, Any] = {}
    source: Source = "pos"
    card_no: CardNo | None = None
    home_store_id: UUID | None = None
    assigned_staff_id: UUID | None = None


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields present are changed; ``null`` clears an optional field."""

    name: Name | UnsetType = UNSET
    phone: Contact | UnsetType | None = UNSET
    email: Contact | UnsetType | None = UNSET
    gender: Gender | UnsetType = UNSET
    birthday: dt.date | UnsetType | None = UNSET
    birthday_calendar: BirthdayCalendar | UnsetType = UNSET
    company: Short | UnsetType = UNSET
    position: Short | UnsetType = UNSET
    address: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    attributes: dict[str, Any] | UnsetType = UNSET
    card_no: CardNo | UnsetType | None = UNSET
    home_store_id: UUID | UnsetType | None = UNSET
    assigned_staff_id: UUID | UnsetType | None = UNSET


class CustomerFilter(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    phone: Contact | None = None
    name_prefix: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    tag: Tag | None = None
    card_no: CardNo | None = None
    home_store_id: UUID | None = None
    value_class: Literal["high_value", "regular", "potential"] | None = None
    segment_id: UUID | None = None


class CustomerView(msgspec.Struct, kw_only=True):
    """A customer as returned to callers; ``phone``/``email`` are masked unless unmasked."""

    id: UUID
    name: str
    phone: str | None
    email: str | None
    gender: str
    birthday: dt.date | None
    birthday_calendar: str
    company: str
    position: str
    address: str
    tags: list[str]
    notes: str
    attributes: dict[str, Any]
    source: str
    card_no: str | None
    home_store_id: UUID | None
    assigned_staff_id: UUID | None
    status: str
    merged_into_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
