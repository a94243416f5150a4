"""Writes for staff accounts."""

from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import ApiToken, User


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns the row and the raw token (shown once)."""
    raw, key_hash = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, key_hash=key_hash, prefix=raw[4:12])
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    """Return the active user owning `raw`, or None. Touches last use at most once a minute."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__team", "user__department")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


#: What a supervisor configures in the admin: the desk's reference data and its staff.
SUPERVISOR_CONFIG_MODELS = (
    ("accounts", "user"),
    ("accounts", "team"),
    ("accounts", "department"),
    ("cases", "topic"),
    ("sla", "slapolicy"),
    ("sla", "businesscalendar"),
    ("sla", "calendarday"),
    ("audit", "auditrecord"),
)
SUPERVISOR_GROUP = "Supervisors"


@transaction.atomic
def supervisor_grant_admin(*, user: User):
    """Let a supervisor configure topics, teams, departments, users, roles and SLAs in admin.

    The permissions live on one group so an admin can widen or narrow them in one place.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    codenames = Permission.objects.none()
    for app_label, model in SUPERVISOR_CONFIG_MODELS:
        codenames |= Permission.objects.filter(
            content_type__app_label=app_label, content_type__model=model
        )
    group.permissions.set(codenames)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return group
