"""Headers and switches: CSP with nonces, no-store on dynamic pages, a clean check --deploy."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from otklik.common.secrets import INSTALL_SECRETS
from tests.factories import ClientFactory

PROJECT = Path(__file__).resolve().parents[2]


def production_environment() -> dict[str, str]:
    """The environment README's "Production" section documents, placeholders filled in."""
    readme = (PROJECT / "README.md").read_text()
    block = re.search(r"<!-- production-environment -->\s*```sh\n(.*?)```", readme, re.S)
    assert block, "README lost its production environment block"
    env = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        env[name.strip()] = secrets.token_urlsafe(50) if value.startswith("<") else value
    return env


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith((*INSTALL_SECRETS, "SECURE_", "SESSION_", "CSRF_", "EMAIL_"))
    }
    env.update(production_environment())
    env.update(
        DJANGO_SETTINGS_MODULE="otklik.settings",
        OTKLIK_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(PROJECT / "src"),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "ERROR" not in output


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
def test_staff_pages_carry_a_strict_csp_and_no_store(cast, client):
    client.force_login(cast.alice)
    person = ClientFactory()
    for url in ("/", f"/clients/{person.pk}/", reverse("chat:queue"), "/api/cases"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        policy = _csp(response)
        assert "'unsafe-inline'" not in policy["script-src"], url
        assert "'unsafe-eval'" not in policy["script-src"], url
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.mark.django_db
def test_the_inline_script_carries_the_nonce_of_its_response(cast, client):
    client.force_login(cast.alice)
    response = client.get(reverse("chat:queue"))
    nonce = re.search(r"'nonce-([^']+)'", _csp(response)["script-src"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert "<script>" not in response.content.decode()


@pytest.mark.django_db
def test_portal_and_public_pages_are_not_stored_but_static_files_are_cacheable(client):
    for url in (reverse("portal:login"), reverse("faq:home"), reverse("chat:demo")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url  # never_cache adds more
        assert "Content-Security-Policy" in response
    static = client.get("/static/workspace/workspace.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
