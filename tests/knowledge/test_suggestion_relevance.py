"""Defect 11: the ИИС case's suggestions hold no unrelated article in the top four."""

from io import StringIO

import pytest
from django.core.management import call_command

from otklik.cases.models import Case
from otklik.knowledge.search import Hit
from otklik.knowledge.selectors import suggest_for_case, suggestions_relevant


def _hit(slug, score, matched):
    explain = {} if matched is None else {"applicability": {"matched": matched}}
    return Hit(1, slug, "faq", "both", slug, score, explain=explain)


def test_hits_that_fit_nothing_of_the_case_or_trail_far_behind_are_dropped():
    hits = [
        _hit("iis-close", 2.6, ["product_kinds", "topic"]),
        _hit("frozen", 0.09, ["restriction_kinds"]),
        _hit("brokerage-close", 0.5, []),  # shared words only
        _hit("fund-dividends", 0.02, ["product_kinds"]),  # under 1 % of the best
    ]
    assert [h.slug for h in suggestions_relevant(hits)] == ["iis-close", "frozen"]
    # Without applicability facts (another backend) only the score floor applies.
    assert [h.slug for h in suggestions_relevant([_hit("a", 1.0, None), _hit("b", 0.5, None)])] == [
        "a",
        "b",
    ]
    # When nothing fits the case, the search's order is kept (better than nothing).
    assert [h.slug for h in suggestions_relevant([_hit("a", 1.0, []), _hit("b", 0.5, [])])] == [
        "a",
        "b",
    ]


@pytest.mark.django_db
def test_the_iis_case_of_the_demo_gets_only_iis_and_frozen_assets_articles(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO())
    case = Case.objects.get(subject__startswith="Закрыть ИИС-1")
    slugs = [h.slug for h in suggest_for_case(user=case.owner, case=case, limit=5).hits[:4]]
    assert slugs[0] == "iis-close-blocked-units"
    unrelated = {"brokerage-close-account", "loan-early-repayment", "mfo-charges-not-ours"}
    assert not unrelated & set(slugs), slugs
