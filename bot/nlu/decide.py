"""What the bot does with one parse (pure functions on Rasa's parse dict; no framework imports).

* `faq_passes`: the guard. An FAQ answer goes out only when the intent classifier and the
  response selector agree with enough confidence; otherwise the message falls back, and the
  fallback either clarifies (buttons naming the candidates) or says honestly it can't help.
* `clarify_candidates`: the 2-3 readings worth offering as buttons, in the buyer's terms; also
  for a message the classifier is sure is an FAQ question when only its topic is unsure
  (`sure_faq_unsure_topic`), led by the topics the buyer's words name (`named_topics`).
* `domain_share`: the share of a message's content words that Pay Later training examples use;
  a Pay Later reading of a message made mostly of words the bot never learned ("who painted the
  sistine chapel ceiling") is the honest "not here" instead (the guard's vocabulary check).
* `whole_reading_wins`: a long message is read twice, as its question sentence(s) (the focus)
  and as the whole text; per head (intent, FAQ topic) the more confident reading is kept
  (`bot.nlu.components.LongMessageReader`).
* `question_parts` / `extra_topics`: a message with two questions is split into its question
  clauses; each clause is parsed on its own and a confident FAQ topic not answered yet is
  answered too (retrieval intents do not mix with Rasa's multi-intent labels, "faq+faq" cannot
  say which topics, so the split is done on the text).
"""
from __future__ import annotations

import difflib
import math
import re
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from bot.nlu.focus import focus_text

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
# Intents whose answer is Pay Later content: the vocabulary check applies to them (issue 10).
DOMAIN_INTENTS = {FAQ, "list_orders", "order_status", "check_pay_later", "apply_pay_later", "credit_line",
                  "application_status", "disbursement_status", "loan_cost", "ask_refund", "report_problem"}
# Vocabulary check: a Pay Later reading needs at least this share of the message's content words
# to be words of the Pay Later training examples (0 = off). 0.3 from bench/nlu_sweep-style runs
# on the team's sets and tests/nlu_dev/: it catches trivia with no in-scope message lost; 0.4-0.5
# start losing real questions ("which company do i end up owing").
VOCAB = {"min_known_share": 0.3}
# Function words that say nothing about the topic (scikit-learn's English list is not used: it
# holds "first", "six", "fifteen", "bill", "amount", which are Pay Later words here).
STOP_WORDS = frozenset("""
a about after again all also am an and any are as at be been before being but by can could did do
does doing for from had has have having he her here hers him his how i i'm if in into is it it's its
just me my myself no nor not of off on once only or other our ours out over own please pls s same
she should so some such t than that that's the their them then there these they this those to too
under until up very was we were what what's whats when where which while who whom why will with would
you your yours u r im ive id dont don't can't cant isnt isn't do i'd i've ok okay hi hello hey thanks
""".split())
_WORD = re.compile(r"[a-z0-9$']+")


def content_words(text: str) -> List[str]:
    """The words of the question sentence(s) that can carry a topic (no function words)."""
    words = [w.strip("'") for w in _WORD.findall(focus_text(text).lower())]
    # numbers and amounts ("$200", "25000", order ids) are neither known nor unknown
    return [w for w in words if len(w) > 1 and w not in STOP_WORDS and not any(c.isdigit() for c in w)]


def vocabulary(texts: Iterable[str]) -> Set[str]:
    """The content words of the Pay Later training examples (built when the model is trained)."""
    out: Set[str] = set()
    for text in texts:
        out.update(w for w in _WORD.findall((text or "").lower()) if len(w.strip("'")) > 1)
    return {w.strip("'") for w in out} - STOP_WORDS


def length_index(vocab: Set[str]) -> Dict[int, List[str]]:
    """Known words of 4+ letters by length: a typo is looked up only among the lengths that can
    reach difflib's ratio 0.85 (2*min/(a+b) >= 0.85: between 0.74 and 1.35 times its length),
    the same answer as searching every word, several times faster."""
    index: Dict[int, List[str]] = {}
    for w in sorted(vocab):
        if len(w) >= 4:
            index.setdefault(len(w), []).append(w)
    return index


def _is_known(word: str, vocab: Set[str], index: Dict[int, List[str]]) -> bool:
    if word in vocab:
        return True
    if len(word) < 5:
        return False
    n = len(word)
    near = [w for k in range(math.ceil(n * 0.85 / 1.15), math.floor(n * 1.15 / 0.85) + 1) for w in index.get(k, ())]
    return bool(difflib.get_close_matches(word, near, n=1, cutoff=0.85))


