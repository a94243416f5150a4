from django.urls import path

from otklik.proposals import views

app_name = "proposals"
urlpatterns = [
    path("", views.proposal_index, name="list"),
    path("new", views.proposal_new, name="new"),
    path("similar", views.proposal_similar, name="similar"),
    path("<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("<int:proposal_id>/support", views.proposal_support, name="support"),
    path("<int:proposal_id>/status", views.proposal_transition, name="transition"),
    path("<int:proposal_id>/merge", views.proposal_merge, name="merge"),
]
