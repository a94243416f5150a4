"""The analytics screens: the dashboard, the drill-down to cases, exports. Thin: the
rules live in selectors.py (scope, filters, figures) and live.py (live lists, drills)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from otklik.analytics import charts, exports, live, selectors, services
from otklik.analytics.models import ReportSubscription, SurveyChannel
from otklik.cases.models import Topic
from otklik.clients.models import BusinessLine, ChannelKind
from otklik.common.errors import ServiceError

KPIS = (
    # key, label, unit, drill
    ("contacts", gettext_lazy("Contacts"), "", "contacts"),
    ("csi", gettext_lazy("CSI, mean 1–5"), "", "csi"),
    ("csi_good", gettext_lazy("CSI, share 4–5"), " %", "csi"),
    ("nps", gettext_lazy("NPS"), "", "nps"),
    ("fcr", gettext_lazy("FCR"), " %", "fcr"),
    ("sl", gettext_lazy("Service level"), " %", "sl"),
    ("asa", gettext_lazy("ASA, s"), "", "sl"),
    ("aht", gettext_lazy("AHT, s"), "", "aht"),
    ("portal_share", gettext_lazy("Answers in ЛК within 24 h"), " %", "portal"),
    ("portal_late", gettext_lazy("Late answers in ЛК"), "", "portal_late"),
)
CHARTS = ("contacts", "csi", "nps", "fcr", "sl", "aht")


def _bad_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return render(request, "analytics/error.html", {"errors": error.messages}, status=400)


def _context(request: HttpRequest):
    scope = selectors.scope_for(request.user)
    f = selectors.filters_from(request.GET, scope=scope)
    return scope, f


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The morning screen: KPIs over the period (vs the previous one), charts, breakdowns,
    backlog, handoffs and NPS comments, all under the viewer's scope and the filters."""
    try:
        scope, f = _context(request)
    except ValidationError as error:
        return _bad_request(request, error)
    now = timezone.now()
    # Three passes over the rollups (docs/benchmarks.md): the period grouped by every
    # dimension (totals and all breakdowns), its series, the previous period's series.
    qs = selectors.rollups(scope, f)
    total, tables = selectors.overview(qs, scope)
    current = selectors.figures(total)
    prev_counters = selectors.series_counters(selectors.rollups(scope, f.previous), f.previous)
    previous = selectors.figures(selectors.sum_counters(prev_counters))
    team_figures = None
    if scope.kind == "self":
        team_figures = selectors.figures(
            selectors.totals(selectors.rollups(scope, f, team_aggregate=True))
        )
    points = selectors.series(qs, f)
    prev_points = [(b, selectors.figures(c)) for b, c in prev_counters]
    hourly = (f.until - f.since).days <= 1

    def label(bucket) -> str:
        return timezone.localtime(bucket).strftime("%H:00") if hourly else bucket.strftime("%d.%m")

    kpis = [
        {
            "key": key,
            "label": text,
            "unit": unit,
            "value": current[key],
            "previous": previous[key],
            "team": team_figures[key] if team_figures else None,
            "drill": drill,
        }
        for key, text, unit, drill in KPIS
    ]
    chart_list = []
    for key in CHARTS:
        text, unit = next((t, u) for k, t, u, _d in KPIS if k == key)
        series = [(label(b), fig[key]) for b, fig in points]
        chart_list.append(
            {
                "key": key,
                "title": text,
                "svg": charts.line_chart(
                    title=str(text),
                    points=series,
                    compare=[(label(b), fig[key]) for b, fig in prev_points] if f.compare else None,
                    unit=unit,
                    chart_id=f"chart-{key}",
                ),
                "rows": series,
                "unit": unit,
            }
        )
    dims = ["team", "channel", "topic"] + (["operator"] if scope.sees_operators() else [])
    # Each row's drill-down query is built once (not once per cell: a hundred operators).
    breakdowns = []
    for dim in dims:
        rows = tables[dim]
        breakdowns.append((dim, [(k, lbl, fig, _row_query(f, dim, k)) for k, lbl, fig in rows]))
    backlog = live.backlog(scope, f, now)
    backlog_svg = charts.bar_chart(
        title=_("Open cases by age"),
        bars=[
            (str(AGE_LABELS.get(k, k)), v) for k, v in backlog["total"].items() if k != "overdue"
        ],
        chart_id="chart-backlog",
    )
    return render(
        request,
        "analytics/dashboard.html",
        {
            "scope": scope,
            "f": f,
            "kpis": kpis,
            "charts": chart_list,
            "breakdowns": breakdowns,
            "backlog": backlog,
            "backlog_svg": backlog_svg,
            "backlog_columns": [
                AGE_LABELS.get(k) or DRILL_LABELS.get(k, k) for k in backlog["total"]
            ],
            "handoffs": live.handoffs(scope, f, now),
            "comments": live.nps_comments(scope, f),
            "teams": selectors.teams_for(scope),
            "operators": selectors.operators_for(scope),
            "channels": ChannelKind.choices,
            "topics": Topic.objects.filter(is_active=True).order_by("name"),
            "lines": BusinessLine.choices,
            "periods": [
                ("today", _("Today")),
                ("week", _("7 days")),
                ("month", _("30 days")),
                ("custom", _("Custom")),
            ],
            "query": f.as_query(),
            "subscription": ReportSubscription.objects.filter(user=request.user).first(),
            "campaigns": selectors.campaigns_with_answers(5)
            if selectors.may_send_surveys(request.user)
            else None,
        },
    )


