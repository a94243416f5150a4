"""Second factor for staff: TOTP (RFC 6238) with enrolment, replay refusal and sealing.

The secret (pyotp's base32) is sealed with Fernet under OTKLIK_TOTP_SECRET_KEY; only the
enrolment page, before confirmation, ever shows it. A code is accepted for the current
step and one step either side (clock drift), and only for a step later than the last
accepted one, so a code seen over a shoulder cannot be used again.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from io import BytesIO

import pyotp
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from otklik.accounts.models import Role, StaffTotp, User

STEP_SECONDS = 30
ISSUER = "Otklik"


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.OTKLIK_TOTP_SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _secret(device: StaffTotp) -> str:
    return _fernet().decrypt(device.sealed_secret.encode()).decode()


def second_factor_required(user: User) -> bool:
    """Whether this user must use a second factor (OTKLIK_REQUIRE_2FA_ROLES)."""
    roles = set(settings.OTKLIK_REQUIRE_2FA_ROLES)
    if not roles or not getattr(user, "is_authenticated", False):
        return False
    return user.role in roles or (user.is_superuser and Role.ADMIN in roles)


def is_enrolled(user: User) -> bool:
    return StaffTotp.objects.filter(user=user, confirmed_at__isnull=False).exists()


@transaction.atomic
def enrolment_start(*, user: User, now: datetime | None = None) -> tuple[StaffTotp, str]:
    """A new unconfirmed authenticator (replacing an unconfirmed one): (row, secret).

    Refuses to replace a confirmed authenticator: that takes an administrator's reset.
    """
    now = now or timezone.now()
    existing = StaffTotp.objects.select_for_update().filter(user=user).first()
    if existing is not None and existing.confirmed_at is not None:
        raise ValueError("already enrolled")
    secret = pyotp.random_base32()
    sealed = _fernet().encrypt(secret.encode()).decode()
    if existing is None:
        row = StaffTotp.objects.create(user=user, sealed_secret=sealed, created_at=now)
    else:
        existing.sealed_secret, existing.created_at, existing.last_step = sealed, now, 0
        existing.save(update_fields=["sealed_secret", "created_at", "last_step"])
        row = existing
    return row, secret


PENDING_LIFETIME = timedelta(minutes=10)


def pending_secret(*, user: User, now: datetime | None = None) -> str | None:
    """The secret of an unconfirmed authenticator younger than PENDING_LIFETIME (the
    enrolment page shows it until confirmed), else None."""
    now = now or timezone.now()
    row = StaffTotp.objects.filter(
        user=user, confirmed_at__isnull=True, created_at__gt=now - PENDING_LIFETIME
    ).first()
    return _secret(row) if row is not None else None


def provisioning_uri(*, user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image library needed)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # no XML declaration inside HTML


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in (current - 1, current, current + 1):  # compare all: no early exit timing
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def verify(*, user: User, code: str, now: datetime | None = None, confirming: bool = False):
    """True if `code` is valid now and was not used before (the step is then consumed).

    `confirming`: the enrolment check of an unconfirmed authenticator, which it confirms.
    """
    now = now or timezone.now()
    row = StaffTotp.objects.filter(user=user, confirmed_at__isnull=confirming).first()
    if row is None:
        return False
    step = _matching_step(_secret(row), code, now)
    if step is None:
        return False
    changes = {"last_step": step}
    if confirming:
        changes["confirmed_at"] = now
    # Conditional: of two requests with the same code only one consumes the step.
    return StaffTotp.objects.filter(pk=row.pk, last_step__lt=step).update(**changes) == 1


def reset(*, user: User) -> None:
    """Remove the user's authenticator (an administrator's action; they enrol again)."""
    StaffTotp.objects.filter(user=user).delete()
