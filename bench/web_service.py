"""
python -m bench.web_service [--reps N] [--profile | --instructions]: the service time of one
cached detail page in-process, as a gunicorn worker spends it (the WSGI application called with
a GET for /heroes/<id>/, the body read), without the network or wrk.

wrk's requests/s on 2 sync workers is bounded by this time, and unlike wrk it can be compared
on a machine shared with other work: medians of many alternating runs. --profile prints
where the time goes (cProfile, cumulative). --instructions counts the CPU instructions the
worker's process executes per request under valgrind's callgrind (a run of 2N requests
minus a run of N, so start-up cancels out): slow, but the same on a busy machine as on an
idle one, which no clock is here.

Runs against BENCH_DATABASE_URL / BENCH_REDIS_URL (the defaults of python -m bench), with the
settings bench/web.py gives gunicorn; ids 1..100 must exist (python -m bench loads them).
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import subprocess
import sys
import time


def environ(hero_id: int) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/heroes/{hero_id}/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web_service")
    parser.add_argument("--reps", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--untimed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        return count_instructions(args.reps)
    os.environ.update(
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/heroapp_bench"),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        DEBUG="false",
        SECRET_KEY="benchmark-only-key",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="false",
    )
    from heroapp.wsgi import application
    from heroes.services import warm_heroes

    warm_heroes(ids=list(range(1, 101)))

    def request(i: int) -> None:
        statuses = []
        body = application(environ(1 + i % 100), lambda status, headers: statuses.append(status))
        b"".join(body)
        body.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"GET /heroes/{1 + i % 100}/ answered {statuses[0]}")

    for i in range(20 if args.untimed else 200):
        request(i)
    if args.untimed:
        for i in range(args.reps):
            request(i)
        return 0
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [request(i) for i in range(args.reps)])
        print_parts(pstats.Stats(profile), args.reps)
        return 0
    samples = []
    for i in range(args.reps):
        start = time.perf_counter_ns()
        request(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    print(f"median {statistics.median(samples):.0f} µs over {args.reps} requests")
    return 0


def parts() -> list[tuple[str, list, list[str]]]:
    """
    The parts of a request in docs/web.md: (label, the functions whose cumulative time it is,
    the parts it excludes). None of the functions recurses.
    """
    from csp.middleware import CSPMiddleware
    from django.dispatch import Signal
    from django.template import defaulttags, loader
    from django.templatetags import static

    from heroes import selectors, views
    from heroes.cache import redis_store

    return [
        ("Redis MGET round trip (send, wait, read)", [redis_store._request], []),
        ("get_heroes around it", [selectors.get_heroes], ["Redis MGET round trip (send, wait, read)"]),
        ("template rendering", [loader.render_to_string], []),
        ("  of which {% url %} (reverse)", [defaulttags.URLNode.render], []),
        ("  of which {% static %}", [static.StaticNode.render], []),
        ("the view's own code", [views.hero_detail], ["get_heroes around it", "template rendering"]),
        ("CSP header (django-csp)", [CSPMiddleware.process_request, CSPMiddleware.process_response], []),
        ("request_started/finished signals", [Signal.send], []),
    ]


def print_parts(stats: pstats.Stats, reps: int) -> None:
    """Each part's share of the profiled time (cumulative time of its functions)."""

    def cumulative(functions) -> float:
        codes = {(f.__code__.co_filename, f.__code__.co_firstlineno, f.__code__.co_name) for f in functions}
        return sum(row[3] for key, row in stats.stats.items() if key in codes)

    table = parts()
    own = {label: cumulative(functions) for label, functions, _ in table}
    shares = {label: own[label] - sum(own[e] for e in excluded) for label, _, excluded in table}
    total = stats.total_tt
    shares["Django's handler and the other middleware"] = total - sum(
        v for k, v in shares.items() if not k.startswith("  ")
    )
    print(f"{total / reps * 1e6:,.0f} µs per request under cProfile ({reps} requests)")
    for label, seconds in shares.items():
        print(f"{seconds / total:6.1%}  {label}")


def count_instructions(reps: int) -> int:
    def collected(n: int) -> int:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
            + [sys.executable, "-m", "bench.web_service", "--untimed", "--reps", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(re.search(r"Collected : (\d+)", done.stderr).group(1))

    per_request = (collected(2 * reps) - collected(reps)) / reps
    print(f"{per_request:,.0f} instructions per request ({reps} requests, callgrind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
