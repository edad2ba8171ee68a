"""The core's closed sets as GraphQL enums (API-3): clients get the values from the schema.

Each enum's values are the service layer's strings (``Gender.MALE.value == "male"``); a test
checks that every enum lists exactly the values its service ``Literal`` allows, so the two
cannot drift apart.
"""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = [
    "ActorKind",
    "BirthdayCalendar",
    "ConsentChannel",
    "ConsentPurpose",
    "ContactChannel",
    "CustomerSource",
    "CustomerStatus",
    "Gender",
    "KpiPeriod",
    "KpiTargetStatus",
    "LifecycleStage",
    "PurchaseKind",
    "SalesChannel",
    "TaskStatus",
    "ValueClass",
]


@strawberry.enum(description="A customer's gender, as they state it.")
class Gender(Enum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


@strawberry.enum(description="The calendar a customer keeps their birthday by (农历生日: lunar).")
class BirthdayCalendar(Enum):
    SOLAR = "solar"
    LUNAR = "lunar"


@strawberry.enum(description="How the customer record was obtained (CORE-5).")
class CustomerSource(Enum):
    REGISTRATION_FORM = "registration_form"
    MEMBERSHIP_CARD = "membership_card"
    QUESTIONNAIRE = "questionnaire"
    IMPORT = "import"
    POS = "pos"
    API = "api"


@strawberry.enum(description="Whether a customer record is in use.")
class CustomerStatus(Enum):
    ACTIVE = "active"
    MERGED = "merged"
    ERASED = "erased"


@strawberry.enum(description="Value class (分类): high value, regular, or potential.")
class ValueClass(Enum):
    HIGH_VALUE = "high_value"
    REGULAR = "regular"
    POTENTIAL = "potential"


@strawberry.enum(description="Where the customer is in their lifecycle (CORE-8).")
class LifecycleStage(Enum):
    PROSPECT = "prospect"
    FIRST_PURCHASE = "first_purchase"
    REPEAT = "repeat"
    LOYAL = "loyal"
    AT_RISK = "at_risk"
    CHURNED = "churned"


@strawberry.enum(description="A sale or a refund.")
class PurchaseKind(Enum):
    SALE = "sale"
    REFUND = "refund"


@strawberry.enum(description="Where a sale was made.")
class SalesChannel(Enum):
    POS = "pos"
    ONLINE = "online"
    MINI_PROGRAM = "mini_program"
    PHONE = "phone"
    OTHER = "other"


@strawberry.enum(description="How staff were in contact with a customer.")
class ContactChannel(Enum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    WECHAT = "wechat"
    IN_PERSON = "in_person"
    OTHER = "other"


@strawberry.enum(description="What a consent is for.")
class ConsentPurpose(Enum):
    MARKETING = "marketing"
    SURVEYS = "surveys"
    SERVICE = "service"


@strawberry.enum(description="The channel a consent covers (`ANY`: every channel).")
class ConsentChannel(Enum):
    SMS = "sms"
    EMAIL = "email"
    WECHAT = "wechat"
    PHONE = "phone"
    APP = "app"
    ANY = "any"


@strawberry.enum(description="Whether a follow-up task is still to do.")
class TaskStatus(Enum):
    OPEN = "open"
    DONE = "done"


@strawberry.enum(description="Who is calling: a staff member or an API key.")
class ActorKind(Enum):
    STAFF = "staff"
    API_KEY = "api_key"


@strawberry.enum(description="The length of a target's period.")
class KpiPeriod(Enum):
    MONTH = "month"
    WEEK = "week"


@strawberry.enum(description="Where a target stands.")
class KpiTargetStatus(Enum):
    UPCOMING = "upcoming"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MET = "met"
    MISSED = "missed"
