"""What every buyer action shares: the verified buyer, the backend with a timeout, and one
uniform answer for NotFound / Refused / BackendUnavailable."""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.adapters.backend_client import make_backend
from bot.auth import buyer_from_token
from bot.config import Settings
from bot.logging_setup import bind_from_metadata
from bot.parsing import normalize_order_id
from bot.ports import BackendError, BackendUnavailable, NotFound, PaymentsBackend, Refused
from bot.actions.faq import answer_second_question, parse_parts
from bot.actions.payloads import send_handoff
from bot.actions.wording import Wording

logger = logging.getLogger(__name__)

_backends: Dict[tuple, PaymentsBackend] = {}


async def get_backend(settings: Settings) -> PaymentsBackend:
    """One backend per process and configuration, made on first use (never at import)."""
    key = (settings.backend_adapter, settings.backend_url, settings.database_url)
    if key not in _backends:
        _backends[key] = make_backend(settings)
    return _backends[key]


def metadata(tracker: Tracker) -> Dict[str, Any]:
    md = (tracker.latest_message or {}).get("metadata") or {}
    bind_from_metadata(md, tracker.sender_id)  # log lines of this action carry the gateway's ids
    return md


@dataclass
class Buyer:
    """The verified buyer of this call, and a timed gateway to the backend on their behalf."""

    buyer_id: str
    settings: Settings

    async def call(self, method: str, *args: Any) -> Any:
        try:
            backend = await get_backend(self.settings)
            coro = getattr(backend, method)(self.buyer_id, *args)
            return await asyncio.wait_for(coro, timeout=self.settings.backend_timeout_s)
        except (NotFound, Refused):
            raise
        except asyncio.TimeoutError as exc:
            raise BackendUnavailable(f"{method} timed out after {self.settings.backend_timeout_s}s") from exc
        except BackendUnavailable:
            raise
        except Exception as exc:  # adapters should raise BackendUnavailable; be safe anyway
            raise BackendUnavailable(f"{method} failed: {exc!r}") from exc


def verified_buyer(tracker: Tracker) -> Optional[Buyer]:
    """The buyer from the token in this message's metadata, verified now; never from a slot."""
    settings = Settings.from_env()
    identity = buyer_from_token(metadata(tracker).get("auth_token"), settings.jwt_secret)
    return Buyer(identity.buyer_id, settings) if identity else None


def answer_then_sign_in(dispatcher: CollectingDispatcher, w: Wording, general: str = "",
                        offer: str = "utter_offer_sign_in") -> None:
    """Answer first, then ask: the article's general answer (when there is one), then the offer
    to sign in for the personal part, as one message."""
    dispatcher.utter_message(text="\n".join(t for t in (w(general) if general else "", w(offer)) if t))


def backend_down(dispatcher: CollectingDispatcher, error: BaseException, w: Optional[Wording] = None) -> None:
    logger.error("payments backend unavailable: %r", error, exc_info=error)
    send_handoff(dispatcher, "backend_down", None, text=(w or Wording())("utter_backend_down_handoff"))


def order_id_from(tracker: Tracker) -> Optional[str]:
    """Order id from this message's `order_id` entity, else the text, else the slot."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "order_id":
            found = normalize_order_id(str(entity.get("value", "")))
            if found:
                return found
    return normalize_order_id((tracker.latest_message or {}).get("text")) or normalize_order_id(
        tracker.get_slot("order_id")
    )


class BuyerAction(Action, ABC):
    """Resolves the buyer (or asks to sign in) and handles backend errors uniformly.

    Subclasses implement `act(buyer, dispatcher, tracker, domain)`.
    """

    action_name: Text = ""
    # The response with the general fact behind the question (from the help article), said
    # before asking an anonymous visitor to sign in and before asking which order: a general
    # question that NLU took for a personal one ("when do funds reach the supplier?") still
    # gets its answer.
    general_answer: Text = ""
    sign_in_offer: Text = "utter_offer_sign_in"
    # The FAQ topic this answer already gives (bot/nlu_check.py EQUIVALENT), not repeated as the
    # answer to a second question of the message ("is my application approved, and what's the max?").
    covers: Optional[Text] = None
    parser = staticmethod(parse_parts)  # tests replace it

    def name(self) -> Text:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        events = await self._answer(dispatcher, tracker, domain)
        await answer_second_question(dispatcher, tracker, domain, self.covers, self.parser)
        return events

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        w = Wording(domain)
        buyer = verified_buyer(tracker)
        if buyer is None:
            answer_then_sign_in(dispatcher, w, self.general_answer, self.sign_in_offer)
            return []
        try:
            return list(await self.act(buyer, dispatcher, tracker, domain) or [])
        except NotFound:
            dispatcher.utter_message(text=w("utter_order_not_found"))
        except Refused as exc:
            dispatcher.utter_message(text=exc.message)
        except BackendError as exc:
            backend_down(dispatcher, exc, w)
        except Exception as exc:  # never a stack trace or silence for the buyer
            logger.exception("action %s failed", self.name())
            backend_down(dispatcher, exc, w)
        return []

    @abstractmethod
    async def act(
        self, buyer: Buyer, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict
    ) -> Optional[List[EventType]]:
        """The action itself, for a verified buyer; backend errors are handled by `run`."""


def remember_order(order_id: str) -> List[EventType]:
    return [SlotSet("order_id", order_id)]
