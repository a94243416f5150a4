"""The owner keeps control: every change reaches owner and watchers once, never the actor."""

from collections import Counter

import pytest

from otklik.handoffs import services
from otklik.live.models import LiveEvent
from otklik.notifications.models import Outbox

pytestmark = pytest.mark.django_db


def _since(model, last_pk):
    return model.objects.filter(pk__gt=last_pk).order_by("pk")


def _marks():
    return (
        LiveEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        Outbox.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    )


def test_every_change_is_told_once_to_owner_and_watchers_not_to_the_actor(staff, case):
    alice, olga, sam, sue = staff.alice, staff.olga, staff.sam, staff.sue
    services.case_watch(actor=olga, case=case)  # «взять на контроль»
    services.case_watch(actor=sue, case=case)

    def step(action, actor, expect):
        live_mark, mail_mark = _marks()
        action()
        live = _since(LiveEvent, live_mark).exclude(kind="handoff.new")
        mails = _since(Outbox, mail_mark)
        assert Counter(e.user_id for e in live) == Counter({u.pk: 1 for u in expect})
        assert Counter(m.user_id for m in mails) == Counter({u.pk: 1 for u in expect})
        assert actor.pk not in {e.user_id for e in live} | {m.user_id for m in mails}
        assert all(m.channel == "email" and m.address.endswith("@otklik.test") for m in mails)
        return list(live), list(mails)

    holder = {}

    def send():
        holder["h"] = services.handoff_send(
            actor=alice, case=case, department=staff.security, question="Клиент за границей"
        )

    live, mails = step(send, alice, [olga, sue])
    handoff = holder["h"]
    assert live[0].case_id == case.pk and live[0].payload["handoff_id"] == handoff.pk
    assert "Служба безопасности" in live[0].text and case.reference in live[0].text

    step(lambda: services.handoff_take(actor=sam, handoff=handoff), sam, [alice, olga, sue])
    step(
        lambda: services.handoff_ask_owner(actor=sam, handoff=handoff, question="В чате?"),
        sam,
        [alice, olga, sue],
    )
    # the owner's reply also reaches the specialist who asked
    step(
        lambda: services.handoff_owner_reply(actor=alice, handoff=handoff, reply="Да"),
        alice,
        [olga, sue, sam],
    )
    live, mails = step(
        lambda: services.handoff_answer(actor=sam, handoff=handoff, answer="Звоните на 900"),
        sam,
        [alice, olga, sue],
    )
    assert live[0].text == f"Служба безопасности: ответ по обращению {case.reference}"
    assert "Звоните на 900" in mails[0].body

    keys = list(Outbox.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))


def test_department_specialists_hear_of_a_new_handoff(staff, case):
    services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Проверьте операции"
    )
    new = LiveEvent.objects.filter(kind="handoff.new")
    assert [e.user_id for e in new] == [staff.sam.pk]  # not tom of treasury


def test_unwatch_stops_the_news(staff, case):
    services.case_watch(actor=staff.olga, case=case)
    services.case_unwatch(actor=staff.olga, case=case)
    services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Вопрос"
    )
    assert not LiveEvent.objects.filter(user=staff.olga).exists()


def test_refused_change_notifies_nobody(staff, case):
    handoff = services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Вопрос"
    )
    live_mark, mail_mark = _marks()
    with pytest.raises(Exception):  # noqa: B017
        services.handoff_take(actor=staff.tom, handoff=handoff)
    assert not _since(LiveEvent, live_mark).exists() and not _since(Outbox, mail_mark).exists()


def test_staff_mails_carry_clickable_links_on_the_public_url(staff, case, settings):
    settings.OTKLIK_PUBLIC_URL = "http://127.0.0.1:8811/"
    mark = _marks()[1]
    services.case_watch(actor=staff.olga, case=case)
    services.handoff_send(
        actor=staff.alice, case=case, department=staff.security, question="Клиент за границей"
    )
    mail = _since(Outbox, mark).get(user=staff.olga)
    assert f"http://127.0.0.1:8811/cases/{case.pk}/" in mail.body
    assert f" /cases/{case.pk}/" not in mail.body
