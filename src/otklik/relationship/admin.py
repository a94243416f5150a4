"""The desk's rules as data: package levels, metrics, health criteria, offers, absences."""

from django.contrib import admin

from otklik.relationship.models import (
    Absence,
    AssignmentChange,
    FeedBatch,
    HealthCriterion,
    Metric,
    OfferRule,
    OnboardingTemplateStep,
    PackageLevel,
)


class CriterionInline(admin.TabularInline):
    model = HealthCriterion
    extra = 0


@admin.register(PackageLevel)
class PackageLevelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "monthly_fee")
    inlines = [CriterionInline]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit")


@admin.register(HealthCriterion)
class HealthCriterionAdmin(admin.ModelAdmin):
    list_display = ("name", "package_level", "kind", "metric", "comparison", "threshold", "active")
    list_filter = ("package_level", "kind", "active")


@admin.register(OfferRule)
class OfferRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "lacks_product", "active")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ("manager", "deputy", "starts_on", "ends_on")
    raw_id_fields = ("manager", "deputy")


@admin.register(AssignmentChange)
class AssignmentChangeAdmin(admin.ModelAdmin):
    list_display = ("client", "from_manager", "to_manager", "by", "at")
    raw_id_fields = ("client", "from_manager", "to_manager", "by")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeedBatch)
class FeedBatchAdmin(admin.ModelAdmin):
    list_display = ("key", "source", "rows", "by", "at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OnboardingTemplateStep)
class OnboardingTemplateStepAdmin(admin.ModelAdmin):
    """The checklist a new client gets: add a step, set its order and due offset, or retire
    it (untick «active»). Checklists already started keep the steps they were given."""

    list_display = ("title", "code", "position", "due_days", "active")
    list_editable = ("position", "due_days", "active")
    list_filter = ("active",)
