from django.urls import path

from otklik.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search_results, name="search"),
    path("new/", views.article_new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("banner", views.banner, name="banner"),
    path("acks/", views.acks_matrix, name="acks"),
    path("refreshers/<int:digest_id>/read", views.refresher_read, name="refresher_read"),
    path("cases/<int:case_id>/panel", views.case_panel, name="case_panel"),
    path("cases/<int:case_id>/pin", views.case_pin, name="case_pin"),
    path("cases/<int:case_id>/unpin", views.case_unpin, name="case_unpin"),
    path("a/<str:slug>/", views.article_detail, name="article"),
    path("a/<str:slug>/edit/", views.article_edit, name="edit"),
    path("a/<str:slug>/history/", views.article_history, name="history"),
    path("a/<str:slug>/publish", views.article_publish, name="publish"),
    path("a/<str:slug>/archive", views.article_archive, name="archive"),
    path("a/<str:slug>/ack", views.article_ack, name="ack"),
    path("a/<str:slug>/used", views.article_used, name="used"),
]
