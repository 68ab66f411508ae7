from django.urls import path

from regulation import feeds, views, views_search, views_statistics

app_name = "regulation"

urlpatterns = [
    path("", views.home, name="home"),
    path("milestones/<slug:slug>/", views.milestone_detail, name="milestone"),
    # Statistics, search and feeds (branch `search`).
    path("statistics/", views_statistics.statistics, name="statistics"),
    path("search/", views_search.search, name="search"),
    path("calendar.ics", feeds.calendar, name="calendar"),
    path("feeds/changes.atom", feeds.changes_feed, name="changes_feed"),
]
