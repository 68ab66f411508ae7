"""Titles and names are one line: typed over several lines in the admin they are joined,
the API refuses them (tests/regulation/api/test_writes.py), and the database refuses a milestone
title with a line break from any path (it would go into an e-mail's Subject)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from regulation.models import Milestone
from tests.factories import make_milestone
from tests.regulation.test_admin import milestone_form

pytestmark = pytest.mark.django_db

TYPED = "Ofcom deadline\r\nfor  services"


def test_a_title_typed_over_two_lines_in_the_admin_is_saved_as_one(editor_client):
    milestone = make_milestone(title="Ofcom deadline")
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    sources = [source.pk for source in milestone.sources.all()]

    response = editor_client.post(url, milestone_form(milestone, title=TYPED, sources=sources))

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.title == "Ofcom deadline for services"


def test_the_database_refuses_a_milestone_title_with_a_line_break_from_any_path():
    milestone = make_milestone(title="Ofcom deadline")

    for title in ("Ofcom deadline\nfor services", "Ofcom deadline\rfor services"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Milestone.objects.filter(pk=milestone.pk).update(title=title)
