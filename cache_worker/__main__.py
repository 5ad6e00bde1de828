"""
Invoke the worker locally, without AWS:

    python -m cache_worker '{"REQUEST": "read", "SQLS": [1, 2, 3]}'
    python -m cache_worker -f event.json        (or -f - to read standard input)

Prints the response as JSON; exits 0 for a 200 response and 1 otherwise.
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
    if args.file:
        text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    else:
        text = args.event
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        parser.error(f"the event is not valid JSON: {exc}")

    # The response goes to standard output, so the log lines go to standard error.
    os.environ.setdefault("LOG_STREAM", "stderr")
    from cache_worker.handler import lambda_handler

    response = lambda_handler(event, None)
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0 if response["statusCode"] == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
