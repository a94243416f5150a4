from django.urls import path

from otklik.library import views

app_name = "library"
urlpatterns = [
    path("", views.story_list, name="list"),
    path("new", views.story_new, name="new"),
    path("<int:story_id>/", views.story_detail, name="detail"),
    path("<int:story_id>/redact", views.story_redact, name="redact"),
    path("<int:story_id>/publish", views.story_publish, name="publish"),
    path("<int:story_id>/withdraw", views.story_withdraw, name="withdraw"),
    path("<int:story_id>/assign", views.story_assign, name="assign"),
    path("<int:story_id>/acknowledge", views.story_acknowledge, name="acknowledge"),
]
