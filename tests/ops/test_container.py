"""The container files, checked where no container runtime runs (deploy/check_image_steps.sh
runs the image's steps themselves)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dockerfile_final_stage() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)
    return [line.strip() for line in stages[-1].splitlines() if line.strip()]


def test_the_image_runs_the_production_server_as_an_unprivileged_user():
    final = _dockerfile_final_stage()
    assert final[0].startswith("python:3.12-slim")
    user = [line for line in final if line.startswith("USER ")]
    assert user and user[-1] not in {"USER root", "USER 0"}
    cmd = [line for line in final if line.startswith("CMD ")][-1]
    assert "gunicorn" in cmd and "otklik.asgi:application" in cmd
    assert any(line.startswith("HEALTHCHECK") for line in final)
    # No compiler or dev tools in what ships: dependencies come from the production lock.
    text = (ROOT / "Dockerfile").read_text()
    assert "requirements.prod.lock" in text and "--require-hashes" in text
    assert "build-essential" not in text and "gcc" not in text


def test_the_production_lock_pins_everything_with_hashes_and_no_dev_tools():
    lock = (ROOT / "requirements.prod.lock").read_text()
    pins = re.findall(r"^([a-z0-9_.-]+)==", lock, flags=re.M)
    assert {"django", "gunicorn", "uvicorn", "uvicorn-worker", "prometheus-client"} <= set(pins)
    assert not {"pytest", "playwright", "ruff"} & set(pins)
    assert lock.count("--hash=sha256:") >= len(pins)
    dev_lock = (ROOT / "requirements.lock").read_text()
    assert "pytest==" in dev_lock and "--hash=sha256:" in dev_lock


def test_compose_runs_postgres_redis_app_and_worker_with_the_readme_variables():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"db", "redis", "app", "worker", "migrate"} <= set(services)
    assert services["worker"]["command"][:2] == ["django-admin", "run_worker"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    env = services["app"]["environment"]
    assert env == services["worker"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
    readme = (ROOT / "README.md").read_text()
    undocumented = [name for name in env if f"`{name}`" not in readme]
    assert not undocumented, f"compose sets variables the README does not explain: {undocumented}"
    # The worker and the app share /data (uploads, the audit spool the worker flushes).
    assert services["app"]["volumes"] == services["worker"]["volumes"]
