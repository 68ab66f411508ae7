from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from regulation.models import Milestone


def home(request):
    now = timezone.now()
    milestones = Milestone.objects.published()
    context = {
        "today": timezone.localdate(now),
        "upcoming": milestones.upcoming(at=now)[:12],
        "latest": milestones.past(at=now)[:8],
    }
    return render(request, "regulation/home.html", context)


def milestone_detail(request, slug: str):
    milestone = get_object_or_404(
        Milestone.objects.published().prefetch_related(
            "sources", "instruments", "date_changes__source"
        ),
        slug=slug,
    )
    return render(request, "regulation/milestone_detail.html", {"milestone": milestone})
