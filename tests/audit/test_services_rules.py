"""audit.services and audit.selectors: what an access record stores, who may review the log
(every other role refused), the filters' edges, the pages, and the export's cells."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone

from otklik.accounts.models import Role
from otklik.audit.models import AuditRecord
from otklik.audit.selectors import (
    AccessFilters,
    access_log,
    access_log_page,
    access_review_client,
    access_review_staff,
    action_label,
    can_review_access,
)
from otklik.audit.services import access_log_export, audit_record, audit_records_bulk
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(ip="10.1.2.3"):
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = ip
    return request


def test_a_record_stores_who_what_where_and_from_which_address(cast):
    client = ClientFactory()
    record = audit_record(
        actor=cast.alice,
        action="client.view",
        via="workspace",
        client_id=client.pk,
        obj=client,
        request=_request(),
        detail="д" * 400,
    )
    stored = AuditRecord.objects.get(pk=record.pk)
    assert stored.actor == cast.alice
    assert stored.action == "client.view"
    assert stored.via == "workspace"
    assert stored.client_id == client.pk
    assert (stored.object_type, stored.object_id) == ("client", str(client.pk))
    assert stored.ip == "10.1.2.3"
    assert stored.detail == "д" * 300


def test_a_record_without_a_user_object_or_address(db):
    record = audit_record(actor=AnonymousUser(), action="client.list", via="api")
    stored = AuditRecord.objects.get(pk=record.pk)
    assert stored.actor is None
    assert (stored.object_type, stored.object_id) == ("", "")
    assert stored.client_id is None
    assert stored.ip is None
    empty_ip = _request(ip="")
    assert (
        AuditRecord.objects.get(
            pk=audit_record(actor=None, action="a", via="api", request=empty_ip).pk
        ).ip
        is None
    )


def test_bulk_records_one_row_per_client(cast):
    one, two = ClientFactory(), ClientFactory()
    audit_records_bulk(
        actor=cast.alice,
        action="client.search",
        via="api",
        client_ids=[one.pk, two.pk],
        request=_request("10.9.9.9"),
        detail="q" * 301,
    )
    rows = list(AuditRecord.objects.order_by("client_id"))
    assert [(r.client_id, r.object_id) for r in rows] == sorted(
        [(one.pk, str(one.pk)), (two.pk, str(two.pk))]
    )
    for row in rows:
        assert row.actor == cast.alice
        assert row.action == "client.search" and row.via == "api"
        assert row.object_type == "client" and row.ip == "10.9.9.9"
        assert row.detail == "q" * 300

    audit_records_bulk(actor=AnonymousUser(), action="client.list", via="api", client_ids=[one.pk])
    assert AuditRecord.objects.filter(actor__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["alice", "olga", "bob", "sam", "tom", "pavel"])
def test_every_other_role_is_refused_the_review(cast, who):
    user = getattr(cast, who)
    assert can_review_access(user) is False
    with pytest.raises(PermissionDenied) as caught:
        access_log(user=user, filters=AccessFilters())
    assert str(caught.value) == (
        "Журнал доступа к данным смотрят только руководители и администраторы."
    )
    with pytest.raises(PermissionDenied):
        access_review_client(user=user, client_id=ClientFactory().pk)
    with pytest.raises(PermissionDenied):
        access_log_export(user=user, filters=AccessFilters())
    assert not AuditRecord.objects.exists()  # a refused export records nothing


def test_supervisors_admins_and_superusers_review_an_inactive_one_does_not(cast):
    admin = UserFactory(username="adm", role=Role.ADMIN)
    root = UserFactory(username="root", role=Role.OPERATOR, is_superuser=True)
    assert can_review_access(cast.sue) is True
    assert can_review_access(admin) is True
    assert can_review_access(root) is True
    assert can_review_access(AnonymousUser()) is False
    cast.sue.is_active = False
    assert can_review_access(cast.sue) is False


def _at(actor, client, when, action="client.view"):
    record = AuditRecord.objects.create(actor=actor, action=action, client=client, via="workspace")
    AuditRecord.objects.filter(pk=record.pk).update(created_at=when)
    return record


def test_filters_by_client_actor_and_whole_local_days(cast):
    ivanova, petrov = ClientFactory(), ClientFactory()
    day = date(2026, 11, 10)
    start = timezone.make_aware(datetime.combine(day, time.min))
    before = _at(cast.alice, ivanova, start - timedelta(seconds=1))
    first = _at(cast.alice, ivanova, start)
    last = _at(cast.bob, ivanova, start + timedelta(days=1) - timedelta(seconds=1))
    after = _at(cast.bob, ivanova, start + timedelta(days=1))
    other = _at(cast.alice, petrov, start + timedelta(hours=1))

    def ids(**kwargs):
        return [r.pk for r in access_log(user=cast.sue, filters=AccessFilters(**kwargs))]

    assert ids(since=day, until=day) == [last.pk, other.pk, first.pk]
    assert ids(since=day) == [after.pk, last.pk, other.pk, first.pk]
    assert ids(until=day) == [last.pk, other.pk, first.pk, before.pk]
    assert ids(client_id=ivanova.pk, since=day, until=day) == [last.pk, first.pk]
    assert ids(actor_id=cast.alice.pk) == [other.pk, first.pk, before.pk]
    assert ids(client_id=petrov.pk, actor_id=cast.bob.pk) == []


def test_the_newest_come_first_and_equal_times_by_id(cast):
    client = ClientFactory()
    when = timezone.now()
    a, b = _at(cast.alice, client, when), _at(cast.bob, client, when)
    assert list(access_log(user=cast.sue, filters=AccessFilters())) == [b, a]


def test_pages_say_whether_another_follows(cast):
    client = ClientFactory()
    now = timezone.now()
    records = [_at(cast.alice, client, now - timedelta(minutes=i)) for i in range(5)]
    rows, more = access_log_page(user=cast.sue, filters=AccessFilters(), page=1, size=2)
    assert rows == records[:2] and more is True
    rows, more = access_log_page(user=cast.sue, filters=AccessFilters(), page=3, size=2)
    assert rows == records[4:] and more is False
    rows, more = access_log_page(user=cast.sue, filters=AccessFilters(), page=0, size=2)
    assert rows == records[:2]
    rows, more = access_log_page(user=cast.sue, filters=AccessFilters(), page=2, size=4)
    assert rows == records[4:] and more is False
    rows, more = access_log_page(user=cast.sue, filters=AccessFilters(), page=1, size=5)
    assert rows == records and more is False


def test_describe_names_each_filter_or_a_star():
    assert AccessFilters().describe() == "client=* actor=* since=* until=*"
    filters = AccessFilters(client_id=7, actor_id=3, since=date(2026, 1, 2), until=date(2026, 2, 3))
    assert filters.describe() == "client=7 actor=3 since=2026-01-02 until=2026-02-03"


def test_action_labels_in_russian_or_the_code_itself():
    assert action_label("client.view") == "Открыл карточку клиента"
    assert action_label("something.new") == "something.new"


def test_staff_are_listed_by_last_name_first_name_username(db):
    b = UserFactory(username="b", last_name="Яковлев", first_name="Анна")
    a = UserFactory(username="a", last_name="Абрамов", first_name="Пётр")
    c = UserFactory(username="c", last_name="Абрамов", first_name="Иван")
    d = UserFactory(username="d", last_name="Абрамов", first_name="Иван")
    assert [u.pk for u in access_review_staff() if u.pk in {a.pk, b.pk, c.pk, d.pk}] == [
        c.pk,
        d.pk,
        a.pk,
        b.pk,
    ]


def test_the_review_heading_names_that_client(cast):
    one, two = ClientFactory(), ClientFactory()
    assert access_review_client(user=cast.sue, client_id=one.pk) == one
    assert access_review_client(user=cast.sue, client_id=two.pk) == two
    assert access_review_client(user=cast.sue, client_id=two.pk + 100) is None


def test_the_export_has_a_header_the_matching_rows_and_is_audited_itself(cast):
    ivanova, petrov = ClientFactory(), ClientFactory()
    when = timezone.now() - timedelta(hours=1)
    AuditRecord.objects.create(
        actor=cast.bob,
        action="client.view",
        client=ivanova,
        via="=cmd",
        object_type="client",
        object_id=str(ivanova.pk),
        ip="10.0.0.7",
        detail="+1",
        created_at=when,
    )
    AuditRecord.objects.create(actor=None, action="x", client=petrov, via="api")
    anonymous = AuditRecord.objects.create(actor=None, action="odd.code", client=ivanova, via="api")

    filters = AccessFilters(client_id=ivanova.pk)
    rows = list(access_log_export(user=cast.sue, filters=filters, request=_request("10.5.5.5")))

    assert rows[0] == [
        "time",
        "staff_username",
        "staff_name",
        "staff_role",
        "action",
        "action_label",
        "via",
        "client_id",
        "client_name",
        "object",
        "ip",
        "detail",
    ]
    assert rows[1] == [
        timezone.localtime(anonymous.created_at).isoformat(timespec="seconds"),
        "",
        "",
        "",
        "odd.code",
        "odd.code",
        "api",
        str(ivanova.pk),
        ivanova.full_name,
        "",
        "",
        "",
    ]
    assert rows[2] == [
        timezone.localtime(when).isoformat(timespec="seconds"),
        "bob",
        cast.bob.display_name,
        cast.bob.get_role_display(),
        "client.view",
        "Открыл карточку клиента",
        "'=cmd",
        str(ivanova.pk),
        ivanova.full_name,
        f"client:{ivanova.pk}",
        "10.0.0.7",
        "'+1",
    ]
    assert len(rows) == 3  # the export's own record is not in it

    export = AuditRecord.objects.get(action="access_review.export")
    assert export.actor == cast.sue
    assert export.via == "workspace"
    assert export.client_id == ivanova.pk
    assert export.ip == "10.5.5.5"
    assert export.detail == f"client={ivanova.pk} actor=* since=* until=*"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+7", "'+7"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_export_cells_never_start_a_formula(cast, value, cell):
    AuditRecord.objects.create(actor=None, action="x", via="api", detail=value)
    rows = list(access_log_export(user=cast.sue, filters=AccessFilters()))
    assert rows[1][-1] == cell
    assert rows[1][7] == ""  # no client
