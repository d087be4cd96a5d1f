"""python-plugin: a Driftless component plugin in Python, built with componentize-py.

Targets the world `driftless-examples:python-plugin/python-plugin` (wit/world.wit): it
imports `driftless:plugin/host` and exports metadata, facts and templates.

componentize-py conventions used here: each exported interface is a class of this module
named after it (Metadata, Facts, Templates); WIT records are dataclasses, enums are Enum
classes; a function returning `result<T, plugin-error>` returns T for `ok` and raises
`componentize_py_types.Err(PluginError(...))` for `err` (that exception *is* the result's
err value in componentize-py). `_guarded` turns any other exception into an `err` of kind
`failed`, so nothing traps.
"""

import json
import platform
import re
import sys
import unicodedata

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import facts, metadata, templates
from wit_world.imports import host
from wit_world.imports.types import ErrorKind, Level, PluginError

PLUGIN_NAME = "python-plugin"
PLUGIN_VERSION = "0.1.0"

EMPTY_OBJECT_SCHEMA = json.dumps({"type": "object", "properties": {}, "additionalProperties": False})


def _err(kind: ErrorKind, message: str) -> Err:
    return Err(PluginError(kind=kind, message=message))


def _guarded(fn):
    """Runs fn; expected failures are raised as Err already, anything else becomes `failed`."""
    try:
        return fn()
    except Err:
        raise
    except Exception as e:  # noqa: BLE001 - the boundary must not trap
        raise _err(ErrorKind.FAILED, f"{PLUGIN_NAME}: unexpected error: {type(e).__name__}: {e}")


def _parse_config(text: str) -> dict:
    if text.strip() == "":
        return {}
    try:
        v = json.loads(text)
    except ValueError as e:
        raise _err(ErrorKind.INVALID_CONFIG, f"config is not valid JSON: {e}")
    if not isinstance(v, dict):
        raise _err(ErrorKind.INVALID_CONFIG, "config must be a JSON object")
    return v


def _json_arg(text: str, what: str):
    try:
        return json.loads(text)
    except ValueError as e:
        raise _err(ErrorKind.INVALID_INPUT, f"{what} is not valid JSON: {e}")


class Metadata(exports.Metadata):
    def describe(self) -> metadata.PluginInfo:
        return metadata.PluginInfo(
            name=PLUGIN_NAME,
            version=PLUGIN_VERSION,
            description="Example Python plugin: a facts collector (python) and a template function (slugify).",
        )


PYTHON_FACTS_SCHEMA = json.dumps(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "include_modules": {
                "type": "boolean",
                "description": "Also list the names of the modules loaded in the interpreter.",
            }
        },
        "additionalProperties": False,
    }
)


class Facts(exports.Facts):
    def collectors(self) -> list:
        return [
            facts.CollectorDefinition(
                name="python",
                description="Facts about the embedded Python interpreter and the host time.",
                config_schema=PYTHON_FACTS_SCHEMA,
            )
        ]

    def collect(self, name: str, config: str) -> str:
        def run():
            if name != "python":
                raise _err(ErrorKind.NOT_FOUND, f'no facts collector named "{name}"')
            c = _parse_config(config)
            for k in c:
                if k != "include_modules":
                    raise _err(ErrorKind.INVALID_CONFIG, f'python: unknown config property "{k}"')
            include_modules = c.get("include_modules", False)
            if not isinstance(include_modules, bool):
                raise _err(ErrorKind.INVALID_CONFIG, 'python: "include_modules" must be a boolean')
            host.log(Level.DEBUG, "collecting python facts")
            out = {
                "engine": "python",
                "implementation": sys.implementation.name,
                "python_version": platform.python_version(),
                "platform": sys.platform,
                "plugin": PLUGIN_NAME,
                "timestamp": host.timestamp(),
            }
            if include_modules:
                out["modules"] = sorted(sys.modules)
            return json.dumps(out)

        return _guarded(run)


def slugify(text: str, separator: str = "-") -> str:
    """ASCII slug: accents stripped, lower case, runs of other characters -> separator."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return separator.join(words)


class Templates(exports.Templates):
    def extensions(self) -> list:
        return [
            templates.ExtensionDefinition(
                name="slugify",
                kind=templates.ExtensionKind.FUNCTION,
                description='URL slug of a string: "Héllo, World!" -> "hello-world".',
                category="string",
                arguments=[
                    templates.Argument(name="text", description="Text to slugify.", required=True),
                    templates.Argument(name="separator", description='Word separator (default "-").', required=False),
                ],
                config_schema=EMPTY_OBJECT_SCHEMA,
            )
        ]

    def apply_filter(self, name: str, config: str, value: str, args: list) -> str:
        # This plugin has template functions only.
        raise _err(ErrorKind.NOT_FOUND, f'no template filter named "{name}"')

    def call_function(self, name: str, config: str, args: list) -> str:
        def run():
            if name != "slugify":
                raise _err(ErrorKind.NOT_FOUND, f'no template function named "{name}"')
            _parse_config(config)
            if not 1 <= len(args) <= 2:
                raise _err(ErrorKind.INVALID_INPUT, "slugify: takes one or two arguments (text, separator?)")
            text = _json_arg(args[0], "slugify: text")
            if not isinstance(text, str):
                raise _err(ErrorKind.INVALID_INPUT, "slugify: text must be a string")
            sep = "-"
            if len(args) == 2:
                sep = _json_arg(args[1], "slugify: separator")
                if not isinstance(sep, str):
                    raise _err(ErrorKind.INVALID_INPUT, "slugify: separator must be a string")
            return json.dumps(slugify(text, sep))

        return _guarded(run)
