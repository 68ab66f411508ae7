"""The timeline's filters: a GET form, so a filtered timeline is a URL to share or bookmark."""

import datetime as dt

from django import forms

from regulation.models import Instrument, Milestone, MilestoneKind, Platform, Topic

WHEN_CHOICES = [("", "Any time"), ("upcoming", "Upcoming"), ("past", "Past")]


class TimelineFilter(forms.Form):
    """Every field is optional; a value that is not one of its choices is ignored (and the page
    says so) rather than failing the request."""

    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.published(),
        to_field_name="slug",
        required=False,
        empty_label="All instruments",
    )
    platform = forms.ModelChoiceField(
        queryset=Platform.objects.published(),
        to_field_name="slug",
        required=False,
        empty_label="All platforms",
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(), to_field_name="slug", required=False, empty_label="All topics"
    )
    kind = forms.ChoiceField(choices=[("", "All kinds"), *MilestoneKind.choices], required=False)
    phase = forms.ChoiceField(required=False)
    when = forms.ChoiceField(choices=WHEN_CHOICES, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        phases = Milestone.objects.published().phases()
        self.fields["phase"].choices = [("", "All phases"), *((p, p) for p in phases)]

    def filter(self, milestones, at: dt.datetime):
        """The milestones the valid filters select; invalid ones are left out."""
        data = self.cleaned_data if self.is_bound else {}
        if data.get("instrument"):
            milestones = milestones.for_instrument(data["instrument"])
        if data.get("platform"):
            milestones = milestones.for_platform(data["platform"])
        if data.get("topic"):
            milestones = milestones.for_topic(data["topic"])
        if data.get("kind"):
            milestones = milestones.of_kind(data["kind"])
        if data.get("phase"):
            milestones = milestones.in_phase(data["phase"])
        if data.get("when") == "upcoming":
            milestones = milestones.upcoming(at=at)
        elif data.get("when") == "past":
            milestones = milestones.past(at=at)
        return milestones.chronological()

    @property
    def ignored(self) -> list[str]:
        """The labels of the filters whose values were not recognised."""
        if not self.is_bound:
            return []
        self.is_valid()
        return [str(self.fields[name].label or name.title()) for name in self.errors]
