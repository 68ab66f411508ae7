"""Forms of the reminder pages: what to watch and how long before."""

from django import forms

from regulation.models import Commitment, Instrument, Milestone, Platform, Topic
from tracker.models import DEFAULT_LEAD_DAYS, LeadDays, validate_no_control_characters

EVERYTHING = "all"
TARGETS = {
    "milestone": Milestone,
    "instrument": Instrument,
    "platform": Platform,
    "topic": Topic,
    "commitment": Commitment,
}
# "On the day" is not a choice: every watched date known to the day is told on the day.
LEAD_DAY_CHOICES = [
    (days, label) for days, label in LeadDays.choices if days != LeadDays.ON_THE_DAY
]


def watch_choices() -> list:
    """'Everything', then one group per kind of thing to watch: published records only."""
    groups = [
        ("Milestones", Milestone.objects.published().upcoming(), "milestone"),
        ("Instruments", Instrument.objects.published().order_by("title"), "instrument"),
        ("Platforms", Platform.objects.published().order_by("name"), "platform"),
        ("Topics", Topic.objects.order_by("name"), "topic"),
        (
            "Platform commitments",
            Commitment.objects.published().order_by("key", "pk"),
            "commitment",
        ),
    ]
    choices: list = [(EVERYTHING, "Everything: every date and every commitment's status")]
    for label, queryset, prefix in groups:
        options = [(f"{prefix}:{record.pk}", str(record)) for record in queryset]
        if options:
            choices.append((label, options))
    return choices


class LeadDaysField(forms.TypedMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(
            choices=LEAD_DAY_CHOICES,
            coerce=int,
            initial=[days for days in DEFAULT_LEAD_DAYS if days != LeadDays.ON_THE_DAY],
            required=False,
            label="Remind me",
            help_text="For dates known to the day, as well as on the day itself, which you "
            "always get. Dates known only to the month, season or year get one notice when "
            "that period begins. A date that moves or is confirmed, and a commitment whose "
            "status changes, is told once when it happens.",
            **kwargs,
        )


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address", max_length=254, validators=[validate_no_control_characters]
    )
    watch = forms.ChoiceField(label="What to watch", initial=EVERYTHING)
    lead_days = LeadDaysField()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["watch"].choices = watch_choices()

    def target(self) -> dict:
        """The subscription's target as model fields: {} for everything."""
        value = self.cleaned_data["watch"]
        if value == EVERYTHING:
            return {}
        kind, pk = value.split(":", 1)
        return {kind: TARGETS[kind].objects.get(pk=pk)}


class LeadDaysForm(forms.Form):
    lead_days = LeadDaysField()
