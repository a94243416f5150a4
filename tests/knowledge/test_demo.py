from otklik.demo.services import demo_load
from otklik.knowledge.demo import load_demo_knowledge
from otklik.knowledge.models import Acknowledgement, CasePin, RefresherDigest


def test_demo_knowledge_is_loaded_with_the_demo_and_idempotent(db):
    demo_load(force=True)  # the demo loader runs load_demo_knowledge() itself
    assert CasePin.objects.exists() and Acknowledgement.objects.exists()
    assert Acknowledgement.objects.filter(acknowledged_at__isnull=True).exists()
    assert not CasePin.objects.filter(case__is_open=True).exists()
    assert RefresherDigest.objects.exists()
    counts = (
        CasePin.objects.count(),
        Acknowledgement.objects.count(),
        RefresherDigest.objects.count(),
    )
    again = load_demo_knowledge()
    assert again["pins"] == again["acks"] == again["articles_added"] == again["refreshers"] == 0
    assert (
        CasePin.objects.count(),
        Acknowledgement.objects.count(),
        RefresherDigest.objects.count(),
    ) == counts
