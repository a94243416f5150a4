"""Search queries used to be logged as typed ("q=2200 7000 …"); hide their long numbers."""

from django.db import migrations

from otklik.common.masking import mask_digits


def mask_search_details(apps, schema_editor):
    AuditRecord = apps.get_model("audit", "AuditRecord")
    rows = AuditRecord.objects.filter(action="client.search").exclude(detail="")
    changed = []
    for record in rows.only("pk", "detail").iterator(chunk_size=2000):
        masked = mask_digits(record.detail)
        if masked != record.detail:
            record.detail = masked
            changed.append(record)
        if len(changed) >= 1000:
            AuditRecord.objects.bulk_update(changed, ["detail"])
            changed = []
    if changed:
        AuditRecord.objects.bulk_update(changed, ["detail"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(mask_search_details, migrations.RunPython.noop)]
