from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresenceConfig(AppConfig):
    name = "otklik.presence"
    verbose_name = _("Presence and drafts")

    def ready(self) -> None:
        from otklik.presence import signals  # noqa: F401  (case events → open case pages)