def domain_share(text: str, vocab: Set[str], index: Optional[Dict[int, List[str]]] = None) -> float:
    """Share of the message's content words that the vocabulary knows; a typo of a known word of
    5+ letters counts ("finacing"). 1.0 for a message without content words ("and?")."""
    words = content_words(text)
    if not words or not vocab:
        return 1.0
    index = index if index is not None else length_index(vocab)
    return sum(1 for w in words if _is_known(w, vocab, index)) / len(words)


# Clarify: offer buttons when the best reading has at least `min_best` and the runner-up
# at least `min_other`; never when the raw top intent is out_of_scope.
# A sure FAQ question whose topic is unsure: the intent classifier says faq with at least
# `sure_faq`, the message passed the guard's vocabulary check (it is not trivia), but no topic
# passed the guard: the selector's best topics are offered even under `min_best` (issue 10,
# "can I pay in the app with pay later for a 3 month loan?": faq 1.00, best topic 0.16).
# `sure_faq` 1.1 turns it off; chosen with bench/nlu_sweep.py (docs/ADDING_AN_FAQ.md).
CLARIFY = {"min_best": 0.2, "min_other": 0.1, "max_buttons": 3, "sure_faq": 0.9}
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


def _top(ranking: List[Tuple[str, float]]) -> float:
    return ranking[0][1] if ranking else 0.0


def whole_reading_wins(focus: Dict[str, Any], whole: Dict[str, Any]) -> Tuple[bool, bool]:
    """(take the whole text's intents, take its FAQ topics): a long message's focus (question
    sentence(s)) keeps each head unless the whole text's reading of that head is more confident.
    The focus drops background sentences, which often name the topic ("our supplier wants a
    bank transfer ... how long does it take?"): the whole text's topic is then far surer (issue
    10 round 4: stranger long messages 0.814 -> 0.907, dev 0.929 -> 1.000, nothing else moved)."""
    return (_top(intent_ranking(whole)) > _top(intent_ranking(focus)),
            _top(topic_ranking(whole)) > _top(topic_ranking(focus)))


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
    # a sure FAQ question with an unsure topic: the topics its own words name lead (with the
    # blended rankings of round 8 its best joint reading often passes min_best, and the general
    # list below would offer the selector's guesses before the topic the buyer named)
    unsure = unsure_topic_candidates(parse, c)
    if unsure:
        return unsure
    ranked = [(label, score) for label, score in readings(parse) if label in CHOICES]
    if len(ranked) < 2 or ranked[0][1] < c["min_best"] or ranked[1][1] < c["min_other"]:
        return []
    return [label for label, score in ranked[: int(c["max_buttons"])] if score >= c["min_other"]]


def sure_faq_unsure_topic(parse: Dict[str, Any], cfg: Optional[Dict[str, float]] = None) -> bool:
    """True when the message fell back although the intent classifier is sure it is an FAQ
    question: the guard found no topic sure enough. The vocabulary check ran before (a Pay Later
    reading of trivia is out_of_scope at the top of the ranking, so it is not faq here), and the
    FallbackClassifier does not fire on a sure intent, so only the topic is unsure."""
    c = {**CLARIFY, **(cfg or {})}
    if (parse.get("intent") or {}).get("name") != "nlu_fallback":
        return False
    intents = intent_ranking(parse)
    return bool(intents) and intents[0][0] == FAQ and intents[0][1] >= c["sure_faq"]


def unsure_topic_candidates(parse: Dict[str, Any], cfg: Optional[Dict[str, float]] = None) -> List[str]:
    """For a sure FAQ question with an unsure topic: the topics the buyer's words name
    (`named_topics`), then the selector's best, 2-3 in all; [] for any other message."""
    c = {**CLARIFY, **(cfg or {})}
    if not sure_faq_unsure_topic(parse, c):
        return []
    n = int(c["max_buttons"])
    ranked = [t for t, _ in topic_ranking(parse) if t in CHOICES]
    words = [t for t in named_topics(parse.get("text") or "") if t in CHOICES]
    named = ([t for t in ranked if t in words] + [t for t in words if t not in ranked])[: n - 1]
    out = named + [t for t in ranked if t not in named][: n - len(named)]
    return out if len(out) >= 2 else []


