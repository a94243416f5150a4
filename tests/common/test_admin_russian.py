"""Defect 11: the admin speaks Russian: app, model and field names of every registered model
(«Task Results», «ACTOR» were English)."""

import re

from django.apps import apps
from django.contrib import admin
from django.utils import translation

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
# Names that are Russian usage as they are.
ALLOWED = {"API", "SLA", "CSI", "IP", "URL", "TOTP", "ID", "PIN", "SMS", "JSON", "IP-адрес"}


def _russian(text) -> bool:
    text = str(text)
    return bool(CYRILLIC.search(text)) or text.strip() in ALLOWED


def test_every_admin_model_app_and_field_name_is_russian():
    english = []
    with translation.override("ru"):
        for model in admin.site._registry:
            meta = model._meta
            label = meta.label
            app = apps.get_app_config(meta.app_label)
            if not _russian(app.verbose_name):
                english.append(f"{label}: app «{app.verbose_name}»")
            for name in (meta.verbose_name, meta.verbose_name_plural):
                if not _russian(name):
                    english.append(f"{label}: model «{name}»")
            if meta.proxy and not meta.concrete_model.__module__.startswith("otklik."):
                # A third-party model shown through our proxy: its admin labels every field.
                model_admin = admin.site._registry[model]
                for column in model_admin.get_readonly_fields(None):
                    if not _russian(column.short_description):
                        english.append(f"{label}: column «{column.short_description}»")
                continue
            for field in meta.get_fields():
                if not getattr(field, "concrete", False) or getattr(field, "auto_created", False):
                    continue
                if not _russian(field.verbose_name):
                    english.append(f"{label}.{field.name}: «{field.verbose_name}»")
    assert english == [], "\n".join(english)


def test_admin_pages_show_no_english_names(admin_client, cast):
    from otklik.audit.services import audit_record

    audit_record(actor=cast.alice, action="client.view", via="workspace")
    index = admin_client.get("/admin/").content.decode()
    assert "Task Results" not in index and "Tasks Database Backend" not in index
    assert "Фоновые задачи" in index
    page = admin_client.get("/admin/audit/auditrecord/").content.decode()
    assert ">Сотрудник<" in page and ">Actor<" not in page
    assert admin_client.get("/admin/jobs/taskresult/").status_code == 200
