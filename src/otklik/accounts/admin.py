"""Staff administration. Only superusers grant rights; a supervisor manages the front line.

The limits (accounts.selectors.user_may_manage, assignable_roles) are enforced three
times over: the form a non-superuser gets has no privilege fields at all, the role field
offers only the roles he may assign, and `save_model` re-checks the saved row against the
database, so a crafted POST cannot get past a hidden field.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from otklik.accounts.models import ApiToken, Department, Role, Team, User
from otklik.accounts.selectors import PRIVILEGE_FIELDS, assignable_roles, user_may_manage

_CONTACT_CENTRE = (
    _("Contact centre"),
    {"fields": ("patronymic", "role", "team", "department", "time_zone")},
)

#: What a non-superuser sees and edits on a user: identity, contact-centre placement and
#: whether the account is active. No rights.
MANAGER_FIELDSETS = (
    (None, {"fields": ("username", "password")}),
    (_("Personal info"), {"fields": ("first_name", "last_name", "patronymic", "email")}),
    (_("Contact centre"), {"fields": ("role", "team", "department", "time_zone", "is_active")}),
    (_("Important dates"), {"fields": ("last_login", "date_joined")}),
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "last_name",
        "first_name",
        "role",
        "team",
        "department",
        "is_active",
    )
    list_filter = ("role", "team", "department", "is_active", "is_staff")
    fieldsets = (*BaseUserAdmin.fieldsets, _CONTACT_CENTRE)
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (
            _("Contact centre"),
            {"fields": ("first_name", "last_name", "role", "team", "department")},
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return MANAGER_FIELDSETS

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("last_login", "date_joined")

    def has_change_permission(self, request, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or user_may_manage(actor=request.user, target=obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or user_may_manage(actor=request.user, target=obj))

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            allowed = assignable_roles(actor=request.user)
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            _refuse_escalation(actor=request.user, user=obj, change=change)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not request.user.is_superuser and set(PRIVILEGE_FIELDS) & set(form.cleaned_data):
            raise PermissionDenied
        super().save_related(request, form, formsets, change)


def _refuse_escalation(*, actor: User, user: User, change: bool) -> None:
    """The last line: whatever the form let through, a non-superuser grants no rights."""
    before = User.objects.filter(pk=user.pk).first() if change else None
    if before is not None and not user_may_manage(actor=actor, target=before):
        raise PermissionDenied
    for name in ("is_staff", "is_superuser"):
        if getattr(user, name) != (getattr(before, name) if before else False):
            raise PermissionDenied
    if user.role not in assignable_roles(actor=actor):
        raise PermissionDenied


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token`; admin can only see and revoke."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request) -> bool:
        return False