DRILL_LABELS = {
    "contacts": gettext_lazy("Contacts"),
    "aht": gettext_lazy("AHT, s"),
    "sl": gettext_lazy("Service level"),
    "csi": "CSI",
    "csi_bad": gettext_lazy("CSI 1–3"),
    "nps": "NPS",
    "resolved": gettext_lazy("Resolved"),
    "fcr": gettext_lazy("Resolved at first contact"),
    "fcr_miss": gettext_lazy("Not resolved at first contact"),
    "portal": gettext_lazy("Answers in ЛК within 24 h"),
    "portal_late": gettext_lazy("Late answers in ЛК"),
    "backlog": gettext_lazy("Backlog now"),
    "overdue": gettext_lazy("overdue"),
    "handoffs": gettext_lazy("Handoffs to departments"),
}

# The backlog's age buckets (metrics.AGE_BUCKETS keys) as a reader says them.
AGE_LABELS = {
    "<1d": gettext_lazy("under a day"),
    "1-3d": gettext_lazy("1–3 days"),
    "3-7d": gettext_lazy("3–7 days"),
    "7-30d": gettext_lazy("7–30 days"),
    ">30d": gettext_lazy("over 30 days"),
}


def _row_query(f, dim: str, key) -> str:
    """The dashboard's query narrowed to one row of a breakdown table."""
    if dim == "topic" and not key:
        return f.as_query()
    return f.as_query(**{dim: key or ""})


