from otklik.demo.services import demo_load
from otklik.knowledge.demo import load_demo_knowledge
from otklik.knowledge.models import Acknowledgement, CasePin, RefresherDigest


def test_demo_knowledge_is_idempotent(db):
    demo_load()
    first = load_demo_knowledge()
    assert CasePin.objects.exists() and Acknowledgement.objects.exists()
    assert Acknowledgement.objects.filter(acknowledged_at__isnull=True).exists()
    assert not CasePin.objects.filter(case__is_open=True).exists()
    counts = (CasePin.objects.count(), Acknowledgement.objects.count())
    second = load_demo_knowledge()
    assert second["pins"] == second["acks"] == second["articles_added"] == 0
    assert (CasePin.objects.count(), Acknowledgement.objects.count()) == counts
    assert first["refreshers"] == RefresherDigest.objects.count() > 0
