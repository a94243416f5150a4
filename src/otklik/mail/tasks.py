"""Background tasks of the mail app: thin wrappers around sending and polling."""

from django.tasks import task

from otklik.mail import outbound


@task
def deliver_mail(mail_id: int) -> str:
    """Send one queued e-mail now (the periodic scan is the safety net)."""
    return outbound.deliver(mail_id)