@login_required
@require_GET
def drill(request: HttpRequest) -> HttpResponse:
    """The cases behind one number (same period, filters and scope)."""
    try:
        scope, f = _context(request)
        metric = request.GET.get("metric", "")
        cases = live.drill_cases(
            request.user,
            scope,
            f,
            metric,
            timezone.now(),
            department=request.GET.get("department", ""),
        )
    except ValidationError as error:
        return _bad_request(request, error)
    page = Paginator(
        cases.select_related("team", "owner", "topic").order_by("-created_at"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/drill.html",
        {
            "page": page,
            "f": f,
            "metric": DRILL_LABELS.get(metric, metric),
            "query": request.GET.urlencode(),
            "filters": f.describe(),
            "department": request.GET.get("department", ""),
        },
    )


@login_required
@require_GET
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """Any table of the dashboard as CSV or XLSX, with the filters in the file."""
    try:
        scope, f = _context(request)
        if fmt not in ("csv", "xlsx"):
            raise ValidationError(_("Unknown file format."))
        title, header, rows = _table(request, scope, f, table)
    except ValidationError as error:
        return _bad_request(request, error)
    build = exports.csv_response if fmt == "csv" else exports.xlsx_response
    stamp = timezone.localdate(f.since).isoformat()
    return build(
        filename=f"otklik-{table}-{stamp}",
        title=title,
        filters=f.describe(),
        header=header,
        rows=rows,
    )


FIGURE_COLUMNS = (
    ("contacts", gettext_lazy("Contacts")),
    ("csi", "CSI"),
    ("csi_good", gettext_lazy("CSI 4–5, %")),
    ("nps", "NPS"),
    ("fcr", "FCR, %"),
    ("sl", "SL, %"),
    ("asa", gettext_lazy("ASA, s")),
    ("aht", gettext_lazy("AHT, s")),
    ("portal_share", gettext_lazy("ЛК 24 h, %")),
)


DIM_LABELS = {
    "team": gettext_lazy("team"),
    "operator": gettext_lazy("operator"),
    "channel": gettext_lazy("channel"),
    "topic": gettext_lazy("topic"),
}


def _table(request, scope, f, table: str):
    if table in selectors.BREAKDOWNS:
        qs = selectors.rollups(scope, f)
        header = [str(DIM_LABELS[table])] + [str(label) for _k, label in FIGURE_COLUMNS]
        rows = (
            [label] + [fig[k] if fig[k] is not None else "" for k, _l in FIGURE_COLUMNS]
            for _key, label, fig in selectors.breakdown(qs, table, scope)
        )
        return _("Figures by %(dim)s") % {"dim": DIM_LABELS[table]}, header, rows
    if table == "cases":
        metric = request.GET.get("metric", "")
        cases = live.drill_cases(
            request.user,
            scope,
            f,
            metric,
            timezone.now(),
            department=request.GET.get("department", ""),
        )
        return _("Cases"), exports.case_header(), exports.case_rows(cases)
    if table == "handoffs":
        header = [
            _("Department"),
            _("Sent"),
            pgettext("department", "Answered"),
            _("On time"),
            _("Late"),
            _("On time, %"),
            _("Median answer, h"),
        ]
        rows = (
            [
                d,
                h.sent,
                h.answered,
                h.on_time,
                h.late,
                h.on_time_share or "",
                h.median_answer_hours or "",
            ]
            for d, h in live.handoffs(scope, f, timezone.now()).items()
        )
        return _("Handoffs by department"), header, rows
    if table == "backlog":
        data = live.backlog(scope, f, timezone.now())
        keys = list(data["total"])
        rows = ([team] + [counts[k] for k in keys] for team, counts in data["teams"])
        return _("Backlog by team"), [_("Team"), *keys], rows
    raise ValidationError(_("Unknown table."))


@require_http_methods(["GET", "POST"])
def nps_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The one-question page a client opens from the survey link (no sign-in: the link's
    token is the key; only its hash is stored)."""
    survey = services.nps_survey_by_token(token)
    if survey is None:
        raise Http404
    context = {"scale": range(11), "done": survey.answered_at is not None, "errors": []}
    if request.method == "POST" and not context["done"]:
        try:
            score = int(request.POST.get("score", ""))
        except ValueError:
            context["errors"] = [_("Choose a number from 0 to 10.")]
        else:
            try:
                services.nps_answer(
                    survey=survey, score=score, comment=request.POST.get("comment", "")
                )
                context["done"] = True
            except ServiceError as error:
                context["errors"] = error.messages
    status = 400 if context["errors"] else 200
    return render(request, "analytics/nps_answer.html", context, status=status)


@login_required
@require_POST
def report_subscription(request: HttpRequest) -> HttpResponse:
    """Subscribe to the weekly report, or stop it."""
    try:
        if request.POST.get("subscribe") == "1":
            services.report_subscribe(user=request.user, email=request.POST.get("email", ""))
            messages.success(request, _("The weekly report will come by e-mail on Mondays."))
        else:
            services.report_unsubscribe(user=request.user)
            messages.success(request, _("The weekly report is stopped."))
    except ServiceError as error:
        messages.error(request, " ".join(error.messages))
    return HttpResponseRedirect(reverse("analytics:dashboard"))


@login_required
@require_http_methods(["GET", "POST"])
def surveys(request: HttpRequest) -> HttpResponse:
    """The relationship survey: choose the clients (business line, segment, package
    level) and the channel, see how many will get it after the quiet period, send it
    through the outbox; the latest surveys with their answers and NPS below."""
    from otklik.clients.models import Segment
    from otklik.relationship.models import PackageLevel

    if not selectors.may_send_surveys(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    errors, audience, preview = [], None, None
    try:
        audience = selectors.audience_from(data)
        preview = selectors.audience_preview(audience, timezone.now())
    except ValidationError as error:
        errors = error.messages
    status = 400 if errors else 200
    if request.method == "POST" and audience is not None:
        try:
            campaign = services.nps_relationship_send(actor=request.user, audience=audience)
        except ServiceError as error:
            errors, status = error.messages, 400
        else:
            messages.success(
                request,
                _("The survey went to %(sent)s clients.") % {"sent": campaign.sent},
            )
            return HttpResponseRedirect(reverse("analytics:surveys"))
    return render(
        request,
        "analytics/surveys.html",
        {
            "errors": errors,
            "chosen": data,
            "preview": preview,
            "limit": settings.OTKLIK_NPS_RELATIONSHIP_MAX,
            "quiet_days": settings.OTKLIK_NPS_QUIET_DAYS,
            "lines": BusinessLine.choices,
            "segments": Segment.choices,
            "levels": PackageLevel.objects.order_by("name"),
            "channels": SurveyChannel.choices,
            "campaigns": selectors.campaigns_with_answers(),
        },
        status=status,
    )
