"""
Which of Zappa's events may run code on this function (docs/security.md).

Anyone allowed to invoke the function for data can send any JSON, and Zappa's handler runs
code for several event kinds: a Django command (``manage``), any importable function
(``command``, a scheduled event's rule name, an S3 record's configurationId, an SNS
message's ``command``), raw Python (``raw_command``). So each event is checked here in the
order Zappa 0.63's ``LambdaHandler.handler`` tests it, and only these run:

* web requests (API Gateway, function URL): the web app, with its own authentication;
* keep-warm pings (they run nothing);
* functions the stage's settings name (``events``, bot and Cognito triggers, authorizer:
  Zappa writes them into the package's zappa_settings module) and the public functions of
  ``cache_worker/tasks.py``;
* ``manage`` with ``migrate``, ``check`` or ``showmigrations`` and their read-only options.

Everything else is refused with a 400 naming the key, unless the function's configuration
sets HEROAPP_ALLOW_ANY_COMMAND=1 (raw Python has its own HEROAPP_ALLOW_RAW_COMMAND=1). Both
are Django settings, read once per container, so no event can turn them on.
"""

import inspect
import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from cache_worker import tasks

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VERBOSITY = re.compile(r"[0-3]")
FAIL_LEVELS = re.compile(r"CRITICAL|ERROR|WARNING|INFO|DEBUG")


@dataclass(frozen=True, slots=True)
class ManageCommand:
    """What a ``manage`` event may pass to one management command."""

    flags: frozenset[str]
    options: dict[str, re.Pattern]  # option -> the pattern its value must match
    app_labels: bool  # positional arguments are app labels (for commands that only read)


_VERBOSITY_OPTIONS = {"--verbosity": VERBOSITY, "-v": VERBOSITY}

# What `zappa manage <stage> ...` needs for a deploy. migrate takes no positional
# arguments: `migrate heroes zero` would drop the table; nor --fake or --prune, which
# rewrite the migration history.
MANAGE_COMMANDS = {
    "migrate": ManageCommand(
        flags=frozenset({"--noinput", "--no-input", "--plan", "--skip-checks"}),
        options=_VERBOSITY_OPTIONS,
        app_labels=False,
    ),
    "check": ManageCommand(
        flags=frozenset({"--deploy", "--list-tags"}),
        options={**_VERBOSITY_OPTIONS, "--fail-level": FAIL_LEVELS, "--tag": IDENTIFIER, "-t": IDENTIFIER},
        app_labels=True,
    ),
    "showmigrations": ManageCommand(
        flags=frozenset({"--list", "-l", "--plan", "-p"}),
        options=_VERBOSITY_OPTIONS,
        app_labels=True,
    ),
}

WEBSOCKET_EVENT_TYPES = ("CONNECT", "DISCONNECT", "MESSAGE")
KEEP_WARM_FUNCTION = "keep_warm_callback"
OPT_IN = "set HEROAPP_ALLOW_ANY_COMMAND=1 on the function to allow it"


@dataclass(frozen=True, slots=True)
class Refusal:
    field: str
    message: str


def refusal(event: dict, zappa: Any) -> Refusal | None:
    """
    None if Zappa may handle ``event``, else why not. ``zappa`` is Zappa's LambdaHandler:
    its settings hold the stage's functions, and its own lookups say which function an
    AWS event would run, so the check cannot disagree with what Zappa would do.
    """
    if event.get("stageVariables"):
        # Zappa copies them into os.environ before anything else, for every kind of
        # event, where they would outlive the invocation (AWS_ENDPOINT_URL_S3, ...).
        # Zappa deploys API Gateway without stage variables, so no real request has any.
        return Refusal("stageVariables", "is not accepted: this deployment defines no stage variables")
    if event.get("version") == "2.0" or event.get("httpMethod"):
        return None
    context = event.get("requestContext", {})
    if not isinstance(context, dict):
        return Refusal("requestContext", "must be an object")
    if context.get("eventType") in WEBSOCKET_EVENT_TYPES:
        return Refusal("requestContext", "WebSocket events are not served by this function")
    if event.get("detail-type") == "Scheduled Event":
        return _scheduled(event, zappa)
    if event.get("command"):
        return _function("command", event["command"], zappa)
    if event.get("raw_command"):
        if settings.HEROAPP_ALLOW_RAW_COMMAND:
            return None
        return Refusal(
            "raw_command", "is disabled (set HEROAPP_ALLOW_RAW_COMMAND=1 on the function to allow it)"
        )
    if event.get("manage"):
        return _manage(event["manage"])
    if event.get("Records"):
        return _records(event["Records"], zappa)
    if event.get("bot"):
        return _configured("bot", lambda: zappa.get_function_from_bot_intent_trigger(event), zappa)
    if event.get("type") == "TOKEN":
        return _configured("type", lambda: zappa.settings.AUTHORIZER_FUNCTION, zappa)
    if event.get("triggerSource"):
        return _configured(
            "triggerSource", lambda: zappa.get_function_for_cognito_trigger(event["triggerSource"]), zappa
        )
    if event.get("awslogs"):
        return _configured(
            "awslogs", lambda: f"{zappa.settings.APP_MODULE}.{zappa.settings.APP_FUNCTION}", zappa
        )
    # Zappa would return None and do nothing: say so instead of answering with silence.
    return Refusal("REQUEST", 'is required ("read" or "write"); this is no event this function serves')


