"""`manage.py create_api_token <username> [--name NAME]`: issue a bearer token for the API."""

from django.core.management.base import BaseCommand, CommandError

from otklik.accounts.models import User
from otklik.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for.")

    def handle(self, *args, username: str, name: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active.")
        token, raw = api_token_create(user=user, name=name)
        self.stderr.write(f"Token {token.prefix}… created for {username}; it is shown only once:")
        self.stdout.write(raw)
