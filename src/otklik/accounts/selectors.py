"""Reads about staff: resolving the users and teams a request refers to by id."""

from otklik.accounts.models import Team, User


def user_get_active(*, user_id: int) -> User | None:
    """An active member of staff by id, or None (e.g. a case owner named in an API request)."""
    return User.objects.filter(pk=user_id, is_active=True).select_related("team").first()


def team_get(*, team_id: int) -> Team | None:
    """A team by id, or None. Teams are not personal data, so every staff member may name one."""
    return Team.objects.filter(pk=team_id).first()
