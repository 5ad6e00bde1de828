"""
The Lambda package (scripts/package.sh, `make package`) works on Lambda, not only here.

The session builds the real zip once, checks every ELF file in it against Amazon Linux
2023 (libraries and glibc 2.34), checks that it is lean, then unpacks it into an empty
folder and runs its handler with an isolated interpreter against MariaDB and Redis.
"""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import lambda_package  # noqa: E402

pytestmark = pytest.mark.package


@pytest.fixture(scope="session")
def package() -> Path:
    """The production package, built by the same script as `make package`."""
    out = ROOT / "build" / "heroapp-test.zip"
    env = {**os.environ, "STAGE": "production", "OUT": str(out)}
    done = subprocess.run(
        [str(ROOT / "scripts" / "package.sh")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="session")
def members(package) -> set[str]:
    with zipfile.ZipFile(package) as archive:
        return set(archive.namelist())


def test_every_elf_file_loads_on_amazon_linux_2023(package, members):
    assert lambda_package.problems(str(package)) == []
    # The reason for vendoring: mysqlclient's extension needs a library Lambda lacks.
    mysql_ext = next(name for name in members if name.startswith("MySQLdb/_mysql") and name.endswith(".so"))
    with zipfile.ZipFile(package) as archive:
        assert "libmariadb.so.3" in lambda_package.needed_libraries(archive.read(mysql_ext))
    assert "lib/libmariadb.so.3" in members
    # And what libmariadb loads at run time, which readelf cannot see.
    _, folder, plugins = lambda_package.RUNTIME_PLUGINS["libmariadb.so.3"]
    assert {f"{folder}/{plugin}" for plugin in plugins} <= members


def test_the_checker_catches_a_missing_library_and_a_too_new_glibc(package, tmp_path):
    source = tmp_path / "new.c"
    source.write_text("#include <stdlib.h>\nunsigned int f(void) { return arc4random(); }\n")  # glibc 2.36
    library = tmp_path / "libnew.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    mysql_ext = next((ROOT / ".venv-package").glob("lib/python3.12/site-packages/MySQLdb/_mysql*.so"))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.write(library, "pkg/libnew.so")
        archive.write(mysql_ext, "MySQLdb/_mysql.so")

    found = lambda_package.problems(str(broken))

    assert any("pkg/libnew.so: needs GLIBC_2.36" in line for line in found)
    assert any("MySQLdb/_mysql.so: needs libmariadb.so.3" in line for line in found)

    # With libmariadb but without its plugins, each plugin is a problem of its own.
    with zipfile.ZipFile(broken, "a") as archive:
        archive.writestr("lib/libmariadb.so.3", zipfile.ZipFile(package).read("lib/libmariadb.so.3"))
    found = lambda_package.problems(str(broken))
    assert (
        "libmariadb.so.3: loads client_ed25519.so at run time, which is not in the zip at "
        "lib/mariadb/plugin/client_ed25519.so" in found
    )
    assert sum("at run time" in line for line in found) == 4


def test_the_package_is_lean_and_well_under_lambdas_limits(package, members):
    with zipfile.ZipFile(package) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    zipped = package.stat().st_size
    print(f"package: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped")
    assert zipped < 25 * 2**20  # Lambda's limit is 50 MB zipped
    assert unzipped < 100 * 2**20  # and 250 MB unzipped
    tops = {name.split("/")[0] for name in members}
    # In the runtime already (boto3), or only needed to build and deploy, or to test.
    for unwanted in (
        "boto3",
        "botocore",
        "pip",
        "setuptools",
        "troposphere",
        "cfnlint",
        "tests",
        "moto",
        "playwright",
        "pytest",
        "_pytest",
        ".venv",
        "scripts",
        "infra",
    ):
        assert unwanted not in tops, unwanted


def test_zappa_routes_to_our_handler_and_the_s3_import(members, package):
    settings = json.loads((ROOT / "zappa_settings.json").read_text())
    assert settings["dev"]["lambda_handler"] == "cache_worker.handler.lambda_handler"
    assert {"cache_worker/handler.py", "handler.py", "zappa_settings.py", "heroes/data/heroes.csv"} <= members
    with zipfile.ZipFile(package) as archive:
        generated = archive.read("zappa_settings.py").decode()
    assert "DJANGO_SETTINGS='heroapp.settings'" in generated
    assert "cache_worker.s3_import.import_s3_object" in generated
    assert "LOG_LEVEL='INFO'" in generated


ISOLATED_RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from cache_worker.handler import lambda_handler
written = lambda_handler({"REQUEST": "write", "USE_CACHE": "True",
    "SQLS": [{"hero": "yes", "name": "Zip Runner", "power": "packaging", "color": "gold", "xp": "5"}]})
hero_id = json.loads(written["body"])[0]["id"]
read = lambda_handler({"REQUEST": "read", "SQLS": [hero_id]})
import MySQLdb
maps = [line.split()[-1] for line in open("/proc/self/maps") if "libmariadb" in line]
print("RESULT " + json.dumps({"write": written["statusCode"], "read": read["statusCode"],
    "read_meta": read["meta"], "body": read["body"], "mysqldb": MySQLdb.__file__, "libmariadb": maps[:1],
    "outside": sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("boto3", "zappa")})}))
