from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationshipConfig(AppConfig):
    name = "otklik.relationship"
    verbose_name = _("Personal manager's desk")

    def ready(self) -> None:
        # Who serves a client while his manager is away: the desk's rule, given to the
        # lower apps (chat routing, the portal) through clients.serving.
        from otklik.clients.serving import register_deputy_rule
        from otklik.relationship.selectors import AbsenceRule

        register_deputy_rule(AbsenceRule())
