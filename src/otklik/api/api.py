"""The Otklik JSON API (docs at /api/docs, schema at /api/openapi.json)."""

from ninja import NinjaAPI

from otklik.api import actions, cases, clients, interactions, knowledge, telephony
from otklik.api.auth import api_auth
from otklik.api.errors import install_error_handlers
from otklik.relationship import api as relationship_api

api = NinjaAPI(
    title="Otklik API",
    version="1",
    docs_url="/docs",
    auth=api_auth,
    description=(
        "Clients, products, cases, interactions and messages. Authenticate with "
        "`Authorization: Bearer <token>` (see `manage.py create_api_token`) or the workspace "
        'session. Errors: `{"detail": [{"loc", "msg", "type", "field"}]}`.'
    ),
)
install_error_handlers(api)
api.add_router("", clients.router)
api.add_router("", cases.router)
api.add_router("", interactions.router)
api.add_router("", knowledge.router)
api.add_router("", actions.router)
api.add_router("", relationship_api.router)
api.add_router("", telephony.router)
