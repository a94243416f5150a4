"""The knowledge base in the workspace: search, articles, editing, pins, acknowledgements.

Views translate HTTP into selector/service calls; every fetch goes through a selector that
checks visibility (404 otherwise) and every write through a service. htmx requests get
fragments, plain requests full pages.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.accounts.models import Role, User
from otklik.cases.models import Topic
from otklik.cases.selectors import case_get_for_user, topic_list_active
from otklik.clients.models import ChannelKind, ProductKind, RestrictionKind
from otklik.common.errors import ServiceError
from otklik.common.web import is_htmx as _is_htmx
from otklik.common.web import service_errors as _errors
from otklik.knowledge import selectors, services
from otklik.knowledge.models import Article, ArticleKind, ArticleStatus, Audience
from otklik.knowledge.templatetags.knowledge import case_panel_context

UNPROCESSABLE = 422


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = fallback
    return HttpResponseRedirect(target or fallback)


def _require_editor(request: HttpRequest) -> None:
    if not services.can_edit_knowledge(request.user):
        raise PermissionDenied


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


# --- search and list ------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "title")
    articles = selectors.article_list_for_user(
        user=request.user, kind=kind, status=status, sort=sort
    )
    context = {
        "q": q,
        "result": _search(request, q) if q.strip() else None,
        "articles": articles,
        "kind": kind,
        "status": status,
        "sort": sort,
        "kinds": ArticleKind.choices,
        "statuses": ArticleStatus.choices,
        "is_editor": services.can_edit_knowledge(request.user),
        "explain": request.GET.get("explain") == "1",
    }
    return render(request, "knowledge/home.html", context)


def _search(request: HttpRequest, q: str):
    audience = Audience.CLIENT if request.GET.get("as") == "client" else None
    return selectors.search_articles(
        user=request.user, query=q, limit=10, as_you_type=True, audience=audience
    )


@login_required
@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    context = {
        "q": q,
        "result": _search(request, q) if q.strip() else None,
        "is_editor": services.can_edit_knowledge(request.user),
        "explain": request.GET.get("explain") == "1" and services.can_edit_knowledge(request.user),
    }
    return render(request, "knowledge/_search_results.html", context)


# --- one article -------------------------------------------------------------------------


@login_required
@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    article = selectors.article_get_for_user(user=user, slug=slug)
    is_editor = services.can_edit_knowledge(user)
    version = article.published_version
    number = _int(request.GET.get("v"))
    if is_editor and (number or version is None):
        version = (
            selectors.version_get(article=article, number=number)
            if number
            else article.versions.order_by("-number").first()
        )
    case = None
    case_id = _int(request.GET.get("case"))
    if case_id:
        case = case_get_for_user(user=user, case_id=case_id)
    pinned = bool(case and article.pins.filter(case=case).exists())
    acks = [a for a in selectors.pending_acks_for_user(user=user) if a.article_id == article.pk]
    context = {
        "article": article,
        "version": version,
        "is_editor": is_editor,
        "is_published_version": version is not None and version.pk == article.published_version_id,
        "latest_number": article.versions.order_by("-number").values_list("number", flat=True)[0],
        "case": case,
        "pinned": pinned,
        "pending_ack": acks[0] if acks else None,
        "related": selectors.related_articles(user=user, article=article),
        "stats": selectors.article_stats(article=article) if is_editor else None,
        "topics": list(article.topics.all()),
        "product_labels": _labels(article.product_kinds, ProductKind),
        "restriction_labels": _labels(article.restriction_kinds, RestrictionKind),
        "channel_labels": _labels(article.channels, ChannelKind),
        "role_labels": _labels(article.roles, Role),
    }
    return render(request, "knowledge/article.html", context)


def _labels(values, choices) -> list[str]:
    names = dict(choices.choices)
    return [str(names.get(v, v)) for v in values or ()]


@login_required
@require_GET
def article_history(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    versions = selectors.article_versions(article=article)
    rows = [(v, selectors.version_diff(version=v)) for v in versions]
    return render(request, "knowledge/history.html", {"article": article, "rows": rows})


# --- editing -----------------------------------------------------------------------------


def _form_context(article: Article | None, values: dict, errors: dict) -> dict:
    return {
        "article": article,
        "values": values,
        "errors": errors,
        "kinds": ArticleKind.choices,
        "audiences": Audience.choices,
        "product_choices": ProductKind.choices,
        "restriction_choices": RestrictionKind.choices,
        "channel_choices": ChannelKind.choices,
        "role_choices": Role.choices,
        "topics": list(topic_list_active()),
        "owners": list(
            User.objects.filter(is_active=True, role__in=services.EDITOR_ROLES).order_by(
                "last_name", "username"
            )
        ),
    }


def _values_from_article(article: Article) -> dict:
    latest = article.versions.order_by("-number").first()
    return {
        "kind": article.kind,
        "audience": article.audience,
        "title": latest.title if latest else article.title,
        "slug": article.slug,
        "body": latest.body if latest else "",
        "steps": "\n".join(latest.steps) if latest else "",
        "note": "",
        "product_kinds": list(article.product_kinds),
        "restriction_kinds": list(article.restriction_kinds),
        "channels": list(article.channels),
        "roles": list(article.roles),
        "topics": [str(t.pk) for t in article.topics.all()],
        "owner": str(article.owner_id or ""),
        "review_by": article.review_by.isoformat() if article.review_by else "",
        "related": ", ".join(article.related.order_by("slug").values_list("slug", flat=True)),
    }


def _values_from_post(post) -> dict:
    return {
        "kind": post.get("kind", ""),
        "audience": post.get("audience", ""),
        "title": post.get("title", ""),
        "slug": post.get("slug", ""),
        "body": post.get("body", ""),
        "steps": post.get("steps", ""),
        "note": post.get("note", ""),
        "product_kinds": post.getlist("product_kinds"),
        "restriction_kinds": post.getlist("restriction_kinds"),
        "channels": post.getlist("channels"),
        "roles": post.getlist("roles"),
        "topics": post.getlist("topics"),
        "owner": post.get("owner", ""),
        "review_by": post.get("review_by", ""),
        "related": post.get("related", ""),
    }


def _parse_meta(values: dict) -> dict:
    errors = {}
    review_by = None
    if values["review_by"]:
        try:
            review_by = date.fromisoformat(values["review_by"])
        except ValueError:
            errors["review_by"] = _("Enter a date.")
    owner = None
    if values["owner"]:
        owner = User.objects.filter(pk=_int(values["owner"]), is_active=True).first()
        if owner is None:
            errors["owner"] = _("Choose an owner from the list.")
    topic_ids = [i for i in (_int(t) for t in values["topics"]) if i]
    topics = list(Topic.objects.filter(pk__in=topic_ids))
    if errors:
        raise ServiceError(errors)
    return {
        "steps": values["steps"].splitlines(),
        "owner": owner,
        "review_by": review_by,
        "topics": topics,
        "related": [s for s in values["related"].replace(",", " ").split() if s],
    }


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    if request.method == "GET":
        values = {"kind": ArticleKind.PROCEDURE, "audience": Audience.INTERNAL, "topics": []}
        return render(request, "knowledge/edit.html", _form_context(None, values, {}))
    values = _values_from_post(request.POST)
    try:
        meta = _parse_meta(values)
        article = services.article_create(
            author=request.user,
            kind=values["kind"],
            audience=values["audience"],
            title=values["title"],
            slug=values["slug"],
            body=values["body"],
            steps=meta["steps"],
            owner=meta["owner"],
            review_by=meta["review_by"],
            product_kinds=values["product_kinds"],
            restriction_kinds=values["restriction_kinds"],
            channels=values["channels"],
            roles=values["roles"],
            topics=meta["topics"],
        )
        if meta["related"]:
            services.article_set_related(
                article=article, author=request.user, slugs=meta["related"]
            )
    except ServiceError as exc:
        context = _form_context(None, values, _errors(exc))
        return render(request, "knowledge/edit.html", context, status=UNPROCESSABLE)
    messages.success(request, _("Draft saved. Publish it when it is ready."))
    return HttpResponseRedirect(reverse("knowledge:article", args=[article.slug]) + "?v=1")


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    if request.method == "GET":
        values = _values_from_article(article)
        return render(request, "knowledge/edit.html", _form_context(article, values, {}))
    values = _values_from_post(request.POST)
    before = _values_from_article(article)
    try:
        meta = _parse_meta(values)
        version = None
        if any(values[k].strip() != before[k].strip() for k in ("title", "body", "steps")):
            version = services.article_edit(
                article=article,
                author=request.user,
                title=values["title"],
                body=values["body"],
                steps=meta["steps"],
                note=values["note"],
            )
        services.article_set_applicability(
            article=article,
            author=request.user,
            product_kinds=values["product_kinds"],
            restriction_kinds=values["restriction_kinds"],
            channels=values["channels"],
            roles=values["roles"],
            topics=meta["topics"],
            audience=values["audience"],
            owner=meta["owner"],
            review_by=meta["review_by"],
        )
        services.article_set_related(article=article, author=request.user, slugs=meta["related"])
    except ServiceError as exc:
        context = _form_context(article, values, _errors(exc))
        return render(request, "knowledge/edit.html", context, status=UNPROCESSABLE)
    url = reverse("knowledge:article", args=[article.slug])
    if version is not None:
        messages.success(
            request,
            _("Version %(number)s saved as a draft. Publish it when it is ready.")
            % {"number": version.number},
        )
        url += f"?v={version.number}"
    else:
        messages.success(request, _("Applicability saved."))
    return HttpResponseRedirect(url)


@login_required
@require_POST
def article_publish(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    number = _int(request.POST.get("version"))
    version = selectors.version_get(article=article, number=number) if number else None
    try:
        version = services.article_publish(
            article=article,
            author=request.user,
            version=version,
            material=request.POST.get("material") == "1",
        )
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    else:
        messages.success(
            request, _("Version %(number)s is published.") % {"number": version.number}
        )
    return HttpResponseRedirect(reverse("knowledge:article", args=[article.slug]))


@login_required
@require_POST
def article_archive(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    services.article_archive(article=article, author=request.user)
    messages.success(request, _("The article is archived and left the search."))
    return HttpResponseRedirect(reverse("knowledge:article", args=[article.slug]))


# --- acknowledgements, use, refreshers -------------------------------------------------


@login_required
@require_POST
def article_ack(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    if services.acknowledgement_confirm(user=request.user, article=article):
        messages.success(request, _("Thank you: acknowledged."))
    return _back(request, reverse("knowledge:article", args=[article.slug]))


@login_required
@require_POST
def article_used(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_for_user(user=request.user, slug=slug)
    case = None
    case_id = _int(request.POST.get("case"))
    if case_id:
        case = case_get_for_user(user=request.user, case_id=case_id)
    try:
        services.article_mark_used(user=request.user, article=article, case=case)
    except ServiceError as exc:
        for message in _errors(exc).values():
            messages.error(request, message)
    if case is not None and _is_htmx(request):
        return _case_panel(request, case)
    if not _is_htmx(request):
        messages.success(request, _("Noted: you used this procedure."))
    return _back(request, reverse("knowledge:article", args=[article.slug]))


@login_required
@require_GET
def banner(request: HttpRequest) -> HttpResponse:
    """The header strip, fetched after the page loads so no page pays for it up front."""
    return render(request, "knowledge/_ack_banner_body.html")


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    context = {
        "acks": selectors.pending_acks_for_user(user=request.user),
        "refreshers": selectors.refreshers_for_user(user=request.user),
    }
    return render(request, "knowledge/mine.html", context)


@login_required
@require_POST
def refresher_read(request: HttpRequest, digest_id: int) -> HttpResponse:
    digest = selectors.refresher_get_for_user(user=request.user, digest_id=digest_id)
    services.refresher_mark_read(user=request.user, digest=digest)
    return _back(request, reverse("knowledge:mine"))


@login_required
@require_GET
def acks_matrix(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    matrix = selectors.ack_matrix(user=request.user, only_pending=not show_all)
    return render(request, "knowledge/acks.html", {"matrix": matrix, "show_all": show_all})


# --- the case panel ------------------------------------------------------------------------


def _case_panel(request: HttpRequest, case, **extra) -> HttpResponse:
    context = case_panel_context(user=request.user, case=case)
    context.update(extra)
    return render(request, "knowledge/_case_suggestions_body.html", context)


@login_required
@require_GET
def case_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, case_id=case_id)
    return _case_panel(request, case)


def _pin_target(request: HttpRequest, case_id: int):
    case = case_get_for_user(user=request.user, case_id=case_id)
    article = selectors.article_get_for_user(user=request.user, slug=request.POST.get("slug", ""))
    return case, article


@login_required
@require_POST
def case_pin(request: HttpRequest, case_id: int) -> HttpResponse:
    case, article = _pin_target(request, case_id)
    error = ""
    try:
        services.case_pin(user=request.user, case=case, article=article)
    except ServiceError as exc:
        error = " ".join(_errors(exc).values())
    if _is_htmx(request):
        return _case_panel(request, case, panel_error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Pinned to case %(ref)s.") % {"ref": case.reference})
    return _back(request, reverse("workspace:case_detail", args=[case.pk]))


@login_required
@require_POST
def case_unpin(request: HttpRequest, case_id: int) -> HttpResponse:
    case, article = _pin_target(request, case_id)
    services.case_unpin(user=request.user, case=case, article=article)
    if _is_htmx(request):
        return _case_panel(request, case)
    return _back(request, reverse("workspace:case_detail", args=[case.pk]))
