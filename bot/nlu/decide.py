"""What the bot does with one parse (pure functions on Rasa's parse dict; no framework imports).

* `faq_passes`: the guard. An FAQ answer goes out only when the intent classifier and the
  response selector agree with enough confidence; otherwise the message falls back, and the
  fallback either clarifies (buttons naming the candidates) or says honestly it can't help.
* `clarify_candidates`: the 2-3 readings worth offering as buttons, in the buyer's terms.
* `question_parts` / `extra_topics`: a message with two questions is split into its question
  clauses; each clause is parsed on its own and a confident FAQ topic not answered yet is
  answered too (retrieval intents do not mix with Rasa's multi-intent labels, "faq+faq" cannot
  say which topics, so the split is done on the text).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

FAQ = "faq"
NO_ANSWER = {"out_of_scope", "nlu_fallback"}
# Intents that are never offered as clarify buttons (chit-chat and control intents).
NOT_OFFERED = {"greet", "goodbye", "thank", "bot_challenge", "what_can_you_do", "affirm", "deny",
               "stop", "out_of_scope", "nlu_fallback", "inform", "feedback_helpful",
               "feedback_not_helpful"}

# Guard defaults (config.yml's RetrievalGuard entry overrides them; tuned with bot.nlu_check).
# A topic below `min_topic` still passes when it is at least `floor_topic` and `topic_ratio` times
# the runner-up (long messages spread the selector's confidence but keep the right topic on top).
GUARD = {"min_intent": 0.5, "min_topic": 0.4, "min_topic_margin": 0.0, "floor_topic": 1.0, "topic_ratio": 0.0}
# Clarify: offer buttons when the best reading has at least `min_best` and the runner-up
# at least `min_other`; never when the raw top intent is out_of_scope.
CLARIFY = {"min_best": 0.2, "min_other": 0.1, "max_buttons": 3}
# Two questions: a clause's own parse must be this sure before it gets an extra answer.
# A message that fell back as a whole but has several questions: up to `max_fallback` clauses
# answered (action_fallback).
MULTI = {"min_intent": 0.7, "min_topic": 0.6, "max_extra": 1, "max_fallback": 2}

# label -> (button title in the buyer's terms, payload). FAQ topics send a plain question that
# the model is trained on (Rasa 3.6 cannot route a "/faq/<topic>" payload to a topic: the
# RegexMessageHandler drops the selector output), account intents send "/<intent>".
CHOICES: Dict[str, Tuple[str, str]] = {
    "faq/what_is_pay_later": ("What Pay Later is", "What is Pay Later?"),
    "faq/lender": ("Who lends the money", "Who lends the money for Pay Later?"),
    "faq/how_to_pay": ("How to pay with Pay Later", "How do I pay for an order with Pay Later?"),
    "faq/how_to_apply": ("How to apply", "How do I apply for Pay Later?"),
    "faq/application_requirements": ("What you need to apply", "What do I need to apply for Pay Later?"),
    "faq/eligibility": ("Which businesses qualify", "Which businesses are eligible for Pay Later?"),
    "faq/processing_fee": ("The processing fee", "Is there a processing fee for Pay Later?"),
    "faq/loan_fees": ("The loan fees", "What are the loan fees for Pay Later?"),
    "faq/payment_arrival": ("When the supplier gets paid", "How long until the supplier receives a Pay Later payment?"),
    "faq/currency": ("Which currencies", "Which currency does Pay Later support?"),
    "faq/first_month_credit": ("The first-month loan fee credit", "What is the first month loan fee credit?"),
    "faq/credit_limit": ("The largest credit line", "What is the maximum Pay Later credit line?"),
    "faq/term": ("How long you can finance", "How long can I finance an order with Pay Later?"),
    "faq/repayment": ("How repayment works", "How do I repay a Pay Later loan?"),
    "faq/initial_payment": ("Initial payment and balance", "How do the initial payment and the balance work?"),
    "faq/tt": ("Paying by T/T (wire)", "How do I pay with a T/T wire?"),
    "faq/local_tt": ("Paying by local T/T", "How does local T/T work?"),
    "faq/credit_cards": ("Paying by card", "Which credit cards can I pay with?"),
    "faq/card_failed": ("A failed card payment", "Why was my card payment not accepted?"),
    "faq/echecking": ("Paying by e-Checking", "How does e-Checking work?"),
    "faq/western_union": ("Paying by Western Union", "How do I pay with Western Union?"),
    "faq/trade_assurance_only": ("Which orders Pay Later can pay", "Which orders can Pay Later pay for?"),
    "faq/minimum_amount": ("A minimum amount", "Is there a minimum amount for Pay Later?"),
    "list_orders": ("Your orders", "/list_orders"),
    "order_status": ("An order's status", "/order_status"),
    "check_pay_later": ("Whether Pay Later can pay an order", "/check_pay_later"),
    "apply_pay_later": ("Applying for credit", "/apply_pay_later"),
    "credit_line": ("Your credit line", "/credit_line"),
    "application_status": ("Your application's status", "/application_status"),
    "disbursement_status": ("A payment to your supplier", "/disbursement_status"),
    "loan_cost": ("What a loan would cost", "/loan_cost"),
    "report_problem": ("A problem with a charge", "/report_problem"),
    "human_handoff": ("Talking to a person", "/human_handoff"),
}


def intent_ranking(parse: Dict[str, Any]) -> List[Tuple[str, float]]:
    """Intents with confidences as the classifier ranked them (nlu_fallback left out)."""
    out = [(r.get("name"), float(r.get("confidence") or 0.0))
           for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if not out:
        intent = parse.get("intent") or {}
        if intent.get("name") and intent.get("name") != "nlu_fallback":
            out = [(intent["name"], float(intent.get("confidence") or 0.0))]
    return out


def topic_ranking(parse: Dict[str, Any]) -> List[Tuple[str, float]]:
    """FAQ topics ("faq/<topic>") with the response selector's confidences, best first."""
    rs = parse.get("response_selector") or {}
    sel = rs.get(FAQ) or rs.get("default") or {}
    out = []
    for r in sel.get("ranking") or []:
        key = r.get("intent_response_key")
        if key:
            out.append((key, float(r.get("confidence") or 0.0)))
    if not out:
        resp = sel.get("response") or {}
        if resp.get("intent_response_key"):
            out = [(resp["intent_response_key"], float(resp.get("confidence") or 0.0))]
    return out


