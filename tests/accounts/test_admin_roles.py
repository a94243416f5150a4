"""Every admin page × every staff role, and the ways a supervisor might elevate himself.

The table walks `admin.site._registry`, so a model registered later is covered at once:
supervisors get 403 on it until it is added to SUPERVISOR_PAGES below on purpose.
"""

import itertools
from datetime import date, time

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.urls import reverse
from django.utils import timezone

from otklik.accounts.models import Role, User
from otklik.accounts.services import SUPERVISOR_GROUP, supervisor_grant_admin
from tests.factories import UserFactory

PAGES = ("changelist", "add", "change", "delete")
OK, DENIED, LOGIN = 200, 403, "login"

#: What a supervisor may open, per model and page; anything not listed is 403.
SUPERVISOR_PAGES: dict[str, dict[str, int]] = {
    "accounts.user": dict.fromkeys(PAGES, OK),  # on an operator; other targets below
    "accounts.team": dict.fromkeys(PAGES, OK),
    "accounts.department": dict.fromkeys(PAGES, OK),
    "cases.topic": dict.fromkeys(PAGES, OK),
    "sla.slapolicy": dict.fromkeys(PAGES, OK),
    "sla.businesscalendar": dict.fromkeys(PAGES, OK),
    # The access log is read-only for everyone.
    "audit.auditrecord": {"changelist": OK, "add": DENIED, "change": OK, "delete": DENIED},
}
#: Users a supervisor may look at but never change or delete: a peer, a superuser, himself.
PROTECTED_USERS = ("vera", "root", "sue")
for _target in PROTECTED_USERS:
    SUPERVISOR_PAGES[f"accounts.user[{_target}]"] = {"change": OK, "delete": DENIED}
#: What even a superuser may not do: rows written only by the system.
SUPERUSER_DENIED: dict[str, set[str]] = {
    "jobs.taskresult": {"add", "delete"},  # the task queue, shown through a Russian proxy
    "accounts.apitoken": {"add"},
    "audit.auditrecord": {"add", "delete"},
    "notifications.outbox": {"add"},
    "sla.deadline": {"add", "delete"},
    "retention.retentionrun": {"add", "delete"},
    # Made only through their workflows (from a case, a contact, a redacted copy).
    "proposals.proposal": {"add"},
    "quality.evaluation": {"add"},
    "library.story": {"add"},
}
#: Roles without admin access: every page sends them to the admin's login.
NO_ADMIN = ("alice", "olga", "tom", "pavel", "anonymous")

_seq = itertools.count(1)


def _value_for(field: models.Field, now):
    """A valid value for a required field of an unknown model (for one row per model)."""
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey):
        return _one_row(field.related_model, now)
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.DateTimeField):
        return now
    if isinstance(field, models.DateField):
        return date.today()
    if isinstance(field, models.TimeField):
        return time(9)
    if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
        return 1
    if isinstance(field, models.BooleanField):
        return False
    return f"x{next(_seq)}"[: field.max_length or 40]


def _one_row(model, now):
    """Any row of `model`, creating one from required fields if there is none."""
    row = model._default_manager.first()
    if row is not None:
        return row
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default():
            continue
        if field.blank and not isinstance(field, models.ForeignKey):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        values[field.name] = _value_for(field, now)
    return model._default_manager.create(**values)


@pytest.fixture
def staff(cast):
    """The cast plus a supervisor with the demo's admin rights and a superuser admin."""
    supervisor_grant_admin(user=cast.sue)
    vera = UserFactory(username="vera", role=Role.SUPERVISOR)
    supervisor_grant_admin(user=vera)
    root = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    return {
        "alice": cast.alice,
        "olga": cast.olga,
        "tom": cast.tom,
        "pavel": cast.pavel,
        "sue": cast.sue,
        "root": root,
        "bob": cast.bob,
        "vera": vera,
        "anonymous": None,
    }


def _url(model, page: str, obj) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}"
    return reverse(name, args=[obj.pk] if page in ("change", "delete") else [])


def _expected(role: str, label: str, page: str):
    if role in NO_ADMIN:
        return LOGIN
    if role == "root":
        return DENIED if page in SUPERUSER_DENIED.get(label, set()) else OK
    return SUPERVISOR_PAGES.get(label, {}).get(page, DENIED)


@pytest.mark.parametrize("role", ["alice", "olga", "tom", "pavel", "sue", "root", "anonymous"])
def test_every_admin_page_answers_each_role_as_the_table_says(staff, client, role):
    now = timezone.now()
    rows = [
        (model._meta.label_lower, model, _one_row(model, now)) for model in admin.site._registry
    ]
    rows = [row for row in rows if row[1] is not User]
    rows.append(("accounts.user", User, staff["bob"]))  # a user the supervisor may manage
    rows += [(f"accounts.user[{t}]", User, staff[t]) for t in PROTECTED_USERS]
    if staff[role] is not None:
        client.force_login(staff[role])
    wrong = []
    for label, model, obj in rows:
        for page in PAGES if "[" not in label else ("change", "delete"):
            url = _url(model, page, obj)
            response = client.get(url)
            expected = _expected(role, label, page)
            if expected == LOGIN:
                got_login = response.status_code == 302 and "/admin/login/" in response["Location"]
                if not got_login:
                    wrong.append((label, page, response.status_code, "login redirect"))
            elif response.status_code != expected:
                wrong.append((label, page, response.status_code, expected))
    assert not wrong, f"{role}: (model, page, got, expected): {wrong}"


