"""The site's own 404 and 500 pages."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the database (or whatever failed) may be what is broken.
    return HttpResponseServerError(loader.get_template("500.html").render())
