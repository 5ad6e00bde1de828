"""
The application's own database user: what the running app may do, and no more.

The app reads and writes rows (DML); only migrations change the schema, and they run as the
admin (Aurora's master user). `manage.py create_app_user`, run as the admin after `migrate`,
creates the user, or sets its password again, and grants it DML on the app's database. Grants
on the database (not on each table) cover the tables later migrations add.
"""

from django.db import connections

# DML, and temporary tables: the bulk importer loads rows into a session's own staging table
# (heroes/bulk_import.py), which no other session can see and which goes with the session.
DML = "SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES"


def app_user_statements(
    *,
    username: str,
    password: str | None,
    database: str,
    host: str = "%",
    require_tls: bool = False,
    using: str = "default",
) -> list[tuple[str, list]]:
    """The SQL, with parameters, that creates (or updates) the user and grants it DML only."""
    quote = connections[using].ops.quote_name
    account = "%s@%s"
    if password is None:
        # IAM database authentication (Aurora only): the password is a token RDS checks.
        identified, params = "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'", [username, host]
    else:
        identified, params = "IDENTIFIED BY %s", [username, host, password]
    statements = [
        (f"CREATE USER IF NOT EXISTS {account} {identified}", params),
        (f"ALTER USER {account} {identified}", params),  # a second run sets the password again
        (f"GRANT {DML} ON {quote(database)}.* TO {account}", [username, host]),
    ]
    if require_tls:
        statements.append((f"ALTER USER {account} REQUIRE SSL", [username, host]))
    return statements


def create_app_user(
    *, username: str, password: str | None, host: str = "%", require_tls: bool = False, using: str = "default"
) -> list[str]:
    """Create or update the application user on ``using``'s database.

    Returns what it ran, passwords masked.
    """
    connection = connections[using]
    database = connection.settings_dict["NAME"]
    ran = []
    with connection.cursor() as cursor:
        for sql, params in app_user_statements(
            username=username,
            password=password,
            database=database,
            host=host,
            require_tls=require_tls,
            using=using,
        ):
            cursor.execute(sql, params)
            ran.append(sql % tuple(repr(p) if p != password else "'***'" for p in params))
    return ran
