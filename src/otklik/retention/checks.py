"""`manage.py check` refuses retention settings the job would refuse at run time."""

from django.core.checks import Error, register


@register()
def retention_settings_check(app_configs, **kwargs) -> list[Error]:
    from otklik.retention.policy import configuration_errors

    return [Error(message, id="retention.E001") for message in configuration_errors()]
