from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "otklik.common"
