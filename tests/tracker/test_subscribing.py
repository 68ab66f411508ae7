"""Subscribing on the public site: double opt-in, signed links, rate limits, and a form that never
tells anyone whether an address is subscribed."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from regulation.models import Instrument, Status, Topic
from tests.factories import make_commitment, make_platform, make_source
from tests.tracker.reminders import make_day_exact_milestone, make_subscriber, subscribe
from tracker import links
from tracker.models import Subscriber, Subscription

pytestmark = pytest.mark.django_db
SUBSCRIBE = reverse("reminders:subscribe")
ASKED_AT = dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def ask(client, email: str = "parent@example.org", watch: str = "all", lead_days=(7, 1)):
    return client.post(SUBSCRIBE, {"email": email, "watch": watch, "lead_days": list(lead_days)})


def link_in(message, name: str) -> str:
    match = re.search(rf"https?://\S+/reminders/{name}/\S+/", message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path


def test_the_form_works_without_javascript_and_offers_what_to_watch(client):
    milestone = make_day_exact_milestone(date=dt.date(2099, 1, 1), title="A watched date")

    page = client.get(SUBSCRIBE).content.decode()

    assert '<form method="post"' in page
    assert "<script" not in page
    assert f'value="milestone:{milestone.pk}"' in page
    # 30, 14, 7 and 1 days before: the day itself is always told, so it is no choice.
    assert page.count('type="checkbox"') == 4
    assert "the day itself, which you always get" in page


def test_nothing_is_sent_until_the_confirmation_link_is_opened_and_posted(client):
    milestone = make_day_exact_milestone(date=dt.date(2099, 1, 1))

    response = ask(client, watch=f"milestone:{milestone.pk}")

    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    [message] = mail.outbox
    assert message.to == ["parent@example.org"]
    subscription = Subscription.objects.get()
    assert (subscription.milestone, subscription.confirmed_at) == (milestone, None)
    assert sorted(subscription.lead_times.values_list("days", flat=True)) == [1, 7]

    url = link_in(message, "confirm")
    shown = client.get(url)
    assert shown.status_code == 200
    assert Subscription.objects.get().confirmed_at is None  # a mail scanner's GET confirms nothing

    confirmed = client.post(url)
    assert confirmed.status_code == 200
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    assert Subscriber.objects.get().is_active
    assert reverse("reminders:manage", args=["x"]).split("x")[0] in confirmed.content.decode()


def test_a_confirmation_link_older_than_48_hours_confirms_nothing(client):
    with time_machine.travel(ASKED_AT, tick=False):
        ask(client)
    url = link_in(mail.outbox[0], "confirm")

    with time_machine.travel(ASKED_AT + dt.timedelta(hours=48, minutes=1), tick=False):
        response = client.post(url)

    assert response.status_code == 404
    assert Subscription.objects.get().confirmed_at is None


def test_the_answer_is_the_same_whether_or_not_the_address_is_subscribed(client):
    subscribe(make_subscriber(email_address="known@example.org"))

    known = ask(client, email="known@example.org")
    unknown = ask(client, email="stranger@example.org")

    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.content == unknown.content


def test_a_request_for_a_confirmed_address_changes_nothing_until_confirmed(client):
    subscriber = make_subscriber(email_address="known@example.org")
    existing = subscribe(subscriber, lead_days=[30])

    ask(client, email="known@example.org", lead_days=[1])
    assert list(existing.lead_times.values_list("days", flat=True)) == [30]

    client.post(link_in(mail.outbox[0], "confirm"))
    assert list(existing.lead_times.values_list("days", flat=True)) == [1]
    assert Subscription.objects.count() == 1


def test_an_address_gets_at_most_three_confirmation_emails_an_hour(client, settings):
    settings.SUBSCRIBE_LIMIT_PER_ADDRESS = 3
    answers = [ask(client, email="target@example.org") for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.content for a in answers}) == 1
    assert len(mail.outbox) == 3


def test_a_client_asking_too_often_is_refused(client, settings):
    settings.SUBSCRIBE_LIMIT_PER_CLIENT = 4
    answers = [ask(client, email=f"reader{n}@example.org").status_code for n in range(5)]

    assert answers == [200, 200, 200, 200, 429]
    assert len(mail.outbox) == 4


def test_a_link_of_another_kind_or_a_forged_one_is_refused(client):
    subscriber = make_subscriber()
    manage_token = links.manage_token(subscriber)

    assert client.post(reverse("reminders:confirm", args=[manage_token])).status_code == 404
    assert client.get(reverse("reminders:manage", args=["forged:token"])).status_code == 404
    assert client.post(reverse("reminders:unsubscribe", args=[manage_token])).status_code == 404
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None


def test_the_manage_page_changes_lead_times_and_stops_one_subscription(client):
    subscriber = make_subscriber()
    kept = subscribe(subscriber, lead_days=[30, 7])
    dropped = subscribe(subscriber, milestone=make_day_exact_milestone(date=dt.date(2099, 1, 1)))
    url = reverse("reminders:manage", args=[links.manage_token(subscriber)])

    page = client.get(url)
    client.post(url, {"subscription": kept.pk, "action": "update", "lead_days": [1]})
    client.post(url, {"subscription": dropped.pk, "action": "delete"})

    assert page.status_code == 200
    assert b"<h2>Every date on the timeline and every commitment&#x27;s status</h2>" in page.content
    assert list(kept.lead_times.values_list("days", flat=True)) == [1]
    assert list(subscriber.subscriptions.all()) == [kept]


def test_the_manage_page_of_one_address_cannot_change_another(client):
    owner, other = make_subscriber(), make_subscriber()
    theirs = subscribe(other, lead_days=[7])
    url = reverse("reminders:manage", args=[links.manage_token(owner)])

    client.post(url, {"subscription": theirs.pk, "action": "delete"})

    assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_a_commitment_is_watched_after_double_opt_in_and_managed_without_lead_times(client):
    commitment = make_commitment(summary="We will verify every user's age.")
    make_commitment(summary="A draft nobody may watch.", status=Status.DRAFT)

    page = client.get(SUBSCRIBE, {"watch": f"commitment:{commitment.pk}"}).content.decode()
    assert f'<option value="commitment:{commitment.pk}" selected>' in page
    assert "A draft nobody may watch." not in page

    ask(client, watch=f"commitment:{commitment.pk}", lead_days=())
    [message] = mail.outbox
    subscription = Subscription.objects.get()
    assert (subscription.commitment, subscription.confirmed_at) == (commitment, None)
    url = link_in(message, "confirm")
    assert "We will verify every user" in client.get(url).content.decode()
    assert Subscription.objects.get().confirmed_at is None

    confirmed = client.post(url)
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None
    assert "about the commitment" in confirmed.content.decode()
    assert "We will verify every user" in confirmed.content.decode()

    manage = reverse("reminders:manage", args=[links.manage_token(subscription.subscriber)])
    shown = client.get(manage).content.decode()
    assert "each time its status changes" in shown
    assert 'type="checkbox"' not in shown
    client.post(manage, {"subscription": subscription.pk, "action": "delete"})
    assert not Subscription.objects.exists()


def follow_watch_link(client, page_url: str) -> str:
    """The reminder form reached from a record's page: its page's one "watch" link, followed."""
    page = client.get(page_url).content.decode()
    links_found = re.findall(r'<p class="watch"><a href="([^"]+)">', page)
    assert len(links_found) == 1, page
    return client.get(links_found[0].replace("&amp;", "&")).content.decode()


def test_each_watchable_page_links_to_the_form_with_its_record_chosen(client):
    platform = make_platform(name="Snapchat", status=Status.PUBLISHED)
    milestone = make_day_exact_milestone(date=dt.date(2099, 1, 1), platforms=[platform])
    commitment = make_commitment(platforms=[platform])
    topic = Topic.objects.create(name="Grooming", slug="grooming")
    instrument = Instrument.objects.create(
        title="A code of practice", slug="a-code", kind="code_of_practice", stage="final"
    )
    instrument.sources.set([make_source()])
    instrument.publish()

    for kind, record in [
        ("milestone", milestone),
        ("commitment", commitment),
        ("platform", platform),
        ("topic", topic),
        ("instrument", instrument),
    ]:
        form = follow_watch_link(client, record.get_absolute_url())
        assert f'<option value="{kind}:{record.pk}" selected>' in form, kind


def test_no_watch_link_for_a_date_already_past(client):
    past = make_day_exact_milestone(date=dt.date(2020, 1, 1))

    page = client.get(past.get_absolute_url()).content.decode()

    assert past.title in page
    assert 'class="watch"' not in page


def unsubscribe_link_in(message) -> str:
    """The unsubscribe link a reminder e-mail would carry, for the address `message` went to."""
    subscriber = Subscriber.objects.get(email=message.to[0])
    return reverse("reminders:unsubscribe", args=[links.unsubscribe_token(subscriber)])


def test_a_confirmation_link_replayed_after_unsubscribing_does_not_resubscribe(client):
    ask(client)
    confirm_url = link_in(mail.outbox[0], "confirm")
    client.post(confirm_url)
    client.post(unsubscribe_link_in(mail.outbox[0]))

    replayed = client.post(confirm_url)

    assert replayed.status_code == 404
    subscriber = Subscriber.objects.get()
    assert not subscriber.is_active
    assert subscriber.unsubscribed_at is not None
    assert not Subscription.objects.confirmed().exists()


def test_a_request_left_unconfirmed_before_unsubscribing_cannot_be_confirmed_after(client):
    ask(client)
    client.post(link_in(mail.outbox[0], "confirm"))
    ask(client, lead_days=[30])  # a second request, its link not yet used
    late_url = link_in(mail.outbox[1], "confirm")
    client.post(unsubscribe_link_in(mail.outbox[0]))

    assert client.get(late_url).status_code == 404
    assert client.post(late_url).status_code == 404
    assert not Subscriber.objects.get().is_active


def test_a_new_request_after_unsubscribing_resubscribes_but_old_links_stay_dead(client):
    milestone = make_day_exact_milestone(date=dt.date(2099, 1, 1))
    ask(client, watch=f"milestone:{milestone.pk}")
    old_url = link_in(mail.outbox[0], "confirm")
    client.post(old_url)
    client.post(unsubscribe_link_in(mail.outbox[0]))

    ask(client)  # everything, asked for again and confirmed
    assert client.post(link_in(mail.outbox[1], "confirm")).status_code == 200
    assert Subscriber.objects.get().is_active

    assert client.post(old_url).status_code == 404
    assert list(Subscription.objects.confirmed().values_list("milestone", flat=True)) == [None]


@pytest.mark.parametrize(
    "email",
    [
        '"inj12\x01x"@example.org',
        '"inj\x7fx"@example.org',
        '"inj\\\rx"@example.org',
        '"inj\\\nRCPT TO:<x@example.org>"@example.org',
    ],
)
def test_an_address_with_a_control_character_or_line_break_is_refused(client, email):
    response = ask(client, email=email)

    assert response.status_code == 400
    assert "control characters or line breaks" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


def test_the_model_refuses_an_address_with_a_control_character_whatever_the_path():
    with pytest.raises(ValidationError, match="control characters or line breaks"):
        Subscriber(email='"inj12\x01x"@example.org').full_clean()
    with pytest.raises(ValidationError, match="control characters or line breaks"):
        Subscription.request('"inj12\x01x"@example.org', lead_days=[7])
    assert not Subscriber.objects.exists()
