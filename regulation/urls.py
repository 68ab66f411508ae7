from django.urls import path

from regulation import feeds
from regulation.views import pages, search, statistics

app_name = "regulation"

urlpatterns = [
    path("", pages.home, name="home"),
    path("timeline/", pages.timeline, name="timeline"),
    path("milestones/<slug:slug>/", pages.milestone_detail, name="milestone"),
    path("instruments/", pages.instrument_list, name="instruments"),
    path("instruments/<slug:slug>/", pages.instrument_detail, name="instrument"),
    path("measures/<slug:slug>/", pages.measure_detail, name="measure"),
    path("platforms/", pages.platform_list, name="platforms"),
    path("platforms/<slug:slug>/", pages.platform_detail, name="platform"),
    path("commitments/", pages.commitment_list, name="commitments"),
    path("commitments/<slug:slug>/", pages.commitment_detail, name="commitment"),
    path("organisations/", pages.organisation_list, name="organisations"),
    path("organisations/<slug:slug>/", pages.organisation_detail, name="organisation"),
    path("sources/", pages.source_list, name="sources"),
    path("sources/<str:ref>/", pages.source_detail, name="source"),
    path("topics/", pages.topic_list, name="topics"),
    path("topics/<slug:slug>/", pages.topic_detail, name="topic"),
    path("about/", pages.about, name="about"),
    path("statistics/", statistics.statistics, name="statistics"),
    path("search/", search.search, name="search"),
    path("calendar.ics", feeds.calendar, name="calendar"),
    path("feeds/changes.atom", feeds.changes_feed, name="changes_feed"),
]
