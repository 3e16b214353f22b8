"""JSON for the port's views (docs/CONTRACT.md): Decimal as a string with two decimals
("31620.00"), dates ISO YYYY-MM-DD, tuples as lists. `to_json` / `from_json` work on every
dataclass of bot.ports by reading its type hints, so a new field needs no code here."""
from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Type, TypeVar

from bot.domain.money import money

T = TypeVar("T")


def to_json(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Decimal):
        return f"{money(obj):.2f}"
    if isinstance(obj, dt.date):  # datetime too (a subclass)
        return obj.isoformat()
    if isinstance(obj, (list, tuple)):
        return [to_json(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, float):
        raise TypeError("floats are not serialised: money is Decimal")
    return obj


@lru_cache(maxsize=None)
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def from_json(tp: Type[T], value: Any) -> T:
    """Rebuilds a value of type `tp` (a bot.ports dataclass, Optional, Tuple[...], Decimal,
    date, str, int, bool) from its JSON form; ValueError when it does not fit."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None  # type: ignore[return-value]
        return from_json(args[0], value)
    if origin in (tuple, list):
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return tuple(from_json(args[0], v) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"expected an object for {tp.__name__}")
        hints = _hints(tp)
        kwargs = {f.name: from_json(hints[f.name], value[f.name])
                  for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if tp is Decimal:
        if isinstance(value, (float, bool)) or not isinstance(value, (str, int)):
            raise ValueError("money must be a string like \"31620.00\"")
        try:
            return money(value)  # type: ignore[return-value]
        except (ValueError, InvalidOperation) as e:
            raise ValueError(str(e)) from None
    if tp is dt.datetime:
        if not isinstance(value, str):
            raise ValueError("expected an ISO date-time string")
        return dt.datetime.fromisoformat(value)  # type: ignore[return-value]
    if tp is dt.date:
        if not isinstance(value, str):
            raise ValueError("expected an ISO date string")
        return dt.date.fromisoformat(value)  # type: ignore[return-value]
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value  # type: ignore[return-value]
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an integer")
        return value  # type: ignore[return-value]
    if tp is str:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value  # type: ignore[return-value]
    return value
