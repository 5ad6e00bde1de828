"""
Invoke the worker locally, without AWS:

    python -m cache_worker '{"REQUEST": "read", "SQLS": [1, 2, 3]}'
    python -m cache_worker -f event.json        (or -f - to read standard input)

Prints the response as JSON; exits 0 for a 200 response and 1 otherwise. An event that
cannot be read (a missing or binary file, text that is not JSON) is one line on standard
error and exit status 2.
"""

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cache_worker", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("event", nargs="?", help="the event as a JSON string")
    source.add_argument("-f", "--file", help="a file holding the event JSON, or - for standard input")
    args = parser.parse_args(argv)
    try:
        if args.file == "-":
            text = sys.stdin.read()
        elif args.file:
            with open(args.file, encoding="utf-8") as file:
                text = file.read()
        else:
            text = args.event
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return _fail(f"{'standard input' if args.file == '-' else args.file} is not UTF-8 text")
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        return _fail(f"the event is not valid JSON: {exc}")
    except RecursionError:
        return _fail("the event is nested too deeply to read")

    # The response goes to standard output, so the log lines go to standard error.
    os.environ.setdefault("LOG_STREAM", "stderr")
    from cache_worker.handler import lambda_handler

    response = lambda_handler(event, None)
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0 if response["statusCode"] == 200 else 1


def _fail(message: str) -> int:
    """One line on standard error and exit status 2, as argparse does for bad usage; no traceback."""
    print(f"python -m cache_worker: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
