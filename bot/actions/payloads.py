"""The handoff payload of docs/CONTRACT.md and the JSON of the buyer summary."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Optional

from rasa_sdk.executor import CollectingDispatcher

from bot.domain.money import money
from bot.ports import BuyerSummary

REASON_TEXTS = {
    "requested": "Buyer asked for a person",
    "misunderstood": "The assistant did not understand the buyer",
    "late_disbursement": "Pay Later disbursement is late",
    "dispute": "Buyer reported a problem or dispute",
    "backend_down": "Payments backend unavailable",
}


def jsonable(value: Any) -> Any:
    """Dataclasses -> dicts; Decimal -> "31620.00"; dates -> ISO; tuples -> lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return f"{money(value)}"  # the one rounding rule (half-up to the cent)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def summary_payload(summary: Optional[BuyerSummary], orders_mentioned: Iterable[str]) -> Optional[dict]:
    if summary is None:
        return None
    return {
        "buyer_id": summary.buyer.buyer_id,
        "business_name": summary.buyer.business_name,
        "country": summary.buyer.country,
        "orders_mentioned": list(orders_mentioned),
        "application": jsonable(summary.application),
        "credit_line": jsonable(summary.credit_line),
    }


def send_handoff(
    dispatcher: CollectingDispatcher, reason: str, summary: Optional[dict], text: Optional[str] = None
) -> None:
    """One text for the buyer (by default utter_handoff_takeover), then the custom message the
    gateway acts on; text="" sends only the custom message."""
    if text is None:
        from bot.actions.wording import Wording  # noqa: WPS433 (payloads stays importable alone)

        text = Wording()("utter_handoff_takeover")
    if text:
        dispatcher.utter_message(text=text)
    payload = {"reason": reason, "reason_text": REASON_TEXTS[reason], "summary": summary}
    if text:
        # the gateway announces the handoff once: this sentence joins its queue notice instead of
        # standing beside it (channels without the gateway still show the text above)
        payload["announce"] = text
    dispatcher.utter_message(json_message={"handoff": payload})
