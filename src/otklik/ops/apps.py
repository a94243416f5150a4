from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    name = "otklik.ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from otklik.ops import jobs_context  # noqa: F401  (connects the task signals)
