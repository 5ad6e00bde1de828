"""
Make a Zappa package loadable on AWS Lambda, and check that it is.

Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34). Every ELF file in the
zip must find each library it needs either in the zip (Lambda puts /var/task/lib on
LD_LIBRARY_PATH; wheels repaired by auditwheel carry theirs in <name>.libs/ with an RPATH)
or among the libraries the runtime image has, and must need no glibc symbol newer than 2.34.

    # add missing libraries to lib/, compile bytecode:
    python scripts/lambda_package.py vendor build/heroapp.zip
    # report what would fail:
    python scripts/lambda_package.py check  build/heroapp.zip

mysqlclient has no manylinux wheel: it is compiled here against Debian's libmariadb.so.3,
which Lambda does not have. ``vendor`` copies it (and anything else missing) into lib/.

libmariadb also loads its authentication plugins at run time (dlopen, invisible to readelf)
from the folder compiled into it, the build host's /usr/lib/x86_64-linux-gnu/libmariadb3/plugin,
when a server asks for one. ``vendor`` copies them into lib/mariadb/plugin/, where settings.py
points MARIADB_PLUGIN_DIR, and ``check`` reports a libmariadb without them.
"""

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

GLIBC_MAX = (2, 34)

# Sonames present in Lambda's python3.12 image (Amazon Linux 2023 minimal plus the runtime):
# glibc's own libraries, GCC's runtime, and the system packages the runtime's Python
# links against (openssl-libs 3, zlib, libffi, expat, bzip2, xz, sqlite, libxcrypt, util-linux).
AL2023_LIBRARIES = frozenset(
    {
        "ld-linux-x86-64.so.2",
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libanl.so.1",
        "libnss_files.so.2",
        "libnss_dns.so.2",
        "libgcc_s.so.1",
        "libstdc++.so.6",
        "libcrypt.so.2",
        "libz.so.1",
        "libssl.so.3",
        "libcrypto.so.3",
        "libffi.so.8",
        "libexpat.so.1",
        "libbz2.so.1",
        "liblzma.so.5",
        "libsqlite3.so.0",
        "libuuid.so.1",
    }
)
# Where this machine keeps the libraries to vendor.
SYSTEM_LIBRARY_DIRS = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"]

# Libraries that dlopen plugins at run time: where they find them on this machine, where the
# package keeps them (heroapp/settings.py sets MARIADB_PLUGIN_DIR to this folder when it
# exists) and which. These four are what Aurora and MySQL 8 users log in with:
# caching_sha2_password and sha256_password (MySQL 8's default and its predecessor),
# mysql_clear_password (IAM tokens) and client_ed25519 (MariaDB's ed25519).
RUNTIME_PLUGINS = {
    "libmariadb.so.3": (
        Path("/usr/lib/x86_64-linux-gnu/libmariadb3/plugin"),
        "lib/mariadb/plugin",
        ("caching_sha2_password.so", "sha256_password.so", "mysql_clear_password.so", "client_ed25519.so"),
    ),
}


def is_elf(data: bytes) -> bool:
    return data[:4] == b"\x7fELF"


def readelf(data: bytes, option: str) -> str:
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(
            ["readelf", option, "-W", handle.name], capture_output=True, text=True, check=True
        ).stdout


def needed_libraries(data: bytes) -> list[str]:
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf(data, "-d"))


def runpaths(data: bytes) -> list[str]:
    found = re.findall(
        r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]+)\]", readelf(data, "-d")
    )
    return [p for entry in found for p in entry.split(":")]


