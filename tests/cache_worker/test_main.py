"""`python -m cache_worker` (cache_worker/__main__.py): an event it cannot read is one clear line,
never a traceback."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def event_files(tmp_path):
    binary = tmp_path / "event.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00")
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 3000 + "]" * 3000)
    return {"missing": tmp_path / "absent.json", "binary": binary, "nested": nested, "folder": tmp_path}


@pytest.mark.parametrize(
    "kind, words",
    [
        ("missing", "cannot read {path}: No such file or directory"),
        ("folder", "cannot read {path}: Is a directory"),
        ("binary", "{path} is not UTF-8 text"),
        ("nested", "the event is nested too deeply to read"),
    ],
)
def test_an_unreadable_event_file_is_one_line_and_exit_status_2(
    kind, words, event_files, run_python, subprocess_env
):
    path = event_files[kind]
    done = run_python(["-m", "cache_worker", "-f", str(path)], subprocess_env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"python -m cache_worker: error: {words.format(path=path)}"]


@pytest.mark.parametrize(
    "stdin, words",
    [
        ("[" * 3000, "the event is nested too deeply to read"),
        (
            "{not json",
            "the event is not valid JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
    ],
)
def test_standard_input_gets_the_same_errors(stdin, words, run_python, subprocess_env):
    done = run_python(["-m", "cache_worker", "-f", "-"], subprocess_env, input=stdin)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"python -m cache_worker: error: {words}"]
