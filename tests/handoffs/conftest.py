import pytest

from otklik.clients.models import ChannelKind
from otklik.clients.services import client_create
from tests.factories import make_case


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments are written under a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(cast):
    """The cast with e-mail addresses, so handoff changes are also e-mailed."""
    for user in (cast.alice, cast.olga, cast.bob, cast.sam, cast.tom, cast.sue):
        user.email = f"{user.username}@otklik.test"
        user.save(update_fields=["email"])
    return cast


@pytest.fixture
def client_abroad(db):
    return client_create(
        last_name="Орлова",
        first_name="Марина",
        patronymic="Викторовна",
        phones=["+7 916 555-12-34"],
        emails=["m.orlova@example.ru"],
    )


@pytest.fixture
def case(staff, client_abroad):
    """Alice's (team A) case about a blocked card."""
    return make_case(
        actor=staff.alice,
        client=client_abroad,
        subject="Карта заблокирована, клиент за границей",
        channel=ChannelKind.CHAT,
    )