def glibc_versions(data: bytes) -> set[tuple[int, ...]]:
    """
    The GLIBC_x.y symbol versions the file needs: only its version-needs section counts,
    since a library may also define versions (the dynamic loader defines GLIBC_2.35).
    """
    output = readelf(data, "-V")
    needs = output.partition("Version needs section")[2].partition("Version definition section")[0]
    return {tuple(int(n) for n in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", needs)}


def elf_members(archive: zipfile.ZipFile) -> dict[str, bytes]:
    members = {}
    for info in archive.infolist():
        if info.is_dir() or not (".so" in info.filename or info.filename.endswith((".abi3", ".bin"))):
            continue
        data = archive.read(info)
        if is_elf(data):
            members[info.filename] = data
    return members


def missing_plugins(names: set[str]) -> list[tuple[str, Path, str]]:
    """(library, source file, path in the zip) for each run-time plugin the zip's libraries lack."""
    missing = []
    for library, (source, folder, plugins) in RUNTIME_PLUGINS.items():
        if any(PurePosixPath(name).name == library for name in names):
            missing += [
                (library, source / plugin, f"{folder}/{plugin}")
                for plugin in plugins
                if f"{folder}/{plugin}" not in names
            ]
    return missing


def problems(zip_path: str) -> list[str]:
    """Every reason the package would fail to load on Lambda; empty when it is fine."""
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        elves = elf_members(archive)
    found: list[str] = [
        f"{library}: loads {PurePosixPath(path).name} at run time, which is not in the zip at {path}"
        for library, _, path in missing_plugins(names)
    ]
    for name, data in sorted(elves.items()):
        here = PurePosixPath(name).parent
        search = [PurePosixPath("lib")]
        for path in runpaths(data):
            if path.startswith("$ORIGIN"):
                search.append(PurePosixPath(os.path.normpath(str(here / path.replace("$ORIGIN", ".", 1)))))
        for library in needed_libraries(data):
            in_zip = any(str(directory / library) in names for directory in search)
            if not in_zip and library not in AL2023_LIBRARIES:
                found.append(f"{name}: needs {library}, which is neither in the zip nor on Amazon Linux 2023")
        too_new = sorted(v for v in glibc_versions(data) if v > GLIBC_MAX)
        if too_new:
            found.append(f"{name}: needs GLIBC_{'.'.join(map(str, too_new[-1]))}, newer than Lambda's 2.34")
    return found


def vendor(zip_path: str) -> list[str]:
    """
    Copy every library the zip's ELF files need, and Lambda lacks, into lib/, and the plugins
    those libraries load at run time into their folder; until nothing more is needed, since
    each copied file may need others.
    """
    added: list[str] = []
    while True:
        with zipfile.ZipFile(zip_path) as archive:
            names = set(archive.namelist())
            wanted = {
                library
                for data in elf_members(archive).values()
                for library in needed_libraries(data)
                if library not in AL2023_LIBRARIES
                and f"lib/{library}" not in names
                and not any(n.endswith("/" + library) for n in names)
            }
        copies: dict[str, Path] = {}
        for library in sorted(wanted):
            source = next(
                (Path(d) / library for d in SYSTEM_LIBRARY_DIRS if (Path(d) / library).exists()), None
            )
            if source is None:
                raise SystemExit(f"{library} is needed but not found on this machine")
            copies[f"lib/{library}"] = source
        for library, source, path in missing_plugins(names):
            if not source.exists():
                raise SystemExit(
                    f"{library} loads {source.name} at run time, but {source} is not on this machine"
                )
            copies[path] = source
        if not copies:
            return added
        with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            for path, source in copies.items():
                info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o755 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, source.resolve().read_bytes())
                added.append(f"{path} (from {source.resolve()})")


def compile_bytecode(zip_path: str, python: str = sys.executable) -> int:
    """
    Add compiled bytecode for every module, so Lambda never compiles at a cold start.

    /var/task is read-only on Lambda: without .pyc files in the zip, every new container
    compiles all of Django again (about 100 ms here). Hash-based, unchecked .pyc files
    stay valid whatever modification times the unpacked files get.
    """
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(folder)
            modes = {info.filename: info.external_attr for info in archive.infolist()}
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", folder],
            check=False,  # a few test fixtures in dependencies are deliberately not valid Python
            stdout=subprocess.DEVNULL,
        )
        added = 0
        rebuilt = zip_path + ".tmp"
        with zipfile.ZipFile(rebuilt, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_dir():
                    continue
                name = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = modes.get(name, 0o644 << 16)
                out.writestr(info, path.read_bytes())
                added += name.endswith(".pyc")
        os.replace(rebuilt, zip_path)
    return added


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("vendor", "check"):
        print(__doc__)
        return 2
    if argv[1] == "vendor":
        for line in vendor(argv[2]):
            print(f"vendored {line}")
        print(f"compiled {compile_bytecode(argv[2])} modules to bytecode")
    found = problems(argv[2])
    for line in found:
        print(line, file=sys.stderr)
    size = os.path.getsize(argv[2])
    with zipfile.ZipFile(argv[2]) as archive:
        unzipped = sum(i.file_size for i in archive.infolist())
    print(
        f"{argv[2]}: {size / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped, "
        f"{'OK for Lambda' if not found else f'{len(found)} problems'}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
