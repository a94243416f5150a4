"""Reads on imported tickets: the files of a case, each following the case's visibility."""

from django.http import Http404

from otklik.accounts.models import User
from otklik.cases.models import Case
from otklik.cases.selectors import case_get_for_user
from otklik.imports.models import ImportedFile, ImportedRecord


def case_files(*, case: Case) -> list[ImportedFile]:
    """The files the old desk's articles carried (the caller has the case, so may see it)."""
    return list(
        ImportedFile.objects.filter(case=case)
        .select_related("message")
        .order_by("message_id", "id")
    )


def case_origin(*, case: Case) -> ImportedRecord | None:
    """Where an imported case came from (e.g. zammad ticket 42), None for our own cases."""
    return ImportedRecord.objects.filter(kind="ticket", object_id=case.pk).first()


def file_get_for_user(*, user: User, file_id: int) -> ImportedFile:
    """An imported file of a case the user may see; 404 otherwise (no hint it exists)."""
    found = ImportedFile.objects.filter(pk=file_id).first()
    if found is None:
        raise Http404("file not found")
    case_get_for_user(user=user, case_id=found.case_id)
    return found
