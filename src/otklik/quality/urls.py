from django.urls import path

from otklik.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.home, name="home"),
    path("evaluate", views.evaluate, name="evaluate"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:evaluation_id>/acknowledge", views.acknowledge, name="acknowledge"),
    path("evaluations/<int:evaluation_id>/dispute", views.dispute, name="dispute"),
    path("evaluations/<int:evaluation_id>/resolve", views.resolve, name="resolve"),
    path("figures", views.figures_view, name="figures"),
    path("calibration", views.calibration_view, name="calibration"),
    path("sample", views.sample, name="sample"),
]