# Words in which a buyer names a topic the article answers, from the article's own facts (not
# from any evaluation text): the term is a number of months ("up to six months"); the steps to
# pay differ by client (laptop / app), so naming where one is asks how to pay there; the article
# names USD and the lender. Used only to choose which buttons to offer, never to answer.
# (years only before loan / term / plan: "2 years in business" is the eligibility rule's)
_N = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a|an)[\s-]*"
_DURATION = rf"{_N}(?:months?|mo|weeks?)\b|{_N}(?:years?|yrs?)[\s-]+(?:loan|term|plan|financing)\b"
TOPIC_CUES: Dict[str, "re.Pattern[str]"] = {
    "faq/term": re.compile(rf"\b(?:{_DURATION})|\bterms?\b|\bhow long\b.*\b(?:finance|borrow|loan|repay|pay (?:it )?back)", re.I),
    "faq/currency": re.compile(r"\b(?:currency|currencies|usd|dollars?|euros?|eur|rmb|yuan|cny|gbp|pounds?|yen)\b", re.I),
    "faq/lender": re.compile(r"\b(?:kabbage|lenders?|lends?|lending)\b", re.I),
}


def named_topics(text: str) -> List[str]:
    """FAQ topics the buyer's own words name ("a 3 month loan" -> term, "in the app" -> how to pay)."""
    out = [topic for topic, cue in TOPIC_CUES.items() if cue.search(text or "")]
    if client_mentioned(text) is not None:
        out.append("faq/how_to_pay")
    return out


# How people join two questions in English: "?", ";" or a new line; a joining word ("and", "also",
# "plus", "as well as", "or", "and what about") before a question word or a noun phrase ("the max
# and the term?", "and for how long"); and, after a clause that itself asks, a comma or a full stop
# before a question word ("what's the limit, how long can I take it", "what is it. who lends").
_QWORD = (r"(?:what|whats|wat|who|whos|how|hows|when|where|which|why|whether|is|are|can|could|do|does"
          r"|did|will|would|should|tell\s+me|explain)\b")
_JOINED = rf"(?:{_QWORD}|(?:the|my|your|any|then|if)\b|for\s+(?:how|what|which)\b)"
_SPLIT = re.compile(rf"\?\s*|[;\n]+|\s+(?:and also|also|and|plus|as well as|or)\s+(?={_JOINED})"
                    r"|[,.]\s*(?:and also|also|and|plus|as well as)\b[\s,]*", re.I)
_SIDE = re.compile(rf"([,.]\s*)(?={_QWORD})", re.I)
_ASKS = re.compile(rf"^\s*(?:(?:ok|okay|so|and|also|but)\s+)*{_QWORD}", re.I)
# a clause that starts like this depends on the next one ("when I'm approved, how long ..."): one question
_DEPENDENT = re.compile(r"^\s*when\s+(?:i|i'm|im|we|my|the|a|it|you)\b", re.I)


def _side_by_side(part: str) -> List[str]:
    """A clause split where a comma or full stop ends a question and another starts ("what is the
    fee, how long is the term"); a statement before the comma stays with its question
    ("I'm in the UK, can I use it", "we're a US company. do we qualify")."""
    pieces = _SIDE.split(part)
    out = [pieces[0]]
    for sep, piece in zip(pieces[1::2], pieces[2::2]):
        if _ASKS.match(out[-1]) and not _DEPENDENT.match(out[-1]):
            out.append(piece)
        else:
            out[-1] += sep + piece
    return out


# A clause that asks what "it" is or how "it" works, in a message to the Pay Later assistant, asks
# about Pay Later ("what is it and who lends" -> "what is Pay Later"); other pronouns are left.
_WHAT_IS_IT = re.compile(r"^(?:so\s+|and\s+)?(?:what|wat)(?:\s+is|'s|s)?\s+(?:it|this|that)(?:\s+exactly)?$", re.I)
_HOW_IT_WORKS = re.compile(r"^(?:so\s+|and\s+)?how\s+does\s+(?:it|this|that)\s+work$", re.I)


def _resolve(part: str) -> str:
    if _WHAT_IS_IT.match(part):
        return "what is Pay Later"
    if _HOW_IT_WORKS.match(part):
        return "how does Pay Later work"
    return part


def question_parts(text: str) -> List[str]:
    """The question clauses of a message ("what is it and who lends" -> 2)."""
    parts = []
    for part in _SPLIT.split(text or ""):
        parts += _side_by_side(part)
    parts = [p.strip(" ,.!") for p in parts]
    return [_resolve(p) for p in parts if len(p.split()) >= 2]


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
