from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "otklik.sla"
    verbose_name = _("Service levels and calendars")

    def ready(self) -> None:
        from otklik.sla.config import connect_signals

        connect_signals()