def faq_passes(parse: Dict[str, Any], guard: Optional[Dict[str, float]] = None) -> bool:
    """True when an FAQ reading may be answered: intent and selector agree, confidently enough."""
    g = {**GUARD, **(guard or {})}
    intents = intent_ranking(parse)
    if not intents or intents[0][0] != FAQ or intents[0][1] < g["min_intent"]:
        return False
    topics = topic_ranking(parse)
    if not topics:
        return False
    top, second = topics[0][1], (topics[1][1] if len(topics) > 1 else 0.0)
    if top < g["min_topic"]:
        confident_enough = g["topic_ratio"] > 0 and top >= g["floor_topic"] and top >= g["topic_ratio"] * second
        if not confident_enough:
            return False
    return top - second >= g["min_topic_margin"]


def readings(parse: Dict[str, Any]) -> List[Tuple[str, float]]:
    """Every Pay Later reading with a joint score: faq is split into its topics (intent x topic)."""
    scores: Dict[str, float] = {}
    topics = topic_ranking(parse)
    for name, conf in intent_ranking(parse):
        if name == FAQ:
            for topic, tconf in topics:
                scores[topic] = max(scores.get(topic, 0.0), conf * tconf)
        elif name in CHOICES:
            scores[name] = max(scores.get(name, 0.0), conf)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def clarify_candidates(parse: Dict[str, Any], cfg: Optional[Dict[str, float]] = None) -> List[str]:
    """2-3 labels to offer as buttons, or [] when the message is better answered "not here"."""
    c = {**CLARIFY, **(cfg or {})}
    intents = intent_ranking(parse)
    if intents and intents[0][0] in NOT_OFFERED:
        return []
    ranked = [(label, score) for label, score in readings(parse) if label in CHOICES]
    if len(ranked) < 2 or ranked[0][1] < c["min_best"] or ranked[1][1] < c["min_other"]:
        return []
    return [label for label, score in ranked[: int(c["max_buttons"])] if score >= c["min_other"]]


_SPLIT = re.compile(r"\?\s*|[;\n]+|\s+(?:and also|also|and|plus|as well as|or)\s+(?=(?:what|who|how|when|where|which|why|whether|is|are|can|could|do|does|will|would|the|my|then|if|for\s+(?:how|what|which))\b)", re.I)


def question_parts(text: str) -> List[str]:
    """The question clauses of a message ("what is it and who lends" -> 2)."""
    parts = [p.strip(" ,.!") for p in _SPLIT.split(text or "")]
    return [p for p in parts if len(p.split()) >= 2]


def extra_topics(first: Optional[str], part_parses: List[Dict[str, Any]],
                 cfg: Optional[Dict[str, float]] = None) -> List[str]:
    """FAQ topics to answer after `first`, from the parses of the message's question clauses."""
    m = {**MULTI, **(cfg or {})}
    out: List[str] = []
    if len(part_parses) < 2:
        return out
    for parse in part_parses:
        guard = {"min_intent": m["min_intent"], "min_topic": m["min_topic"], "min_topic_margin": 0.0}
        if not faq_passes(parse, guard):
            continue
        topic = topic_ranking(parse)[0][0]
        if topic != first and topic not in out:
            out.append(topic)
    return out[: int(m["max_extra"])]


_APP = re.compile(
    r"\b(?:in|on|using|via|from|through|with)\s+(?:the\s+|my\s+|your\s+)?(?:mobile\s+|phone\s+|alibaba(?:\.com)?\s+)?app\b"
    r"|\bmobile app\b|\b(?:on|from|using|with)\s+(?:my\s+|the\s+|a\s+)?(?:phone|cell ?phone|iphone|android|mobile|tablet|ipad)\b",
    re.I,
)
_WEB = re.compile(
    r"\b(?:on|in|via|using|from|through|with)\s+(?:the\s+|my\s+|your\s+|a\s+)?(?:alibaba(?:\.com)?\s+)?"
    r"(?:website|web\s?site|site|browser|web|desktop|computer|laptop|pc|mac)\b|\bwebsite\b|\bdesktop\b",
    re.I,
)


def client_mentioned(text: str) -> Optional[str]:
    """"app" / "web" when the buyer names where they are ("how do I pay in the app"), "both"
    when they name both, None when they name neither (then the widget's metadata decides)."""
    app, web = bool(_APP.search(text or "")), bool(_WEB.search(text or ""))
    if app and web:
        return "both"
    return "app" if app else "web" if web else None
