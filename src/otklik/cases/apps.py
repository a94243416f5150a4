from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "otklik.cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from otklik.accounts.models import Team
        from otklik.cases.models import Topic
        from otklik.cases.selectors import TOPICS_GENERATION
        from otklik.common import generations

        # Topics are held in memory (cases.selectors); a topic or its team changing must
        # reach every process.
        generations.bump_on_change(TOPICS_GENERATION, (Topic, Team))
