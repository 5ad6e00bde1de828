"""
Reading settings from environment variables, each checked where it is read.

A value that cannot be used stops start-up with ImproperlyConfigured naming the variable
and the form it accepts, instead of a bare ValueError from deep inside ``int()`` or, worse,
a number that parses but breaks every request later (a TTL of 0 makes Redis refuse writes).
"""

import os

from django.core.exceptions import ImproperlyConfigured


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _bounds(minimum, maximum, unit: str) -> str:
    parts = [
        f"at least {minimum:g}" if minimum is not None else "",
        f"at most {maximum:g}" if maximum is not None else "",
    ]
    bounds = " and ".join(p for p in parts if p)
    return f"{unit}{', ' + bounds if bounds else ''}"


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None, unit: str = ""
) -> int:
    return _number(name, default, int, "a whole number", minimum, maximum, unit)


def env_float(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None, unit: str = ""
) -> float:
    return _number(name, default, float, "a number", minimum, maximum, unit)


def _number(name, default, parse, kind: str, minimum, maximum, unit: str):
    value = _raw(name)
    if value is None:
        return default
    form = _bounds(minimum, maximum, f"{kind}{' of ' + unit if unit else ''}")
    try:
        number = parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {form}, not {value!r}") from None
    out_of_range = (minimum is not None and number < minimum) or (maximum is not None and number > maximum)
    if number != number or out_of_range:  # NaN is not a number here
        raise ImproperlyConfigured(f"{name} must be {form}, not {value!r}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
