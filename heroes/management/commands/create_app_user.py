from django.core.management.base import BaseCommand, CommandError

from heroapp.app_user import create_app_user
from heroapp.secrets import database_secret


class Command(BaseCommand):
    help = (
        "Create (or update) the application's database user, with DML on this database only. "
        "Run it as the admin (the master user's secret as DATABASE_SECRET_ARN), after migrate."
    )

    def add_arguments(self, parser):
        login = parser.add_mutually_exclusive_group(required=True)
        login.add_argument("--secret-arn", help="the application user's secret ({username, password})")
        login.add_argument("--iam", metavar="USERNAME", help="a user that logs in with IAM tokens (Aurora)")
        parser.add_argument("--host", default="%", help="the account's host part (default: any)")
        parser.add_argument("--require-tls", action="store_true", help="refuse the user's logins without TLS")
        parser.add_argument("--database", default="default", help="the Django database alias")

    def handle(self, *args, secret_arn, iam, host, require_tls, database, **options):
        if secret_arn:
            secret = database_secret(secret_arn)
            if not secret.get("username") or not secret.get("password"):
                raise CommandError("The secret needs a username and a password.")
            username, password = secret["username"], secret["password"]
        else:
            username, password = iam, None
        for statement in create_app_user(
            username=username, password=password, host=host, require_tls=require_tls, using=database
        ):
            self.stdout.write(statement)
