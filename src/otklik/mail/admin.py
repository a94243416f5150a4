from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from otklik.mail.models import Mailbox


class MailboxForm(forms.ModelForm):
    """Passwords are typed here and stored only sealed; an empty field keeps the old one."""

    imap_password = forms.CharField(
        label=_("IMAP password"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    smtp_password = forms.CharField(
        label=_("SMTP password"), required=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = Mailbox
        exclude: list[str] = []

    def save(self, commit: bool = True) -> Mailbox:
        box = super().save(commit=False)
        box.set_passwords(
            imap=self.cleaned_data["imap_password"] or None,
            smtp=self.cleaned_data["smtp_password"] or None,
        )
        if commit:
            box.save()
        return box


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    """Team mailboxes: where client mail is read and replies are sent from."""

    form = MailboxForm
    list_display = ("name", "address", "team", "is_active", "last_polled_at", "last_error")
    list_filter = ("is_active", "team")
    readonly_fields = ("last_polled_at", "last_error")
