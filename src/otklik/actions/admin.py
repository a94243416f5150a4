"""Administration of the action catalogue and its policy (policies are data)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from otklik.accounts.models import Role
from otklik.actions.inputs import INPUTS
from otklik.actions.models import (
    ActionRun,
    ActionType,
    BackofficeCall,
    BackofficeFailure,
    BackofficeOperation,
    ClientFlag,
    PolicyRule,
)
from otklik.actions.policy import check_conditions
from otklik.clients.models import ChannelKind


class PolicyRuleForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=ChannelKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PolicyRule
        fields = (
            "action",
            "effect",
            "roles",
            "channels",
            "conditions",
            "priority",
            "message_ru",
            "message_en",
            "alternative_ru",
            "alternative_en",
        )

    def clean_conditions(self):
        conditions = self.cleaned_data.get("conditions") or {}
        problems = check_conditions(conditions)
        if problems:
            raise forms.ValidationError(problems)
        return conditions


class PolicyRuleInline(admin.StackedInline):
    model = PolicyRule
    form = PolicyRuleForm
    extra = 0


class ActionTypeForm(forms.ModelForm):
    input_kind = forms.ChoiceField(label=_("input form"), choices=[(k, k) for k in INPUTS])

    class Meta:
        model = ActionType
        fields = (
            "code",
            "name",
            "description",
            "input_kind",
            "product_kinds",
            "restriction_kind",
            "executor",
            "department",
            "limit",
            "enabled",
            "position",
        )


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):
    form = ActionTypeForm
    list_display = ("name", "code", "input_kind", "executor", "department", "enabled", "position")
    list_filter = ("executor", "enabled")
    search_fields = ("name", "code")
    inlines = [PolicyRuleInline]


@admin.register(ClientFlag)
class ClientFlagAdmin(admin.ModelAdmin):
    list_display = ("client", "flag", "set_by", "set_at", "expires_at")
    raw_id_fields = ("client", "set_by")


@admin.register(ActionRun)
class ActionRunAdmin(admin.ModelAdmin):
    list_display = ("action", "client", "actor", "channel", "status", "created_at")
    list_filter = ("status", "channel", "action")
    raw_id_fields = ("client", "product", "restriction", "case", "interaction", "actor", "handoff")
    readonly_fields = ("idempotency_key", "decision_rule", "decision_reason", "result")


@admin.register(BackofficeCall)
class BackofficeCallAdmin(admin.ModelAdmin):
    list_display = ("key", "operation", "status", "attempts", "next_attempt_at", "finished_at")
    list_filter = ("status", "operation")
    readonly_fields = ("key", "payload", "response", "last_error")


@admin.register(BackofficeOperation)
class BackofficeOperationAdmin(admin.ModelAdmin):
    list_display = ("reference", "operation", "key", "created_at")


admin.site.register(BackofficeFailure)
