from django.urls import path

from otklik.knowledge import public_views

app_name = "faq"
urlpatterns = [
    path("", public_views.home, name="home"),
    path("search", public_views.search_results, name="search"),
    path("<str:slug>/", public_views.article, name="article"),
]
