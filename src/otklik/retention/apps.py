from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "otklik.retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from otklik.retention import checks  # noqa: F401  (registers the system check)
