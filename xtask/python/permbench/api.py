"""The seed article's endpoint, as django-fastapi-bridge 0.2's README writes
it: every permission as `{"pk": .., "name": ..}` in Django's default
`Permission` ordering, a sync handler and an async one.

The bridge imports this module at startup (its autodiscovery of `api`).
"""
from django.contrib.auth.models import Permission
from pydantic import BaseModel

from django_fastapi.registry import get_default_api

api = get_default_api()


class PermissionResource(BaseModel):
    pk: int
    name: str


class PermissionListResource(BaseModel):
    items: list[PermissionResource]


@api.get("/permissions", response_model=PermissionListResource)
def permissions_list():
    queryset = Permission.objects.all()
    items = [{"pk": obj.pk, "name": obj.name} for obj in queryset]
    return PermissionListResource(items=items)


@api.get("/async/permissions", response_model=PermissionListResource)
async def permissions_list_async():
    queryset = Permission.objects.all()
    items = [{"pk": obj.pk, "name": obj.name} async for obj in queryset]
    return PermissionListResource(items=items)
