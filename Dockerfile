# Otklik's production image: the app (gunicorn + uvicorn workers) or, with another command,
# the worker. Small: python:3.12-slim, dependencies from requirements.prod.lock (hashes,
# no dev tools), no compiler in the final stage; runs as an unprivileged user.
# Build: docker build -t otklik .   Run everything: docker compose up (compose.yaml).

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements.prod.lock /build/
RUN uv venv /venv && VIRTUAL_ENV=/venv uv pip install --no-cache --require-hashes \
        -r /build/requirements.prod.lock
COPY pyproject.toml README.md /build/
COPY src /build/src
RUN VIRTUAL_ENV=/venv uv pip install --no-cache --no-deps /build
# Message catalogues compiled inside the installed package (a throwaway secret: only the
# settings module needs one to load; nothing is signed here).
RUN DEBUG=1 OTKLIK_VAR_DIR=/tmp/build-var DJANGO_SETTINGS_MODULE=otklik.settings \
        /venv/bin/django-admin compile_locales && rm -rf /tmp/build-var

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin otklik \
    && mkdir -p /app/deploy /data \
    && chown otklik /data
COPY --from=build /venv /venv
COPY deploy/gunicorn.conf.py /app/deploy/gunicorn.conf.py
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=otklik.settings \
    OTKLIK_VAR_DIR=/data \
    OTKLIK_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    HOST=0.0.0.0 \
    PORT=8000
USER otklik
WORKDIR /app
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz/live', timeout=4)"]
# The worker: `django-admin run_worker`; migrations: `django-admin migrate --noinput`.
CMD ["gunicorn", "--config", "/app/deploy/gunicorn.conf.py", "otklik.asgi:application"]
