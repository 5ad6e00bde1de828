import pytest


@pytest.fixture
def kill_database_connection():
    """
    End a Django connection from the server's side, as a server restart, a failover or
    wait_timeout does: the client still holds it and learns only when it next uses it.
    """

    def kill(conn) -> None:
        with conn.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            (thread_id,) = cursor.fetchone()
        admin = conn.get_new_connection(conn.get_connection_params())
        try:
            admin.cursor().execute(f"KILL {int(thread_id)}")
        finally:
            admin.close()

    return kill
