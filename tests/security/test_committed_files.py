"""No secret is committed: the repository is scanned for credentials."""

import json
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

from tests.conftest import ROOT

PATTERNS = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an AWS secret access key": re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # The documentation's placeholder "user:pass" is not a credential.
    "a password in a URL": re.compile(
        r"\b(mysql|redis|rediss|postgres)://(?!user:pass@)[^:/@\s]+:[^@\s{}]+@"
    ),
    "a Django SECRET_KEY value": re.compile(r"SECRET_KEY\s*[=:]\s*['\"](?!django-insecure-)[^'\"]{20,}['\"]"),
}
# Tests build throwaway credentials for the code that parses them; they are fakes.
FAKES_ALLOWED_IN = ("tests/",)


def committed_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines() if name]


def test_no_committed_file_holds_a_credential():
    found = []
    for name in committed_files():
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for what, pattern in PATTERNS.items():
            if pattern.search(text) and not (
                name.startswith(FAKES_ALLOWED_IN)
                and what in ("a password in a URL", "a Django SECRET_KEY value")
            ):
                found.append(f"{name}: {what}")
    assert found == []


def test_the_scan_would_notice_one():
    # Assembled here, so that this file does not itself hold what the scan looks for.
    assert PATTERNS["an AWS access key id"].search("key = " + "AKIA" + "IOSFODNN7EXAMPLE")
    assert PATTERNS["a password in a URL"].search("DATABASE_URL=mysql://admin:" + "hunter2@db:3306/x")
    assert not PATTERNS["a password in a URL"].search("mysql://heroapp@CHANGE-ME-aurora:3306/heroapp")
    assert not PATTERNS["a password in a URL"].search("mysql://user:pass@host:3306/name")


def test_the_committed_database_urls_use_verified_tls_and_the_application_user():
    """The stages connect as heroapp_app (DML only), never the master user, and verify the
    server's certificate."""
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    urls = [
        value
        for stage in stages.values()
        for name, value in stage.get("aws_environment_variables", {}).items()
        if name in ("DATABASE_URL", "DATABASE_READER_URL")
    ]
    assert len(urls) >= 3
    for url in urls:
        parts = urlsplit(url)
        assert parts.username == "heroapp_app", url
        assert parse_qs(parts.query)["ssl-ca"] == ["/var/task/rds-ca/global-bundle.pem"], url
