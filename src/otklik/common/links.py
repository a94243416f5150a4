"""Absolute links for messages read outside the site (e-mail, SMS, webhooks).

A relative path such as /cases/82/ cannot be clicked in a mail client, and a host guessed
from the request is wrong in a worker, so every such link is built from one setting,
OTKLIK_PUBLIC_URL (default: what `make run` serves).
"""

from urllib.parse import urljoin

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """`path` (an absolute path such as "/cases/1/") on the site's public base URL."""
    return urljoin(settings.OTKLIK_PUBLIC_URL, path.lstrip("/"))


def absolute_reverse(viewname: str, *, args: list | tuple | None = None) -> str:
    """`reverse()` made absolute: the link a mail or SMS should carry."""
    return absolute_url(reverse(viewname, args=args))