# --- a supervisor cannot elevate himself or anyone else -------------------------------


def _user_form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "patronymic": user.patronymic,
        "email": user.email,
        "role": user.role,
        "team": user.team_id or "",
        "department": user.department_id or "",
        "is_active": "on",
    }
    data.update(changes)
    return data


def _change(client, user: User, **changes):
    url = reverse("admin:accounts_user_change", args=[user.pk])
    return client.post(url, _user_form(user, **changes))


@pytest.fixture
def sue_in_admin(staff, client):
    client.force_login(staff["sue"])
    return client


def _rights(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.is_superuser,
        user.is_staff,
        user.role,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


def test_supervisor_cannot_make_himself_superuser(staff, sue_in_admin):
    sue = staff["sue"]
    before = _rights(sue)
    response = _change(sue_in_admin, sue, is_superuser="on", is_staff="on", role=Role.ADMIN)
    assert response.status_code == 403
    assert _rights(sue) == before and not sue.is_superuser


def test_supervisor_edits_an_operator_but_privilege_fields_are_ignored(staff, sue_in_admin):
    bob = staff["bob"]
    group = Group.objects.get(name=SUPERVISOR_GROUP)
    permission = Permission.objects.get(codename="view_outbox")
    response = _change(
        sue_in_admin,
        bob,
        first_name="Борис",
        role=Role.SENIOR_OPERATOR,
        team=staff["alice"].team_id,
        is_superuser="on",
        is_staff="on",
        groups=[group.pk],
        user_permissions=[permission.pk],
    )
    assert response.status_code == 302
    assert _rights(bob) == (False, False, Role.SENIOR_OPERATOR, [], [])
    assert (bob.first_name, bob.team_id) == ("Борис", staff["alice"].team_id)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisor_cannot_promote_to_his_rank_or_above(staff, sue_in_admin, role):
    bob = staff["bob"]
    response = _change(sue_in_admin, bob, role=role)
    assert response.status_code == 200  # the form again, with an error on "role"
    assert "role" in response.context["adminform"].form.errors
    assert _rights(bob)[2] == Role.OPERATOR


@pytest.mark.parametrize("target", ["vera", "root", "sue"])
def test_supervisor_cannot_edit_delete_or_reset_a_peer_a_superuser_or_himself(
    staff, sue_in_admin, target
):
    user = staff[target]
    before = _rights(user)
    password = user.password
    assert _change(sue_in_admin, user, first_name="Взломан", is_active="").status_code == 403
    delete = reverse("admin:accounts_user_delete", args=[user.pk])
    assert sue_in_admin.post(delete, {"post": "yes"}).status_code == 403
    reset = reverse("admin:auth_user_password_change", args=[user.pk])
    response = sue_in_admin.post(reset, {"password1": "Zx9-new-pass", "password2": "Zx9-new-pass"})
    assert response.status_code == 403
    user.refresh_from_db()
    assert _rights(user) == before
    assert (user.first_name, user.is_active, user.password) != ("Взломан", False, None)
    assert user.password == password and user.is_active
    # He may still look at them (the change page renders read-only).
    page = sue_in_admin.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200 and b'name="is_superuser"' not in page.content


def test_supervisor_cannot_bulk_delete_a_superuser(staff, sue_in_admin):
    root = staff["root"]
    response = sue_in_admin.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [root.pk, staff["bob"].pk],
            "post": "yes",
        },
    )
    assert response.status_code in (200, 403)
    assert User.objects.filter(pk=root.pk).exists()


def test_supervisor_adds_operators_only_without_rights(staff, sue_in_admin):
    url = reverse("admin:accounts_user_add")
    base = {
        "username": "newbie",
        "usable_password": "true",
        "password1": "Zx9-new-pass",
        "password2": "Zx9-new-pass",
        "first_name": "Новый",
        "last_name": "Оператор",
        "team": staff["alice"].team_id,
        "department": "",
    }
    for role in (Role.ADMIN, Role.SUPERVISOR):
        response = sue_in_admin.post(url, {**base, "role": role, "is_superuser": "on"})
        assert response.status_code == 200, role
        assert not User.objects.filter(username="newbie").exists()
    response = sue_in_admin.post(
        url, {**base, "role": Role.OPERATOR, "is_superuser": "on", "is_staff": "on"}
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert (newbie.role, newbie.is_superuser, newbie.is_staff) == (Role.OPERATOR, False, False)


def test_supervisor_cannot_manage_a_user_holding_rights_he_lacks(staff, sue_in_admin):
    """Resetting such a user's password would hand the supervisor those rights."""
    bob = staff["bob"]
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    bob.user_permissions.add(Permission.objects.get(codename="view_outbox"))
    assert _change(sue_in_admin, bob, first_name="Борис").status_code == 403


def test_superuser_still_grants_rights(staff, client):
    client.force_login(staff["root"])
    bob = staff["bob"]
    group = Group.objects.get(name=SUPERVISOR_GROUP)
    data = _user_form(bob, role=Role.SUPERVISOR, is_staff="on", groups=[group.pk])
    data.update({"date_joined_0": "2026-01-01", "date_joined_1": "09:00:00"})
    response = client.post(reverse("admin:accounts_user_change", args=[bob.pk]), data)
    assert response.status_code == 302
    assert _rights(bob)[:4] == (False, True, Role.SUPERVISOR, [SUPERVISOR_GROUP])
