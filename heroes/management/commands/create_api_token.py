from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from heroes.services import issue_api_token


class Command(BaseCommand):
    help = "Issue a bearer token for POST /api/events. The key is printed once and stored only as a hash."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="what the token is for")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(
                f"No user {username!r}; create it first (manage.py createsuperuser)."
            ) from None
        _, key = issue_api_token(user=user, name=name)
        self.stdout.write(key)
