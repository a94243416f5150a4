"""Portal fixtures: two clients with phones and e-mails, a portal client session helper."""

import pytest

from otklik.clients.services import client_create
from otklik.portal.auth import SESSION_CLIENT


@pytest.fixture
def dmitry(db):
    """Story 001's borrower."""
    return client_create(
        last_name="Соколов",
        first_name="Дмитрий",
        patronymic="Павлович",
        address_as="Дмитрий Павлович",
        phones=["+7 912 574-03-61"],
        emails=["d.sokolov88@example.com"],
    )


@pytest.fixture
def tatiana(db):
    return client_create(
        last_name="Миронова",
        first_name="Татьяна",
        patronymic="Викторовна",
        phones=["+7 987 216-59-04"],
        emails=["t.mironova@example.com"],
    )


def login_as(client, person) -> None:
    """Put a portal session for `person` into a Django test client."""
    session = client.session
    session[SESSION_CLIENT] = person.pk
    session.save()


@pytest.fixture
def portal_login():
    return login_as
