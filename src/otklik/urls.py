from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from otklik.accounts import views as account_views
from otklik.api.api import api

urlpatterns = [
    path("login/", account_views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("otklik.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin signs in through the staff login (throttled, second factor).
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("portal/", include("otklik.portal.urls")),
    path("handoffs/", include("otklik.handoffs.urls")),
    path("live/", include("otklik.live.urls")),
    path("presence/", include("otklik.presence.urls")),
    path("knowledge/", include("otklik.knowledge.urls")),
    path("faq/", include("otklik.knowledge.public_urls")),
    path("actions/", include("otklik.actions.urls")),
    path("orders/", include("otklik.orders.urls")),
    path("chat/", include("otklik.chat.urls")),
    path("audit/", include("otklik.audit.urls")),
    path("analytics/", include("otklik.analytics.urls")),
    path("desk/", include("otklik.relationship.urls")),
    path("proposals/", include("otklik.proposals.urls")),
    path("quality/", include("otklik.quality.urls")),
    path("library/", include("otklik.library.urls")),
    path("telephony/", include("otklik.telephony.urls")),
    path("mail/", include("otklik.mail.urls")),
    path("imported/", include("otklik.imports.urls")),
    path("", include("otklik.ops.urls")),
    path("", include("otklik.workspace.urls")),
]

# Error pages in the app's layout and language (staff and portal variants).
handler400 = "otklik.common.error_pages.bad_request"
handler403 = "otklik.common.error_pages.permission_denied"
handler404 = "otklik.common.error_pages.page_not_found"
handler500 = "otklik.common.error_pages.server_error"
