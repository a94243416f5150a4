"""One public base URL for links in messages, defaulting to what `make run` serves."""

import os
import subprocess
import sys
from pathlib import Path

import otklik
from otklik.common.links import absolute_reverse, absolute_url


def _settings_under(env: dict) -> list[str]:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'otklik.settings');"
        "from django.conf import settings;"
        "print(settings.OTKLIK_PUBLIC_URL); print(settings.OTKLIK_BACKOFFICE_URL)"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORT", "OTKLIK_PUBLIC_URL", "OTKLIK_BACKOFFICE_URL")
    }
    # The package under test, not whichever checkout the virtualenv's editable install names.
    clean["PYTHONPATH"] = str(Path(otklik.__file__).resolve().parents[1])
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_default_follows_the_port_make_run_serves():
    assert _settings_under({"PORT": "8811"}) == [
        "http://127.0.0.1:8811/",
        "http://127.0.0.1:8811/actions/demo-backoffice/",
    ]
    assert _settings_under({})[0] == "http://127.0.0.1:8000/"


def test_a_deployment_names_its_address_once():
    public, backoffice = _settings_under(
        {"PORT": "8811", "OTKLIK_PUBLIC_URL": "https://desk.example.org/otklik"}
    )
    assert public == "https://desk.example.org/otklik/"
    assert backoffice == "https://desk.example.org/otklik/actions/demo-backoffice/"


def test_links_are_absolute_on_the_public_url(settings):
    settings.OTKLIK_PUBLIC_URL = "https://desk.example.org/"
    assert absolute_url("/cases/82/") == "https://desk.example.org/cases/82/"
    assert absolute_reverse("portal:case_detail", args=[82]) == (
        "https://desk.example.org/portal/cases/82/"
    )
