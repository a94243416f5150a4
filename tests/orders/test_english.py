"""The English UI shows an order template's name, field labels and step names in English
(issue 16); the document the client signs stays Russian."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from otklik.orders.catalogue import order_templates_ensure
from otklik.orders.models import OrderTemplate
from tests.orders.helpers import signed_order


def test_the_english_order_panel_has_english_labels(cast, story_case, client):
    client.force_login(cast.olga)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("workspace:case_detail", args=[story_case.pk])
    html = client.get(url, {"order_template": "iis_close_frozen"}).content.decode()
    assert "Closing an IIA with frozen assets" in html
    assert "IIA contract number" in html and "Payout account" in html
    assert "Номер договора ИИС" not in html and "Счёт для выплаты" not in html
    assert "Распоряжение" in html or "прошу" in html  # the document preview stays Russian

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = client.get(url, {"order_template": "iis_close_frozen"}).content.decode()
    assert "Номер договора ИИС" in html and "IIA contract number" not in html


def test_a_signed_orders_steps_read_in_the_active_language(cast, story_case):
    order = signed_order(cast.olga, story_case)
    step = order.steps.order_by("seq").first()
    assert (step.name, step.name_en) == ("Закрытие договора ИИС", "Closing the IIA contract")
    with translation.override("en"):
        assert step.display_name == "Closing the IIA contract"
        assert order.template.display_name == "Closing an IIA with frozen assets"
    with translation.override("ru"):
        assert step.display_name == "Закрытие договора ИИС"


def test_templates_loaded_before_the_twins_get_them(templates):
    OrderTemplate.objects.update(name_en="")
    template = OrderTemplate.objects.get(code="iis_close_frozen")
    template.fields_schema = [
        {k: v for k, v in f.items() if k != "label_en"} for f in template.fields_schema
    ]
    template.save()
    order_templates_ensure()
    template.refresh_from_db()
    assert template.name_en == "Closing an IIA with frozen assets"
    assert template.fields_schema[0]["label_en"] == "IIA contract number"
