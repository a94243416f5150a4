from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "otklik.cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from otklik.accounts.models import Team
        from otklik.cases.models import Topic
        from otklik.cases.selectors import TOPICS_GENERATION
        from otklik.common import generations

        def topics_changed(**kwargs) -> None:
            generations.bump(TOPICS_GENERATION)

        # Topics are held in memory (cases.selectors); a topic or its team changing
        # must reach every process.
        for model in (Topic, Team):
            for signal, what in ((post_save, "save"), (post_delete, "delete")):
                signal.connect(  # weak=False: the receiver is local to ready()
                    topics_changed,
                    sender=model,
                    weak=False,
                    dispatch_uid=f"topics-{what}-{model.__name__}",
                )
