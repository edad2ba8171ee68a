"""Customer records (CORE-5)."""

from core.customers.merge import merge_customers
from core.customers.schemas import CustomerFilter, CustomerInput, CustomerPatch, CustomerView
from core.customers.service import (
    create_customer,
    find_by_phone,
    get_customer,
    search_customers,
    update_customer,
)

__all__ = [
    "CustomerFilter",
    "CustomerInput",
    "CustomerPatch",
    "CustomerView",
    "create_customer",
    "find_by_phone",
    "get_customer",
    "merge_customers",
    "search_customers",
    "update_customer",
]
