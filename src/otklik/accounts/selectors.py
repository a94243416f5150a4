"""Reads about staff: the users and teams a request refers to, and who may manage whom."""

from otklik.accounts.models import Role, Team, User


def user_get_active(*, user_id: int) -> User | None:
    """An active member of staff by id, or None (e.g. a case owner named in an API request)."""
    return User.objects.filter(pk=user_id, is_active=True).select_related("team").first()


def team_get(*, team_id: int) -> Team | None:
    """A team by id, or None. Teams are not personal data, so every staff member may name one."""
    return Team.objects.filter(pk=team_id).first()


# --- who may manage whom in the admin ------------------------------------------------------

#: Roles each role may give and take away in the admin. Superusers manage everybody; a
#: supervisor manages the front line and the departments, never another supervisor or an
#: administrator; an administrator without superuser rights also manages supervisors.
ASSIGNABLE_ROLES: dict[str, frozenset[str]] = {
    Role.SUPERVISOR: frozenset(
        {Role.OPERATOR, Role.SENIOR_OPERATOR, Role.SPECIALIST, Role.PERSONAL_MANAGER}
    ),
    Role.ADMIN: frozenset(
        {
            Role.OPERATOR,
            Role.SENIOR_OPERATOR,
            Role.SPECIALIST,
            Role.PERSONAL_MANAGER,
            Role.SUPERVISOR,
        }
    ),
}

#: Fields that carry rights (admin access, permissions): only a superuser edits them.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def assignable_roles(*, actor: User) -> frozenset[str]:
    """The roles `actor` may set on another user."""
    if actor.is_superuser:
        return frozenset(Role.values)
    return ASSIGNABLE_ROLES.get(actor.role, frozenset())


def user_may_manage(*, actor: User, target: User) -> bool:
    """Whether `actor` may edit or delete `target` in the admin.

    Never himself (no self-elevation), never a superuser, never a role above his limits,
    and never someone holding a permission the actor lacks: resetting that user's
    password would hand the actor those rights.
    """
    if actor.is_superuser:
        return True
    if not actor.is_active or target.pk == actor.pk or target.is_superuser:
        return False
    if target.role not in assignable_roles(actor=actor):
        return False
    return target.get_all_permissions() <= actor.get_all_permissions()
