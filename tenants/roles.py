"""Built-in roles and their permissions (CORE-3). Plugins add permissions through hooks."""

from __future__ import annotations

__all__ = ["BUILTIN_ROLES", "CORE_PERMISSIONS"]

CORE_PERMISSIONS: dict[str, str] = {
    "customers:read": "Look up and list customers (masked phone/email)",
    "customers:read_pii": "See unmasked phone and email (audited)",
    "customers:write": "Create and update customers",
    "customers:merge": "Merge duplicate customers",
    "customers:export": "Export everything held about a customer (audited)",
    "customers:erase": "Erase a customer's personal data (audited)",
    "customers:import": "Bulk import customers",
    "purchases:read": "Read purchases",
    "purchases:write": "Record purchases",
    "purchases:refund": "Record refunds",
    "interactions:read": "Read the contact log",
    "interactions:write": "Log contacts",
    "tasks:read": "Read follow-up tasks",
    "tasks:write": "Create and complete follow-up tasks and revisit plans",
    "consent:write": "Record and withdraw consent",
    "segments:read": "Read segments",
    "segments:write": "Create and change segments",
    "kpis:read": "Read KPIs and reports",
    "stores:read": "List stores",
    "stores:write": "Create and change stores",
    "staff:read": "List staff",
    "staff:write": "Create staff and change roles (audited)",
    "keys:write": "Create and revoke API keys (audited)",
    "modules:write": "Enable and disable modules (audited)",
    "audit:read": "Read the audit log",
    "calendar:manage": "Set business hours, holiday overrides, festivals and calendar settings",
    "kpis:write": "Set and remove KPI targets (audited)",
    "webhooks:write": "See and manage the tenant's webhook subscriptions (audited)",
}

_READ = {"customers:read", "purchases:read", "interactions:read", "tasks:read", "stores:read"}

# The surveys plugin's permissions (plugins/surveys): HQ runs surveys; store managers read
# their stores' results, invite and take answers; front desk and service agents take answers
# by phone or at the counter (电话回访); integrations read results and record answers.
_SURVEYS_ALL = {
    "surveys:read",
    "surveys:write",
    "surveys:invite",
    "surveys:record",
    "surveys:export",
}

# The care plugin's permissions (plugins/care): HQ runs and approves campaigns; store managers
# read them and their results.
_CARE_ALL = {"care:read", "care:write", "care:send", "care:approve"}

# The complaints plugin's permissions (plugins/complaints): HQ and store managers handle,
# assign and transfer; service agents take and handle; cashiers register at the counter.
_COMPLAINTS_ALL = {
    "complaints:read",
    "complaints:create",
    "complaints:handle",
    "complaints:assign",
    "complaints:read_contact",
}

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "owner": ("Owner", frozenset({"*"})),
    "hq_manager": (
        "HQ manager",
        (frozenset(CORE_PERMISSIONS) - {"keys:write", "modules:write"})
        | _SURVEYS_ALL
        | _CARE_ALL
        | _COMPLAINTS_ALL,
    ),
    "store_manager": (
        "Store manager",
        frozenset(
            _READ
            | {
                "customers:write",
                "customers:merge",
                "customers:import",
                "purchases:write",
                "purchases:refund",
                "interactions:write",
                "tasks:write",
                "consent:write",
                "segments:read",
                "kpis:read",
                "staff:read",
                "surveys:read",
                "surveys:invite",
                "surveys:record",
                "surveys:export",
                "care:read",
            }
            | _COMPLAINTS_ALL
        ),
    ),
    "cashier": (
        "Cashier / front desk",
        frozenset(
            {
                "customers:read",
                "customers:write",
                "purchases:read",
                "purchases:write",
                "consent:write",
                "interactions:write",
                "stores:read",
                "surveys:record",
                "complaints:create",
            }
        ),
    ),
    "service_agent": (
        "Service agent",
        frozenset(
            _READ
            | {
                "customers:write",
                "interactions:write",
                "tasks:write",
                "consent:write",
                "surveys:read",
                "surveys:record",
                "complaints:read",
                "complaints:create",
                "complaints:handle",
            }
        ),
    ),
    "integration": (
        "Integration (API key)",
        frozenset(
            _READ
            | {
                "customers:write",
                "purchases:write",
                "purchases:refund",
                "consent:write",
                "interactions:write",
                "segments:read",
                "surveys:read",
                "surveys:record",
                "complaints:read",
                "complaints:create",
            }
        ),
    ),
}
