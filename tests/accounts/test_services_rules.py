"""accounts.services and accounts.selectors: API tokens, the supervisors' admin group, and
who may manage whom — each rule checked on the stored rows and with a user who is refused."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from otklik.accounts.models import ApiToken, Role
from otklik.accounts.selectors import (
    assignable_roles,
    team_get,
    user_get_active,
    user_may_manage,
)
from otklik.accounts.services import (
    SUPERVISOR_GROUP,
    api_token_authenticate,
    api_token_create,
    supervisor_grant_admin,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- API tokens ----------------------------------------------------------------------------


def test_a_created_token_is_stored_hashed_with_its_owner_name_and_prefix(cast):
    token, raw = api_token_create(user=cast.alice, name="integration")

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.user == cast.alice
    assert stored.name == "integration"
    assert stored.key_hash == ApiToken.hash(raw) and raw not in stored.key_hash
    assert raw.startswith("otk_") and stored.prefix == raw[4:12] and len(stored.prefix) == 8
    assert stored.last_used_at is None and stored.revoked_at is None


def test_a_token_authenticates_its_own_owner_only(cast):
    _, raw_alice = api_token_create(user=cast.alice, name="a")
    _, raw_bob = api_token_create(user=cast.bob, name="b")

    assert api_token_authenticate(raw=raw_alice) == cast.alice
    assert api_token_authenticate(raw=raw_bob) == cast.bob
    assert api_token_authenticate(raw=raw_alice + "x") is None
    assert api_token_authenticate(raw="") is None


def test_an_overlong_token_is_refused_without_a_lookup(cast, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert api_token_authenticate(raw="otk_" + "x" * 197) is None
    # 200 characters is still looked up (and unknown here).
    with django_assert_num_queries(1):
        assert api_token_authenticate(raw="otk_" + "x" * 196) is None


def test_a_revoked_token_or_an_inactive_owner_is_refused(cast):
    token, raw = api_token_create(user=cast.alice, name="a")
    _, raw_bob = api_token_create(user=cast.bob, name="b")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert api_token_authenticate(raw=raw) is None

    cast.bob.is_active = False
    cast.bob.save(update_fields=["is_active"])
    assert api_token_authenticate(raw=raw_bob) is None


def test_authentication_loads_the_users_team_and_department(cast, django_assert_num_queries):
    _, raw = api_token_create(user=cast.alice, name="a")
    api_token_authenticate(raw=raw)  # first use stores last_used_at
    with django_assert_num_queries(1):
        user = api_token_authenticate(raw=raw)
        assert user.team.name == "Вторая линия"
        assert user.department is None


def test_last_use_is_stored_at_most_once_a_minute(cast):
    token, raw = api_token_create(user=cast.alice, name="a")
    other, _ = api_token_create(user=cast.alice, name="other")

    api_token_authenticate(raw=raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    assert ApiToken.objects.get(pk=other.pk).last_used_at is None  # only this token

    # Within the minute: not touched again.
    recent = timezone.now() - timedelta(seconds=59)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent

    # Just over the minute: touched.
    old = timezone.now() - timedelta(seconds=62)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > old + timedelta(seconds=60)


# --- the supervisors' admin group ----------------------------------------------------------


def test_granting_admin_gives_exactly_the_configuration_permissions(cast):
    group = supervisor_grant_admin(user=cast.sue)

    stored = Group.objects.get(name=SUPERVISOR_GROUP)
    assert group == stored
    labels = {
        f"{p.content_type.app_label}.{p.content_type.model}" for p in stored.permissions.all()
    }
    assert labels == {
        "accounts.user",
        "accounts.team",
        "accounts.department",
        "cases.topic",
        "sla.slapolicy",
        "sla.businesscalendar",
        "sla.calendarday",
        "audit.auditrecord",
    }
    sue = type(cast.sue).objects.get(pk=cast.sue.pk)
    assert sue.is_staff
    assert list(sue.groups.values_list("name", flat=True)) == [SUPERVISOR_GROUP]
    assert sue.has_perm("cases.add_topic") and not sue.has_perm("cases.add_case")


def test_granting_twice_or_to_two_supervisors_shares_one_group(cast):
    vera = UserFactory(username="vera", role=Role.SUPERVISOR, is_staff=True)
    supervisor_grant_admin(user=cast.sue)
    supervisor_grant_admin(user=cast.sue)
    supervisor_grant_admin(user=vera)

    assert Group.objects.filter(name=SUPERVISOR_GROUP).count() == 1
    assert Group.objects.get(name=SUPERVISOR_GROUP).user_set.count() == 2
    # Other users are not touched.
    assert not type(cast.alice).objects.get(pk=cast.alice.pk).is_staff


# --- reads ---------------------------------------------------------------------------------


def test_user_get_active_finds_only_that_active_user(cast):
    assert user_get_active(user_id=cast.alice.pk) == cast.alice
    assert user_get_active(user_id=cast.bob.pk) == cast.bob
    cast.bob.is_active = False
    cast.bob.save(update_fields=["is_active"])
    assert user_get_active(user_id=cast.bob.pk) is None
    assert user_get_active(user_id=10**9) is None


def test_team_get_finds_that_team(cast):
    assert team_get(team_id=cast.team_a.pk) == cast.team_a
    assert team_get(team_id=cast.team_b.pk) == cast.team_b
    assert team_get(team_id=10**9) is None


def test_assignable_roles_by_role(cast):
    root = UserFactory(username="root", role=Role.OPERATOR, is_superuser=True)
    admin = UserFactory(username="adm", role=Role.ADMIN)
    assert assignable_roles(actor=root) == frozenset(Role.values)
    assert Role.SUPERVISOR in assignable_roles(actor=admin)
    assert Role.ADMIN not in assignable_roles(actor=admin)
    assert assignable_roles(actor=cast.sue) == frozenset(
        {Role.OPERATOR, Role.SENIOR_OPERATOR, Role.SPECIALIST, Role.PERSONAL_MANAGER}
    )
    assert assignable_roles(actor=cast.alice) == frozenset()


def test_who_may_manage_whom(cast):
    root = UserFactory(username="root", role=Role.ADMIN, is_superuser=True)
    admin = UserFactory(username="adm", role=Role.ADMIN)
    vera = UserFactory(username="vera", role=Role.SUPERVISOR)

    assert user_may_manage(actor=root, target=root)  # a superuser manages everybody
    assert user_may_manage(actor=cast.sue, target=cast.alice)
    assert user_may_manage(actor=admin, target=vera)
    # Refused: himself, a superuser, a role above his limits, an operator managing anyone.
    assert user_may_manage(actor=cast.sue, target=cast.sue) is False
    assert user_may_manage(actor=admin, target=root) is False
    assert user_may_manage(actor=cast.sue, target=vera) is False
    assert user_may_manage(actor=cast.alice, target=cast.bob) is False


def test_an_inactive_supervisor_manages_nobody(cast):
    cast.sue.is_active = False
    cast.sue.save(update_fields=["is_active"])
    assert user_may_manage(actor=cast.sue, target=cast.alice) is False


def test_nobody_manages_a_user_holding_rights_he_lacks(cast):
    supervisor_grant_admin(user=cast.sue)
    sue = type(cast.sue).objects.get(pk=cast.sue.pk)
    # An operator holding the supervisors' rights: sue holds them too.
    alice = type(cast.alice).objects.get(pk=cast.alice.pk)
    alice.groups.add(Group.objects.get(name=SUPERVISOR_GROUP))
    alice = type(alice).objects.get(pk=alice.pk)
    assert user_may_manage(actor=sue, target=alice)
    # A supervisor without those rights may not manage her.
    plain = UserFactory(username="plain", role=Role.SUPERVISOR)
    assert user_may_manage(actor=plain, target=alice) is False
    assert user_may_manage(actor=plain, target=cast.bob)


def test_last_use_is_touched_only_after_a_full_minute(cast, monkeypatch):
    from otklik.accounts import services

    token, raw = api_token_create(user=cast.alice, name="a")
    now = timezone.now()
    monkeypatch.setattr(services.timezone, "now", lambda: now)

    exactly = now - timedelta(seconds=60)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=exactly)
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == exactly

    over = now - timedelta(seconds=60, milliseconds=500)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=over)
    api_token_authenticate(raw=raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == now
