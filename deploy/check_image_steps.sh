#!/usr/bin/env bash
# The Dockerfile's steps without a container runtime (CI and this machine have the docker
# client but no daemon): build the same virtualenv from requirements.prod.lock with uv,
# install the package (not editable), compile the catalogues inside it, then run it as the
# image does — settings from the environment only, data under a fresh OTKLIK_VAR_DIR,
# gunicorn with its config — and ask it for liveness, readiness, a page and a static file.
# Not covered here: the base image, the non-root user, volumes and compose networking.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$(command -v python3.12 || command -v python3)}
PORT=${CHECK_PORT:-8188}
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

echo "== uv (as the build stage: pip install uv)"
"$PY" -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install --quiet --disable-pip-version-check uv==0.13.9
UV="$WORK/tools/bin/uv"

echo "== dependencies from requirements.prod.lock (hashes required)"
"$UV" venv --quiet --python "$PY" "$WORK/venv"
VIRTUAL_ENV="$WORK/venv" "$UV" pip install --quiet --require-hashes -r "$ROOT/requirements.prod.lock"

echo "== the package itself, not editable"
mkdir -p "$WORK/build"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/src" "$WORK/build/"
VIRTUAL_ENV="$WORK/venv" "$UV" pip install --quiet --no-deps "$WORK/build"
rm -rf "$WORK/build"

echo "== message catalogues compiled inside the installed package"
(cd "$WORK" && DEBUG=1 OTKLIK_VAR_DIR="$WORK/build-var" DJANGO_SETTINGS_MODULE=otklik.settings \
  "$WORK/venv/bin/django-admin" compile_locales)
rm -rf "$WORK/build-var"

echo "== run as the image: environment only, migrate, gunicorn"
export PATH="$WORK/venv/bin:$PATH" DJANGO_SETTINGS_MODULE=otklik.settings
export OTKLIK_VAR_DIR="$WORK/data" OTKLIK_LOG_FORMAT=json PROMETHEUS_MULTIPROC_DIR="$WORK/prometheus"
export HOST=127.0.0.1 PORT WEB_CONCURRENCY=2 DEBUG=0
export SECRET_KEY="check-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export OTKLIK_BACKOFFICE_SECRET=check-backoffice OTKLIK_OUTBOX_SECRET_KEY=check-outbox-key
export OTKLIK_TOTP_SECRET_KEY=check-totp-key OTKLIK_PUBLIC_URL="http://127.0.0.1:$PORT/"
export OTKLIK_MAIL_SECRET_KEY=check-mail-key OTKLIK_CTI_SECRET=check-cti-secret
unset DATABASE_URL REDIS_URL PYTHONPATH
mkdir -p "$WORK/data"
cd "$WORK"
django-admin check
django-admin migrate --noinput -v0
gunicorn --config "$ROOT/deploy/gunicorn.conf.py" otklik.asgi:application >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz/live" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz/live"; echo
curl -fsS "http://127.0.0.1:$PORT/healthz/ready"; echo
curl -fsS -o /dev/null -w "login page %{http_code}\n" "http://127.0.0.1:$PORT/login/"
curl -fsS -o /dev/null -w "static file %{http_code}\n" "http://127.0.0.1:$PORT/static/chat/widget.js"
grep -q '"logger": "otklik.request"' "$WORK/server.log" || { echo "no JSON access line"; exit 1; }
echo "image steps OK"
