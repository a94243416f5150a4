"""The story library in the browser. Every page shows the redacted copy only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.accounts.models import Role, Team, User
from otklik.cases.selectors import case_get_for_user, topic_get, topic_list_active
from otklik.chat.selectors import conversation_get_for_user
from otklik.clients.models import ProductKind
from otklik.common.errors import ServiceError
from otklik.common.web import htmx_redirect, int_or_none, service_errors
from otklik.library import services
from otklik.library.models import StoryKind, StoryStatus
from otklik.library.selectors import (
    assignment_of,
    assignment_progress,
    assignments_for,
    can_curate,
    story_get_for_user,
    story_search,
)

UNPROCESSABLE = 422


def _kind_labels() -> dict[str, str]:
    return {
        "card": _("card numbers"),
        "inn": _("ИНН"),
        "snils": _("СНИЛС"),
        "passport": _("passport numbers"),
        "phone": _("phones"),
        "email": _("e-mails"),
        "address": _("addresses"),
        "amount": _("amounts"),
        "name": _("names"),
        "number": _("other numbers"),
        "manual": _("hidden by the reviewer"),
    }


@login_required
@require_GET
def story_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "")
    context = {
        "stories": story_search(
            user=user,
            query=request.GET.get("q", ""),
            topic_id=int_or_none(request.GET.get("topic")),
            product_kind=request.GET.get("product", ""),
            status=status if status in StoryStatus.values else "",
        )[:200],
        "assigned": assignments_for(user=user).filter(acknowledged_at__isnull=True),
        "topics": topic_list_active(),
        "products": ProductKind.choices,
        "statuses": StoryStatus.choices if can_curate(user) else [],
        "q": request.GET.get("q", ""),
        "topic_id": int_or_none(request.GET.get("topic")),
        "product": request.GET.get("product", ""),
        "status": status,
        "curator": can_curate(user),
    }
    return render(request, "library/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def story_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_curate(user):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    case_id = int_or_none(source.get("case"))
    chat_id = int_or_none(source.get("chat"))
    case = case_get_for_user(user=user, case_id=case_id) if case_id else None
    chat = conversation_get_for_user(user=user, conversation_id=chat_id) if chat_id else None
    context = {
        "case": case,
        "chat": chat,
        "kinds": StoryKind.choices,
        "products": ProductKind.choices,
        "errors": {},
        "values": source,
    }
    if request.method == "GET":
        return render(request, "library/new.html", context)
    try:
        story = services.story_create(
            actor=user,
            kind=request.POST.get("kind", ""),
            note=request.POST.get("note", ""),
            case=case,
            conversation=chat,
            title=request.POST.get("title", ""),
            hide_amounts=request.POST.get("hide_amounts") == "1",
            product_kind=request.POST.get("product_kind", ""),
        )
    except ServiceError as exc:
        context["errors"] = service_errors(exc)
        return render(request, "library/new.html", context, status=UNPROCESSABLE)
    messages.success(request, _("The redacted copy is ready for review."))
    return htmx_redirect(request, reverse("library:detail", args=[story.pk]))


@login_required
@require_GET
def story_detail(request: HttpRequest, story_id: int) -> HttpResponse:
    user = request.user
    story = story_get_for_user(user=user, story_id=story_id)
    curator = can_curate(user)
    context = {
        "story": story,
        "curator": curator,
        "assignment": assignment_of(user=user, story=story),
        "progress": assignment_progress(story=story) if curator else [],
        "teams": Team.objects.order_by("name") if curator else [],
        "operators": User.objects.filter(
            is_active=True, role__in=[Role.OPERATOR, Role.SENIOR_OPERATOR, Role.PERSONAL_MANAGER]
        ).order_by("last_name")
        if curator
        else [],
        "topics": topic_list_active() if curator else [],
        "product_label": dict(ProductKind.choices).get(story.product_kind, ""),
        "removed": [(_kind_labels().get(k, k), n) for k, n in story.redactions.items()],
    }
    return render(request, "library/detail.html", context)


def _back(request: HttpRequest, story_id: int) -> HttpResponse:
    return htmx_redirect(request, reverse("library:detail", args=[story_id]))


def _run(request: HttpRequest, story_id: int, action) -> HttpResponse:
    story = story_get_for_user(user=request.user, story_id=story_id)
    try:
        action(story)
    except ServiceError as exc:
        messages.error(request, " ".join(service_errors(exc).values()))
    return _back(request, story_id)


@login_required
@require_POST
def story_redact(request: HttpRequest, story_id: int) -> HttpResponse:
    fragments = request.POST.get("fragments", "").splitlines()
    topic_id = int_or_none(request.POST.get("topic"))
    return _run(
        request,
        story_id,
        lambda story: services.story_redact_more(
            actor=request.user,
            story=story,
            fragments=fragments,
            title=request.POST.get("title"),
            topic=topic_get(topic_id=topic_id) if topic_id else None,
        ),
    )


@login_required
@require_POST
def story_publish(request: HttpRequest, story_id: int) -> HttpResponse:
    return _run(
        request, story_id, lambda story: services.story_publish(actor=request.user, story=story)
    )


@login_required
@require_POST
def story_withdraw(request: HttpRequest, story_id: int) -> HttpResponse:
    return _run(
        request, story_id, lambda story: services.story_withdraw(actor=request.user, story=story)
    )


@login_required
@require_POST
def story_assign(request: HttpRequest, story_id: int) -> HttpResponse:
    if not can_curate(request.user):
        raise PermissionDenied
    team_id = int_or_none(request.POST.get("team"))
    user_ids = [i for i in (int_or_none(v) for v in request.POST.getlist("users")) if i]
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    users = list(User.objects.filter(pk__in=user_ids, is_active=True))

    def assign(story):
        n = services.story_assign(actor=request.user, story=story, users=users, team=team)
        messages.success(request, _("Assigned to %(n)s people.") % {"n": n})

    return _run(request, story_id, assign)


@login_required
@require_POST
def story_acknowledge(request: HttpRequest, story_id: int) -> HttpResponse:
    return _run(
        request, story_id, lambda story: services.story_acknowledge(user=request.user, story=story)
    )
