from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationshipConfig(AppConfig):
    name = "otklik.relationship"
    verbose_name = _("Personal manager's desk")
