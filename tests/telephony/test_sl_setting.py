"""One phone service-level threshold: `OTKLIK_SL_SECONDS["phone"]` marks each call
(telephony) and decides the phone SL on the dashboard (analytics); the older environment
name `OTKLIK_CTI_SL_SECONDS` is still read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import otklik
from otklik.telephony.models import Call, OperatorExtension
from tests.telephony.pbx import Pbx, django_client_transport


def _phone_sl_under(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'otklik.settings');"
        "from django.conf import settings; print(settings.OTKLIK_SL_SECONDS['phone']);"
        "print(hasattr(settings, 'OTKLIK_CTI_SL_SECONDS'))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OTKLIK_SL_PHONE_SECONDS", "OTKLIK_CTI_SL_SECONDS")
    }
    clean["PYTHONPATH"] = str(Path(otklik.__file__).resolve().parents[1])
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "20"),
        ({"OTKLIK_SL_PHONE_SECONDS": "15"}, "15"),
        ({"OTKLIK_CTI_SL_SECONDS": "25"}, "25"),
        ({"OTKLIK_SL_PHONE_SECONDS": "30", "OTKLIK_CTI_SL_SECONDS": "30"}, "30"),
    ],
)
def test_one_setting_read_from_either_name(env, expected):
    out = _phone_sl_under(env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [expected, "False"]


def test_two_different_values_are_refused_not_guessed():
    out = _phone_sl_under({"OTKLIK_SL_PHONE_SECONDS": "15", "OTKLIK_CTI_SL_SECONDS": "25"})
    assert out.returncode != 0
    assert "OTKLIK_SL_PHONE_SECONDS and OTKLIK_CTI_SL_SECONDS" in out.stderr


@pytest.mark.django_db
def test_the_call_mark_follows_the_analytics_threshold(client, cast, settings):
    OperatorExtension.objects.create(user=cast.alice, extension="101")
    pbx = Pbx(django_client_transport(client))
    settings.OTKLIK_SL_SECONDS = {**settings.OTKLIK_SL_SECONDS, "phone": 10}
    pbx.send("ringing", "t1", 0, caller="+79160000001", extension="101")
    pbx.send("answered", "t1", 10)
    pbx.send("ringing", "t2", 0, caller="+79160000002", extension="101")
    pbx.send("answered", "t2", 11)
    settings.OTKLIK_SL_SECONDS = {**settings.OTKLIK_SL_SECONDS, "phone": 30}
    pbx.send("ringing", "t3", 0, caller="+79160000003", extension="101")
    pbx.send("answered", "t3", 25)
    marks = dict(Call.objects.values_list("call_id", "answered_in_target"))
    assert marks == {"t1": True, "t2": False, "t3": True}
