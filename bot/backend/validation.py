"""Input validation of the backend API: anything malformed is a 400 with a clear message."""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from bot.ports import ApplicationRequest

BUYER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ORDER_ID = re.compile(r"^(TA|PO)-?(\d{5,6})$", re.IGNORECASE)
PLAIN_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
MAX_BODY_BYTES = 16 * 1024


class InvalidInput(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def buyer_id(value: str) -> str:
    if not BUYER_ID.match(value or ""):
        raise InvalidInput("invalid_buyer_id", "The buyer id is malformed.")
    return value


def order_id(value: str) -> str:
    m = ORDER_ID.match(value or "")
    if not m:
        raise InvalidInput("invalid_order_id", "The order id is malformed: expected e.g. TA-100231 or PO-55012.")
    return f"{m.group(1).upper()}-{m.group(2)}"


def parse_body(text: str) -> dict:
    if len(text.encode()) > MAX_BODY_BYTES:
        raise InvalidInput("body_too_large", "The request body is too large.")
    try:
        body = json.loads(text or "null", parse_float=Decimal)
    except ValueError:
        raise InvalidInput("invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("invalid_json", "The request body must be a JSON object.")
    return body


def amount(value: Any, field: str = "amount") -> Decimal:
    """A plain non-negative decimal with at most two decimals, as a string ("20000.00") or a
    JSON number; no exponents, no signs, no floats."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidInput(f"invalid_{field}", f"{field} must be a number like \"20000.00\".")
    text = str(value).strip()
    if not PLAIN_AMOUNT.match(text):
        raise InvalidInput(f"invalid_{field}",
                           f"{field} must be a plain positive number like \"20000.00\" (got {text[:20]!r}).")
    if "." in text and len(text.split(".")[1]) > 2:
        raise InvalidInput(f"invalid_{field}", f"{field} can have at most two decimals (cents).")
    return Decimal(text)


def currency(value: Any) -> str:
    if value is None:
        return "USD"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise InvalidInput("invalid_currency", "currency must be a three-letter ISO code such as USD.")
    if value.upper() != "USD":
        raise InvalidInput("currency_not_usd", "Pay Later works in USD only.")
    return "USD"


def integer(value: Any, field: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"invalid_{field}", f"{field} must be a whole number.")
    return value


def application_request(body: dict) -> ApplicationRequest:
    name = body.get("business_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidInput("invalid_business_name", "business_name must be a non-empty text of at most 200 characters.")
    us = body.get("us_based")
    if not isinstance(us, bool):
        raise InvalidInput("invalid_us_based", "us_based must be true or false.")
    return ApplicationRequest(
        name.strip(), us, amount(body.get("years_in_business"), "years_in_business"),
        amount(body.get("annual_revenue"), "annual_revenue"), amount(body.get("requested_limit"), "requested_limit"))


def refund_request(body: dict):
    """{"amount": "8680.00", "refunded_at": optional ISO date-time (UTC when no offset),
    "refund_id": optional id of the marketplace's refund (a retry with it books nothing twice)}."""
    value = amount(body.get("amount"))
    rid = body.get("refund_id")
    if rid is not None and (not isinstance(rid, str) or not BUYER_ID.match(rid)):
        raise InvalidInput("invalid_refund_id", "refund_id must be 1-64 letters, digits, '.', '_' or '-'.")
    at = body.get("refunded_at")
    if at is None:
        return value, None, rid
    if not isinstance(at, str):
        raise InvalidInput("invalid_refunded_at", "refunded_at must be an ISO date-time such as 2025-03-12T10:00:00Z.")
    try:
        parsed = dt.datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("invalid_refunded_at",
                           "refunded_at must be an ISO date-time such as 2025-03-12T10:00:00Z.") from None
    return value, parsed, rid
