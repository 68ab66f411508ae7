"""Who may do what through the API: anyone may read what is published; a write needs a token
whose user holds the model permissions the same change needs in the admin; drafts are for staff."""

from django.conf import settings
from django.db.models import Model, QuerySet
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def sees_drafts(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def visible(model: type[Model], request) -> QuerySet:
    """The records of model this client may see: what the public may see (the model's
    public(), where it has one), and drafts and what only drafts cite for authenticated staff."""
    manager = model._default_manager
    if not hasattr(manager, "public") or sees_drafts(getattr(request, "user", None)):
        return manager.all()
    return manager.public()


class ReadOrModelPermissions(BasePermission):
    """Reads are open; each write action names the permissions it needs
    (`view.write_permissions[action]`), checked against the token's user."""

    message = "Your account does not have the permissions this change needs."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        needed = view.write_permissions.get(view.action)
        return needed is not None and request.user.has_perms(needed)


class AnonymousThrottle(AnonRateThrottle):
    """Per client address. The rate is read from settings on each request (API_THROTTLE_RATES)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get("anonymous")


class TokenThrottle(UserRateThrottle):
    """Per user (so per token's owner)."""

    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get("token")

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None  # anonymous clients have their own throttle
        return super().get_cache_key(request, view)