def is_keep_warm(event: Any) -> bool:
    """Zappa's keep-warm ping: a scheduled event whose rule names keep_warm_callback."""
    if not isinstance(event, dict) or event.get("detail-type") != "Scheduled Event":
        return False
    function = _scheduled_function(event)
    return function is not None and function.rsplit(".", 1)[-1] == KEEP_WARM_FUNCTION


def stage_functions(zappa: Any) -> set[str]:
    """The functions the stage's settings name: Zappa runs them for their AWS events."""
    zappa_settings = zappa.settings
    names: set[str] = set()
    for value in [
        *getattr(zappa_settings, "AWS_EVENT_MAPPING", {}).values(),
        *getattr(zappa_settings, "AWS_BOT_EVENT_MAPPING", {}).values(),
        *getattr(zappa_settings, "COGNITO_TRIGGER_MAPPING", {}).values(),
        getattr(zappa_settings, "AUTHORIZER_FUNCTION", None),
    ]:
        names.update([value] if isinstance(value, str) else value or [])
    return names


def task_functions() -> set[str]:
    """The public functions defined in cache_worker/tasks.py (not the names it imports)."""
    return {
        f"{tasks.__name__}.{name}"
        for name, value in vars(tasks).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == tasks.__name__
    }


def _scheduled_function(event: dict) -> str | None:
    resources = event.get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], str):
        return None
    # Zappa's own parsing: the rule is named "<lambda name>-<function>".
    return resources[0].split("/")[-1].split("-")[-1]


def _scheduled(event: dict, zappa: Any) -> Refusal | None:
    function = _scheduled_function(event)
    if function is None:
        return Refusal("resources", "must be a list whose first item is the rule's ARN")
    if function.rsplit(".", 1)[-1] == KEEP_WARM_FUNCTION or "." not in function:
        return None  # keep-warm, or a certificate renewal: Zappa runs no function for these
    return _function("resources", function, zappa)


def _function(field: str, name: Any, zappa: Any) -> Refusal | None:
    if not isinstance(name, str):
        return Refusal(field, "must name a function (module.function)")
    if name in task_functions() or name in stage_functions(zappa) or settings.HEROAPP_ALLOW_ANY_COMMAND:
        return None
    return Refusal(
        field,
        f"{_show(name)} is not an allowed function "
        f"(the stage's event functions and cache_worker.tasks.*; {OPT_IN})",
    )


def _configured(field: str, lookup, zappa: Any) -> Refusal | None:
    """An event Zappa routes by the stage's own settings (bot, authorizer, Cognito, logs)."""
    try:
        name = lookup()
    except (AttributeError, KeyError, TypeError, ValueError):
        name = None
    if not name:
        return Refusal(field, "no function of this stage handles this event")
    return _function(field, name, zappa)


def _records(records: Any, zappa: Any) -> Refusal | None:
    if not isinstance(records, list) or not isinstance(records[0], dict):
        return Refusal("Records", "must be a list of event records")
    # Zappa routes every record by the first one's source.
    try:
        functions = zappa.get_function_for_aws_event(records[0])
    except (AttributeError, KeyError, TypeError, ValueError):
        return Refusal("Records", "is not an S3, SNS, SQS, DynamoDB or Kinesis record")
    if not functions:
        return Refusal("Records", "no function of this stage handles this event source")
    for name in functions:
        if refused := _function("Records", name, zappa):
            return refused
    return None


def _manage(value: Any) -> Refusal | None:
    if settings.HEROAPP_ALLOW_ANY_COMMAND:
        return None
    if not isinstance(value, str):
        return Refusal("manage", "must be a command line (a string)")
    # Split exactly as Zappa does before it calls call_command().
    name, *arguments = value.split(" ")
    command = MANAGE_COMMANDS.get(name)
    if command is None:
        return Refusal(
            "manage", f"{_show(name)} is not an allowed command (migrate, check, showmigrations; {OPT_IN})"
        )
    expecting = None  # the option whose value comes next
    for argument in arguments:
        if expecting is not None:
            if not command.options[expecting].fullmatch(argument):
                return Refusal("manage", f"{_show(argument)} is not an allowed value for {name} {expecting}")
            expecting = None
        elif argument in command.flags:
            continue
        elif argument in command.options:
            expecting = argument
        elif "=" in argument and argument.split("=", 1)[0] in command.options:
            option, option_value = argument.split("=", 1)
            if not command.options[option].fullmatch(option_value):
                return Refusal("manage", f"{_show(option_value)} is not an allowed value for {name} {option}")
        elif command.app_labels and IDENTIFIER.fullmatch(argument):
            continue
        else:
            return Refusal("manage", f"{name} does not allow {_show(argument)} here ({OPT_IN})")
    if expecting is not None:
        return Refusal("manage", f"{name} {expecting} needs a value")
    return None


def _show(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:60] + '..."'