"""


def unpacked(package: Path, tmp_path: Path) -> tuple[Path, Path]:
    """
    The package unzipped into a folder, and the interpreter to run it with: the interpreter
    itself, not this virtualenv (with -I -S only the standard library and the folder remain).
    """
    folder = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    python = Path(sysconfig.get_config_var("BINDIR")) / "python3.12"
    if not python.exists():
        python = Path(sys.base_prefix) / "bin" / "python3.12"
    return folder, python


def test_the_unpacked_zip_serves_reads_and_writes_with_an_isolated_interpreter(
    package, tmp_path, subprocess_env
):
    folder, python = unpacked(package, tmp_path)
    env = {
        "PATH": "/usr/bin:/bin",
        "LD_LIBRARY_PATH": str(folder / "lib"),  # Lambda sets /var/task/lib on this path
        "DATABASE_URL": subprocess_env["DATABASE_URL"],
        "REDIS_URL": subprocess_env["REDIS_URL"],
        "SECRET_KEY": "package-test-secret",
        "AWS_LAMBDA_FUNCTION_NAME": "heroapp-production",
    }
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", ISOLATED_RUN, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert (result["write"], result["read"]) == (200, 200)
    assert result["read_meta"]["hits"] == 1 and "Zip Runner" in result["body"]
    assert result["mysqldb"].startswith(str(folder))
    assert result["libmariadb"] == [str(folder / "lib" / "libmariadb.so.3")]
    assert result["outside"] == []  # neither boto3 nor Zappa is loaded for direct events


# Where Debian's libmariadb (the one vendored) looks for its plugins unless told otherwise.
HOST_PLUGINS = Path("/usr/lib/x86_64-linux-gnu/libmariadb3/plugin")

ED25519_LOGIN = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.environ["DJANGO_SETTINGS_MODULE"] = "heroapp.settings"
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT CURRENT_USER()")
    user = cursor.fetchone()[0]
hidden = not os.listdir(sys.argv[2]) if os.path.isdir(sys.argv[2]) else True
plugins = sorted({line.split()[-1] for line in open("/proc/self/maps")
                  if line.rstrip().endswith("ed25519.so")})
print("RESULT " + json.dumps({"user": user, "plugins": plugins, "host_folder_hidden": hidden}))
"""


def hiding_host_plugins(command: list[str]) -> tuple[list[str], bool]:
    """
    The command in a mount namespace of its own where the host's plugin folder is an empty
    tmpfs, as on Lambda, and True; unchanged and False where namespaces are not allowed (the
    test then still checks which file the plugin was loaded from).
    """
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        return command, False
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs none "$0" && exec "$@"',
        str(HOST_PLUGINS),
        *command,
    ], True


def test_an_ed25519_user_logs_in_from_the_unpacked_zip_with_the_hosts_plugins_hidden(
    package, tmp_path, private_mariadb_factory
):
    """client_ed25519.so comes from the package (MARIADB_PLUGIN_DIR), not from the build host."""
    import MySQLdb

    server = private_mariadb_factory("--plugin-load-add=auth_ed25519")
    admin = MySQLdb.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    for sql in (
        "CREATE DATABASE ed",
        "CREATE USER 'edwin'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-Pa55word')",
        "GRANT SELECT ON ed.* TO 'edwin'@'%'",
    ):
        admin.cursor().execute(sql)
    admin.close()
    folder, python = unpacked(package, tmp_path)
    env = {
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "LD_LIBRARY_PATH": str(folder / "lib"),
        "DATABASE_URL": f"mysql://edwin:ed-Pa55word@127.0.0.1:{server.port}/ed",
        "SECRET_KEY": "package-test-secret",
        "AWS_LAMBDA_FUNCTION_NAME": "heroapp-production",
    }
    command = [str(python), "-I", "-S", "-c", ED25519_LOGIN, str(folder), str(HOST_PLUGINS)]

    command, hidden = hiding_host_plugins(command)

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["user"] == "edwin@%"
    assert result["plugins"] == [str(folder / "lib" / "mariadb" / "plugin" / "client_ed25519.so")]
    assert result["host_folder_hidden"] == hidden
