"""
Django's MySQL backend, with the password chosen at each connect instead of once at start.

- DATABASE_SECRET_ARN: RDS rotates the secret (every 7 days for a managed master password)
  while warm containers live on. When the server refuses the login (error 1045), the
  secret is read again once and the connect retried, so a rotation costs one failed connect
  per container, not 503s until the container is recycled.
- DATABASE_IAM_AUTH: the password is an RDS IAM token (valid 15 minutes), signed locally
  with the function's role at each new connection; the server asks for it through the
  mysql_clear_password plugin, so settings.py only allows it over verified TLS.
"""

import logging

from django.db.backends.mysql import base

logger = logging.getLogger("heroapp.database")

ACCESS_DENIED = 1045  # ER_ACCESS_DENIED_ERROR


def iam_token(*, host: str, port: int, user: str, region: str | None) -> str:
    import boto3  # in the Lambda runtime; only IAM-authenticated stages import it

    # Signed locally (no network call) with the role's credentials, as RDS checks them.
    return boto3.client("rds", region_name=region).generate_db_auth_token(
        DBHostname=host, Port=port, DBUsername=user, Region=region
    )


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        from heroapp.secrets import database_secret

        params = super().get_connection_params()
        arn = self.settings_dict.get("SECRET_ARN")
        if arn:
            secret = database_secret(arn)  # the latest one this process read
            params.update(user=secret.get("username", params.get("user")), password=secret["password"])
        if self.settings_dict.get("IAM_AUTH"):
            params["password"] = iam_token(
                host=params["host"],
                port=params.get("port", 3306),
                user=params["user"],
                region=self.settings_dict.get("IAM_REGION"),
            )
        return params

    def get_new_connection(self, conn_params: dict):
        try:
            return super().get_new_connection(conn_params)
        except base.Database.OperationalError as error:
            arn = self.settings_dict.get("SECRET_ARN")
            if not arn or error.args[0] != ACCESS_DENIED:
                raise
        from heroapp.secrets import reread_database_secret

        secret = reread_database_secret(arn)
        logger.warning(
            "database login refused: re-read the secret and retry once",
            extra={"alias": self.alias, "user": conn_params.get("user")},
        )
        return super().get_new_connection(
            {
                **conn_params,
                "user": secret.get("username", conn_params.get("user")),
                "password": secret["password"],
            }
        )
