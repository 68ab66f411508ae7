"""Settings for `bench/api.py` only: the site's own settings, with a URLconf that adds the floor
views beside the API and a middleware that counts a request's queries when asked. Selected by
DJANGO_SETTINGS_MODULE=bench.api_settings in the benchmark's gunicorn; never in production."""

from tracker.settings import *  # noqa: F403
from tracker.settings import MIDDLEWARE

ROOT_URLCONF = "bench.api_urls"
# First, so it counts the queries of every other middleware too.
MIDDLEWARE = ["bench.api_urls.count_queries", *MIDDLEWARE]
