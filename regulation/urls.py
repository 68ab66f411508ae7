from django.urls import path

from regulation import views

app_name = "regulation"

urlpatterns = [
    path("", views.home, name="home"),
    path("milestones/<slug:slug>/", views.milestone_detail, name="milestone"),
]
