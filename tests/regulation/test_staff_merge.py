"""Merging duplicates: everything moves to the kept record, nothing is lost, links are not
doubled, old addresses redirect, the history says why, and only editors may do it."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regulation.merging import MERGEABLE, MergeRefused, merge
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    FactRelease,
    Instrument,
    Milestone,
    Observation,
    SeededRecord,
    Source,
    Status,
    Topic,
)
from tests.factories import (
    make_commitment,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.regulation.test_staff_roles import PERSONAS, persona
from tracker.models import FollowUp, FollowUpKind, Subscriber, Subscription

pytestmark = pytest.mark.django_db

MAY_MERGE = {"anonymous": False, "contributor": False, "editor": True, "superuser": True}


def follow_up(commitment: Commitment, occasion: dt.date) -> FollowUp:
    return FollowUp.objects.create(
        kind=FollowUpKind.REVIEW_DUE,
        commitment=commitment,
        occasion=occasion,
        created_at=timezone.now(),
    )


def test_merging_commitments_moves_everything_and_loses_nothing():
    s1, s2 = make_source(), make_source()
    p1, p2 = make_platform(status=Status.PUBLISHED), make_platform(status=Status.PUBLISHED)
    m1, m2 = make_milestone(), make_milestone()
    topic = Topic.objects.create(name="Age checks", slug="age-checks")
    kept = make_commitment(sources=[s1], platforms=[p1], milestones=[m1])
    duplicate = make_commitment(sources=[s1, s2], platforms=[p1, p2], milestones=[m1, m2])
    duplicate.topics.add(topic)
    for day, status in ((10, "in_progress"), (20, "delivered")):
        CommitmentUpdate.objects.create(
            commitment=duplicate, on=dt.date(2025, 6, day), delivery_status=status, evidence=s2
        )
    # The same follow-up planned for both (a clash once moved), and one only the duplicate has.
    follow_up(kept, dt.date(2026, 1, 1))
    follow_up(duplicate, dt.date(2026, 1, 1))
    follow_up(duplicate, dt.date(2026, 2, 1))
    old_url = duplicate.get_absolute_url()

    plan = merge(kept, [duplicate], reason="The same promise, entered twice", by=None)

    assert dict(plan[0].counts)["commitment updates"] == 2
    assert not Commitment.objects.filter(pk=duplicate.pk).exists()
    kept = Commitment.objects.get(pk=kept.pk)
    assert set(kept.sources.all()) == {s1, s2}
    assert set(kept.platforms.all()) == {p1, p2}
    assert set(kept.milestones.all()) == {m1, m2}
    assert list(kept.topics.all()) == [topic]
    # No link twice: one row per source in the link table.
    through = Commitment.sources.through.objects.filter(commitment=kept)
    assert through.count() == 2
    assert kept.updates.count() == 2
    # The latest moved update sets the status.
    assert kept.delivery_status == "delivered"
    assert sorted(f.occasion.month for f in FollowUp.objects.filter(commitment=kept)) == [1, 2]
    assert kept.is_published
    reason = kept.history.latest().history_change_reason
    assert reason.startswith("Merged ") and "The same promise, entered twice" in reason
    # The duplicate's public address answers with a permanent redirect to the kept record.
    response = Client().get(old_url)
    assert response.status_code == 301
    assert response["Location"] == kept.get_absolute_url()


def test_merging_sources_repoints_every_citation_without_leaving_a_record_uncited():
    kept, duplicate = make_source(), make_source()
    only_duplicate = make_milestone(sources=[duplicate])
    both = make_milestone(sources=[kept, duplicate])
    change = both.move_to(dt.date(2025, 4, 1), reason="Moved by Ofcom", source=duplicate)
    commitment = make_commitment(sources=[duplicate])
    update = CommitmentUpdate.objects.create(
        commitment=commitment, on=dt.date(2025, 5, 1), delivery_status="delivered",
        evidence=duplicate,
    )  # fmt: skip
    old_ref = duplicate.ref

    merge(kept, [duplicate], reason="Same Ofcom statement, two addresses", by=None)

    assert not Source.objects.filter(pk=duplicate.pk).exists()
    assert list(only_duplicate.sources.all()) == [kept]
    assert Milestone.objects.get(pk=only_duplicate.pk).is_published
    assert Milestone.sources.through.objects.filter(milestone=both).count() == 1
    assert list(both.sources.all()) == [kept]
    assert list(commitment.sources.all()) == [kept]
    change.refresh_from_db()
    update.refresh_from_db()
    assert change.source == kept
    assert update.evidence == kept
    response = Client().get(reverse("regulation:source", args=[old_ref]))
    assert response.status_code == 301
    assert response["Location"] == kept.get_absolute_url()


def test_merging_milestones_moves_date_changes_subscriptions_and_the_seeds_memory():
    kept, duplicate = make_milestone(), make_milestone()
    change = duplicate.move_to(dt.date(2025, 5, 1), reason="Delayed")
    subscriber = Subscriber.objects.create(email="reader@example.org")
    subscription = Subscription.objects.create(subscriber=subscriber, milestone=duplicate)
    commitment = make_commitment(milestones=[duplicate])
    release = FactRelease.objects.create(name="test release", applied_by="tests")
    memory = SeededRecord.objects.create(
        release=release, model="regulation.milestone", fact_id="M999", object_pk=duplicate.pk
    )

    merge(kept, [duplicate], reason="Duplicate of the same consultation", by=None)

    change.refresh_from_db()
    subscription.refresh_from_db()
    memory.refresh_from_db()
    assert change.milestone == kept
    assert subscription.milestone == kept
    assert list(commitment.milestones.all()) == [kept]
    assert memory.object_pk == kept.pk
    # The duplicate's deletion is in its history, with the reason.
    deleted = Milestone.history.filter(id=duplicate.pk, history_type="-").get()
    assert "Duplicate of the same consultation" in deleted.history_change_reason


def test_a_published_duplicate_is_not_merged_into_a_draft():
    kept = make_milestone(status=Status.DRAFT)
    duplicate = make_milestone()
    with pytest.raises(MergeRefused, match="published"):
        merge(kept, [duplicate], reason="Same", by=None)
    assert Milestone.objects.filter(pk=duplicate.pk).exists()


def test_a_merge_needs_a_reason_and_other_records_of_the_same_type():
    kept, duplicate = make_milestone(), make_milestone()
    with pytest.raises(MergeRefused, match="why"):
        merge(kept, [duplicate], reason="  ", by=None)
    with pytest.raises(MergeRefused, match="same type"):
        merge(kept, [kept], reason="Same", by=None)
    with pytest.raises(MergeRefused, match="same type"):
        merge(kept, [make_commitment()], reason="Same", by=None)


def test_a_merge_that_breaks_a_rule_of_the_kept_record_changes_nothing():
    """An update dated before the kept commitment was made cannot be its update: the whole
    merge is refused, the moves already made included."""
    kept = make_commitment(made_on=dt.date(2025, 6, 1))
    duplicate = make_commitment(made_on=dt.date(2025, 1, 1), sources=[make_source()])
    CommitmentUpdate.objects.create(
        commitment=duplicate, on=dt.date(2025, 2, 1), delivery_status="in_progress"
    )
    with pytest.raises(MergeRefused):
        merge(kept, [duplicate], reason="Same", by=None)
    assert duplicate.updates.count() == 1
    assert kept.sources.count() == 1
    assert Commitment.objects.filter(pk=duplicate.pk).exists()


def test_merge_refuses_a_user_without_the_permission():
    user, _ = persona("contributor")
    kept, duplicate = make_milestone(), make_milestone()
    with pytest.raises(PermissionDenied):
        merge(kept, [duplicate], reason="Same", by=user)
    assert Milestone.objects.filter(pk=duplicate.pk).exists()


def test_editors_and_only_editors_hold_the_merge_permissions():
    codenames = {f"merge_{model._meta.model_name}" for model in MERGEABLE}
    editor = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))
    contributor = Group.objects.get(name="Contributor").permissions
    assert codenames <= editor
    assert not contributor.filter(codename__startswith="merge_").exists()
    assert Permission.objects.filter(codename__startswith="merge_").count() == len(MERGEABLE)


def merge_post(client, model, records, **extra):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    data = {"action": "merge_selected", ACTION_CHECKBOX_NAME: [r.pk for r in records], **extra}
    return client.post(url, data)


@pytest.mark.parametrize("name", PERSONAS)
def test_the_merge_action_by_hand_built_post_honours_the_permission(name):
    _, client = persona(name)
    kept, duplicate = make_source(), make_source()
    make_milestone(sources=[duplicate])
    # The confirmation page, then the merge itself.
    first = merge_post(client, Source, [kept, duplicate])
    applied = merge_post(
        client, Source, [kept, duplicate], apply="yes", kept=kept.pk, reason="Same statement"
    )
    if name == "anonymous":
        assert first.status_code == applied.status_code == 302
        assert "/admin/login/" in applied["Location"]
    elif not MAY_MERGE[name]:
        assert first.status_code == applied.status_code == 403
    else:
        assert first.status_code == 200
        assert first.templates[0].name == "admin/regulation/merge.html"
        assert applied.status_code == 302
    assert Source.objects.filter(pk=duplicate.pk).exists() is not MAY_MERGE[name]


def test_the_action_is_offered_to_editors_only(client):
    url = reverse("admin:regulation_commitment_changelist")
    for name in ("contributor", "editor"):
        _, client = persona(name)
        actions = client.get(url).context["action_form"].fields["action"].choices
        assert ("merge_selected" in dict(actions)) is MAY_MERGE[name]


def test_observations_are_not_merged_even_by_a_superuser():
    _, client = persona("superuser")
    a, b = make_observation(), make_observation()
    url = reverse("admin:regulation_observation_changelist")
    actions = client.get(url).context["action_form"].fields["action"].choices
    assert "merge_selected" not in dict(actions)
    assert merge_post(client, Observation, [a, b]).status_code == 403


def test_the_confirmation_page_lists_what_moves_and_the_merge_keeps_the_choice():
    _, client = persona("editor")
    source = make_source()
    kept = make_commitment(sources=[source])
    duplicate = make_commitment(sources=[source])
    CommitmentUpdate.objects.create(
        commitment=duplicate, on=dt.date(2025, 6, 1), delivery_status="in_progress"
    )
    page = merge_post(client, Commitment, [kept, duplicate]).content.decode()
    assert "1 commitment updates" in page
    assert str(duplicate) in page and str(kept) in page
    # No reason: the page again, with the error, and nothing merged.
    again = merge_post(client, Commitment, [kept, duplicate], apply="yes", kept=kept.pk)
    assert again.status_code == 200 and again.context["form"].errors["reason"]
    assert Commitment.objects.filter(pk=duplicate.pk).exists()
    done = merge_post(
        client, Commitment, [kept, duplicate], apply="yes", kept=duplicate.pk, reason="Twice"
    )
    assert done.status_code == 302
    # The editor chose to keep the second: the first is the one merged away.
    assert list(Commitment.objects.filter(pk__in=[kept.pk, duplicate.pk])) == [duplicate]
    assert duplicate.updates.count() == 1
    assert duplicate.sources.count() == 1


def test_a_record_is_not_merged_into_one_that_points_at_it():
    act = Instrument.objects.create(title="Online Safety Act", kind="act", stage="final")
    code = Instrument.objects.create(title="Code", kind="act", stage="final", parent=act)
    with pytest.raises(MergeRefused, match="points at a duplicate"):
        merge(code, [act], reason="Same", by=None)
    # The other way round, the child's link to its parent is not a link to itself.
    merge(act, [code], reason="Same", by=None)
    assert not Instrument.objects.filter(pk=code.pk).exists()
    act.refresh_from_db()
    assert act.parent is None
