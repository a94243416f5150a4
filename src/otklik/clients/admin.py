from django.contrib import admin

from otklik.clients.models import Tariff


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    """The tariffs «change the tariff» offers; clients themselves are kept out of the admin."""

    list_display = ("name", "provider", "monthly_fee", "internet_billing", "is_active")
    list_filter = ("provider", "is_active")
    search_fields = ("name",)
