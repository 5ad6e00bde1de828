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
    done = subprocess.run([str(ROOT / "scripts" / "package.sh")], cwd=ROOT, env=env, capture_output=True, text=True)
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


def test_the_package_is_lean_and_well_under_lambdas_limits(package, members):
    with zipfile.ZipFile(package) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    zipped = package.stat().st_size
    print(f"package: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped")
    assert zipped < 25 * 2**20  # Lambda's limit is 50 MB zipped
    assert unzipped < 100 * 2**20  # and 250 MB unzipped
    tops = {name.split("/")[0] for name in members}
    # In the runtime already (boto3), or only needed to build and deploy, or to test.
    for unwanted in ("boto3", "botocore", "pip", "setuptools", "troposphere", "cfnlint", "tests", "moto",
                     "playwright", "pytest", "_pytest", ".venv", "scripts", "infra"):
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
print("RESULT " + json.dumps({"write": written["statusCode"], "read": read["statusCode"], "read_meta": read["meta"],
    "body": read["body"], "mysqldb": MySQLdb.__file__, "libmariadb": maps[:1],
    "outside": sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("boto3", "zappa")})}))
"""


def test_the_unpacked_zip_serves_reads_and_writes_with_an_isolated_interpreter(package, tmp_path, subprocess_env):
    folder = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    # The interpreter itself, not this virtualenv: -I ignores PYTHON* variables and the
    # user's site, -S every site-packages, so only the standard library and the folder remain.
    python = Path(sysconfig.get_config_var("BINDIR")) / "python3.12"
    if not python.exists():
        python = Path(sys.base_prefix) / "bin" / "python3.12"
    env = {
        "PATH": "/usr/bin:/bin",
        "LD_LIBRARY_PATH": str(folder / "lib"),  # Lambda sets /var/task/lib on this path
        "DATABASE_URL": subprocess_env["DATABASE_URL"],
        "REDIS_URL": subprocess_env["REDIS_URL"],
        "SECRET_KEY": "package-test-secret",
        "AWS_LAMBDA_FUNCTION_NAME": "heroapp-production",
    }
    done = subprocess.run([str(python), "-I", "-S", "-c", ISOLATED_RUN, str(folder)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert (result["write"], result["read"]) == (200, 200)
    assert result["read_meta"]["hits"] == 1 and "Zip Runner" in result["body"]
    assert result["mysqldb"].startswith(str(folder))
    assert result["libmariadb"] == [str(folder / "lib" / "libmariadb.so.3")]
    assert result["outside"] == []  # neither boto3 nor Zappa is loaded for direct events
