"""Factories for test data. Cases go through services so their history is real."""

import itertools

import factory
from django.utils import timezone

from otklik.accounts.models import Department, Role, Team, User
from otklik.cases.models import Priority, Topic
from otklik.cases.services import case_open
from otklik.clients.models import ChannelKind, Client, ContactPoint
from otklik.clients.services import client_reindex, product_create

_phone_seq = itertools.count(1000000)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Команда {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"Подразделение {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Анна"
    last_name = factory.Sequence(lambda n: f"Операторова{n}")
    role = Role.OPERATOR
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Тема {n}")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    last_name = factory.Sequence(lambda n: f"Клиентов{n}")
    first_name = "Пётр"
    patronymic = "Сергеевич"

    @factory.post_generation
    def phone(obj, create, extracted, **kwargs):
        if not create:
            return
        value = extracted or f"+7916{next(_phone_seq):07d}"
        ContactPoint.objects.create(
            client=obj, kind=ChannelKind.PHONE, value=value, is_primary=True
        )
        client_reindex(client=obj)


def make_product(client: Client, kind: str = "card", **kwargs):
    defaults = {
        "card": {
            "name": "Карта Мир",
            "details": {
                "pan": "2200700000000007"[:15] + "0",
                "payment_system": "Мир",
                "level": "Classic",
                "expires": "12/29",
            },
        },
    }
    params = {**defaults.get(kind, {}), **kwargs}
    if kind == "card":
        from otklik.common.luhn import luhn_complete

        params["details"] = {
            **params["details"],
            "pan": luhn_complete(params["details"]["pan"][:15]),
        }
    return product_create(client=client, kind=kind, **params)


def make_case(
    *,
    actor: User,
    client: Client | None = None,
    subject: str = "Вопрос клиента",
    channel: str = ChannelKind.PHONE,
    now=None,
    **kwargs,
):
    return case_open(
        actor=actor,
        client=client or ClientFactory(),
        subject=subject,
        channel=channel,
        now=now or timezone.now(),
        priority=kwargs.pop("priority", Priority.NORMAL),
        **kwargs,
    )
