"""The platform operator's admin REST API (API-6, API-7): ``/admin/…``.

Tenants, their modules (plugins) and API keys, and the installed plugins. Every route needs
``Authorization: Bearer <MENDIAN_ADMIN_TOKEN>`` and acts as ``Actor(kind="platform", id="admin")``;
the services do the work and the auditing. Errors are ``{"errors": [{field, code, message}]}``
with a 4xx status: bad input is never a 5xx. Mount :data:`admin_router` and pass
:data:`admin_exception_handlers` (app-wide) and :data:`admin_openapi_components` (the bearer
security scheme) to the app. The plugin runtime comes from the app's state (``state.runtime``).
"""

from litestar import Router

from api.admin._http import (
    admin_exception_handlers,
    admin_guard,
    admin_openapi_components,
    check_body,
)
from api.admin.calendar import (
    calendar_coverage_get,
    calendar_day_remove,
    calendar_day_set,
    calendar_schedule_load,
    calendar_schedule_remove,
)
from api.admin.modules import module_set, plugin_list
from api.admin.schemas import SECURITY_SCHEME
from api.admin.tenants import (
    api_key_create,
    api_key_list,
    api_key_revoke,
    tenant_activate,
    tenant_create,
    tenant_get,
    tenant_list,
    tenant_suspend,
)

__all__ = ["admin_exception_handlers", "admin_openapi_components", "admin_router"]

admin_router = Router(
    path="/admin",
    before_request=check_body,
    route_handlers=[
        tenant_create,
        tenant_list,
        tenant_get,
        tenant_suspend,
        tenant_activate,
        module_set,
        api_key_create,
        api_key_list,
        api_key_revoke,
        plugin_list,
        calendar_schedule_load,
        calendar_schedule_remove,
        calendar_day_set,
        calendar_day_remove,
        calendar_coverage_get,
    ],
    guards=[admin_guard],
    exception_handlers=admin_exception_handlers,
    security=[{SECURITY_SCHEME: []}],
    tags=["admin"],
)
