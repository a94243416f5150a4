"""Scorecards are data: supervisors edit groups, criteria, weights and critical flags here."""

from django.contrib import admin

from otklik.quality.models import Criterion, Evaluation, Scorecard


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 1
    fields = ("position", "group", "text", "weight", "critical")


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    inlines = [CriterionInline]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "operator", "evaluator", "score", "status", "calibration")
    list_filter = ("status", "calibration", "kind")
    readonly_fields = [f.name for f in Evaluation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # evaluations are made on the scoring page, through the service
