"""
Failed logins are logged, and repeated ones lock the username and the address out
(django-axes), on the site's login page and on the admin's alike.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from heroapp.logging import JSONFormatter

pytestmark = pytest.mark.django_db(transaction=True)

ATTACKER = "203.0.113.7"


@pytest.fixture
def users(settings):
    # A fast hasher: these tests log in dozens of times, and PBKDF2's cost is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", password="alice-right-password")
    User.objects.create_user("bob", password="bob-right-password")
    User.objects.create_superuser("root", password="root-right-password")


def log_in(client, url, username, password, address=ATTACKER, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def logged(caplog, message):
    """The lines the app's JSON formatter writes for heroes.logins' records with ``message``."""
    lines = [
        json.loads(JSONFormatter().format(record))
        for record in caplog.records
        if record.name == "heroes.logins"
    ]
    return [line for line in lines if line["message"] == message]


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, users):
    """The reproduction: 50 wrong passwords in a row, then the right one, from one address."""
    statuses = [log_in(client, reverse("login"), "alice", f"guess-{n}").status_code for n in range(50)]

    assert statuses.count(429) > 40
    assert log_in(client, reverse("login"), "alice", "alice-right-password").status_code == 429


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_repeated_failures_lock_the_user_out_even_with_the_right_password(
    client, users, caplog, url_name, limit
):
    """After the limit, the right password is refused with the lockout page; each failure is a log line."""
    url = reverse(url_name)
    for _ in range(limit - 1):
        assert log_in(client, url, "root", "wrong").status_code == 200  # the form again, with its error
    locked = log_in(client, url, "root", "wrong")
    assert locked.status_code == 429

    right = log_in(client, url, "root", "root-right-password")

    assert right.status_code == 429
    assert "Too many failed logins" in right.content.decode()
    assert "_auth_user_id" not in client.session
    failures = logged(caplog, "login failed")
    assert len(failures) == limit - 1
    assert failures[-1]["username"] == "root" and failures[-1]["ip"] == ATTACKER
    assert failures[-1]["path"] == url and failures[-1]["level"] == "WARNING"
    assert all("wrong" not in json.dumps(line) for line in failures)


def test_the_lockout_is_logged_and_spares_other_users_and_addresses(client, users, caplog, limit):
    url = reverse("login")
    for _ in range(limit):
        log_in(client, url, "alice", "wrong")
    (lockout,) = logged(caplog, "login locked out")
    assert (lockout["username"], lockout["ip"]) == ("alice", ATTACKER)

    # Another user from a clean address logs in; alice from a clean address is still locked
    # (per user), and bob from the attacker's address is too (per address).
    assert log_in(client, url, "bob", "bob-right-password", address="198.51.100.1").status_code == 302
    client.logout()
    assert log_in(client, url, "alice", "alice-right-password", address="198.51.100.2").status_code == 429
    assert log_in(client, url, "bob", "bob-right-password").status_code == 429


def test_a_forged_forwarded_address_does_not_reset_the_count(client, users, limit):
    """The address is API Gateway's (REMOTE_ADDR): a new X-Forwarded-For per try changes nothing."""
    url = reverse("login")
    for attempt in range(limit):
        log_in(client, url, f"nobody{attempt}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    assert (
        log_in(client, url, "bob", "bob-right-password", HTTP_X_FORWARDED_FOR="192.0.2.200").status_code
        == 429
    )


def test_a_successful_login_resets_the_count(client, users, limit):
    url = reverse("login")
    for _ in range(limit - 1):
        log_in(client, url, "alice", "wrong")
    assert log_in(client, url, "alice", "alice-right-password").status_code == 302
    client.logout()

    assert log_in(client, url, "alice", "wrong").status_code == 200  # counting from zero again
