"""`{% service_profile client %}`: the personal-service panel at the top of the client card."""

from django import template

from otklik.relationship.selectors import has_desk, service_profile

register = template.Library()


@register.inclusion_tag("relationship/_client_profile.html", takes_context=True)
def service_profile_panel(context, client) -> dict:
    """The card's client is already fetched through its access check and audited."""
    user = context.get("user")
    can_open = bool(
        user and has_desk(user) and (user.sees_everything or client.personal_manager_id is not None)
    )
    return {
        "client": client,
        "profile": service_profile(client=client),
        "can_open_desk": can_open,
        "user": user,
    }
