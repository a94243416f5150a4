from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.views.decorators.http import require_GET

from otklik.audit.services import audit_record
from otklik.common.uploads import file_download
from otklik.imports.selectors import file_get_for_user


@login_required
@require_GET
def imported_file(request: HttpRequest, file_id: int) -> FileResponse:
    """A file from the old desk, for whoever may see its case; the read is audited."""
    found = file_get_for_user(user=request.user, file_id=file_id)
    audit_record(
        actor=request.user,
        action="case.file",
        via="workspace",
        client_id=found.case.client_id,
        obj=found,
        request=request,
        detail=found.name,
    )
    return file_download(
        found.file.open("rb"),
        name=found.name,
        content_type=found.content_type,
        inline=found.content_type.startswith("image/"),
    )
