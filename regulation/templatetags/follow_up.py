"""The follow-up dashboard on the admin index (regulation.follow_up asks the questions)."""

from django import template

from regulation import follow_up

register = template.Library()


@register.simple_tag
def follow_up_items() -> list[follow_up.Item]:
    return follow_up.follow_up()
