"""Mailbox passwords at rest: sealed with Fernet under OTKLIK_MAIL_SECRET_KEY.

The key is an install secret of its own (common/secrets.py), so a database dump alone does
not give away the mailboxes; the plain password exists only in memory while connecting.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialUnreadable(Exception):
    """The sealed password cannot be read (the key changed): set the password again."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.OTKLIK_MAIL_SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_password(plain: str) -> str:
    """The encrypted form stored in the database ("" stays "")."""
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def open_password(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise CredentialUnreadable("the mailbox password cannot be decrypted") from None
