"""API test helpers: a JSON client authenticated with a real bearer token."""

import json

import pytest
from django.test import Client as DjangoClient

from otklik.accounts.models import User
from otklik.accounts.services import api_token_create


class ApiClient:
    """Thin JSON wrapper over Django's test client, sending `Authorization: Bearer`."""

    def __init__(self, raw_token: str | None):
        headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}
        self.http = DjangoClient(headers=headers)

    def get(self, path: str, params: dict | None = None):
        return self.http.get(path, params or {})

    def post(self, path: str, body: dict | None = None, key: str | None = None):
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post(
            path, json.dumps(body or {}), content_type="application/json", headers=headers
        )

    def patch(self, path: str, body: dict):
        return self.http.patch(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def api():
    """`api(user)` → an ApiClient acting as `user` through a fresh token."""

    def make(user: User) -> ApiClient:
        _, raw = api_token_create(user=user, name="test")
        return ApiClient(raw)

    return make


def fields(response) -> set[str]:
    """The fields named by an error response."""
    return {item["field"] for item in response.json()["detail"]}
