"""Rasa 3.6 validates every action server response with `jsonschema.validate(result, schema)`,
which first checks the (large) events schema against the JSON-Schema metaschema — on every
call. On the product this was the biggest single cost in the Rasa process (bench.profile: about
half of Rasa's CPU per message with custom actions).

`install()` replaces `jsonschema.validate` with the same validation using a validator built once
per schema (identical errors: `best_match` of `iter_errors`, as jsonschema.validate does).

    python -m bench.fast_validate run --enable-api ...   # = `rasa run ...` with the cache

This module is the measured prototype (bench.variants "cached schema validation"); the product
should carry it as its own Rasa entry point (see docs/SCALING.md, "Tuning")."""
from __future__ import annotations

import functools
import json
import sys


def install() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    if getattr(jsonschema.validate, "_paylater_cached", False):
        return
    original = jsonschema.validate

    @functools.lru_cache(maxsize=32)
    def _validator(schema_key: str):
        schema = json.loads(schema_key)
        cls = validator_for(schema)
        cls.check_schema(schema)  # once per distinct schema, as the original does per call
        return cls(schema)

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return original(instance, schema, cls, *args, **kwargs)
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return original(instance, schema)
        error = best_match(_validator(key).iter_errors(instance))
        if error is not None:
            raise error

    validate._paylater_cached = True
    jsonschema.validate = validate


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
