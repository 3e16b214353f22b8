"""Parsing of what buyers type: order ids, amounts, yes/no, years in business, corrections.

Pure functions, no Rasa imports. Every parser returns None when it is not sure, so the caller
can re-ask instead of guessing.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import List, Optional, Tuple

from bot.domain.money import money

MAX_AMOUNT = Decimal("1000000000")  # anything above a billion is a typo or garbage
CENT = Decimal("0.01")

# ----------------------------------------------------------------------------- order ids
_ORDER_RE = re.compile(r"(?<![A-Za-z0-9])(TA|PO)[\s_-]?(\d{5,6})(?!\d)", re.I)


def normalize_order_id(text: Optional[str]) -> Optional[str]:
    """'ta100231', 'TA 100231', 'ta-100231' -> 'TA-100231'; None when there is no order id."""
    ids = find_order_ids(text)
    return ids[0] if ids else None


def find_order_ids(text: Optional[str]) -> List[str]:
    """All order ids in `text`, normalised, in order, without duplicates."""
    out: List[str] = []
    for m in _ORDER_RE.finditer(text or ""):
        oid = f"{m.group(1).upper()}-{m.group(2)}"
        if oid not in out:
            out.append(oid)
    return out


# ----------------------------------------------------------------------------- numbers
_UNITS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "half": Decimal("0.5"),
}
_SCALES = {
    "thousand": 10**3, "k": 10**3, "grand": 10**3, "million": 10**6, "mil": 10**6, "mio": 10**6,
    "m": 10**6, "mm": 10**6, "billion": 10**9, "bn": 10**9, "b": 10**9,
}
_FILLER = {
    "about", "around", "roughly", "approximately", "approx", "approx.", "maybe", "almost", "nearly",
    "over", "more", "than", "just", "under", "some", "like", "usd", "us", "dollars", "dollar", "bucks",
    "per", "year", "yearly", "annually", "annual", "revenue", "a year", "p.a.", "pa", "is", "it's",
    "its", "of", "and", "the", "we", "make", "do", "did", "have", "i", "want", "need", "would",
    "limit", "credit", "total", "in", "sales", "turnover", "approximately,", "our", "my", "be",
    "ok", "so", "um", "uh", "around,", "request", "requesting", "borrow", "for", "last",
    "actually", "meant", "sorry", "oops", "make", "it", "that", "let's", "say", "something",
}
_NUM_TOKEN = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")


def _to_decimal(token: str) -> Optional[Decimal]:
    m = _NUM_TOKEN.match(token)
    if not m:
        return None
    return Decimal(m.group(1).replace(",", "") + (m.group(2) or ""))


def _tokens(text: str) -> List[str]:
    text = text.lower().replace("$", " ").replace("~", " ").replace("+", " ")
    # "20k" -> "20 k", "1.5m" -> "1.5 m"; keep "20,000.50" whole
    text = re.sub(r"\b(\d{1,3})((?: \d{3})+)\b", lambda m: m.group(0).replace(" ", ""), text)
    text = re.sub(r"(\d)([a-z]+)\b", r"\1 \2", text)
    text = re.sub(r"[-/]", " ", text)
    return [t.strip(".,!?;:()") for t in text.split() if t.strip(".,!?;:()")]


def parse_amount(text: Optional[str]) -> Optional[Decimal]:
    """A positive money amount typed any usual way, rounded to the cent; None if unsure.

    "20k", "$20,000", "20,000.00", "twenty thousand", "1.5 million", "2M", "5.5k",
    "one hundred fifty thousand", "about 2.5 million a year".
    """
    if not text or len(text) > 200:
        return None
    low = text.lower()
    if re.search(r"(^|[^\w])-\s*\$?\s*\d|\bminus\b|\bnegative\b", low):
        return None
    total = Decimal(0)
    current: Optional[Decimal] = None
    seen_number = False
    tokens = _tokens(low)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in ("or", "to", "and/or") and seen_number:
            return None  # a range or a choice: "20k or 30k"
        value = _to_decimal(tok)
        if value is not None:
            if current is not None and current != 0 and not _is_word_sum(current, value):
                return None  # two separate numbers: "20 30"
            current = (current or Decimal(0)) + value
            seen_number = True
        elif tok in _UNITS:
            if tok in ("a", "an") and (seen_number or nxt not in _SCALES and nxt != "hundred"):
                continue  # "2.5 million a year", "a twenty thousand dollar loan"
            current = (current or Decimal(0)) + Decimal(_UNITS[tok])
            seen_number = seen_number or tok not in ("a", "an")
        elif tok == "hundred":
            current = (current if current else Decimal(1)) * 100
            seen_number = True
        elif tok in _SCALES:
            if current is None:
                if tok in ("m", "b", "k"):
                    return None
                current = Decimal(1)
            total += current * _SCALES[tok]
            current = None
            seen_number = True
        elif tok in _FILLER:
            continue
        else:
            return None
    if not seen_number:
        return None
    amount = total + (current or Decimal(0))
    if amount <= 0 or amount > MAX_AMOUNT:
        return None
    return money(amount)  # the one rounding rule: half-up to the cent


def _is_word_sum(current: Decimal, value: Decimal) -> bool:
    """'twenty 5' is odd but 'one hundred 50' adds up; two plain numbers do not."""
    return current >= 20 and value < 10 and current % 10 == 0 or current % 100 == 0 and value < 100


_AMOUNT_IN_TEXT = re.compile(
    r"(?<![\w.-])\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(k|m|mm|bn|thousand|million|billion|grand)?(?![\w-])",
    re.I,
)
_WORD_RUN = re.compile(
    r"\b(?:(?:" + "|".join(sorted((set(_UNITS) - {"an", "half"}) | {"hundred", "thousand", "million", "billion", "and"}, key=len, reverse=True)) + r")\b[\s-]*)+",
    re.I,
)


def find_amount(text: Optional[str]) -> Optional[Decimal]:
    """The money amount inside a sentence ("what would borrowing 20k cost?"), or None.

    Order ids and small counts ("6 months") are ignored.
    """
    found = find_amount_span(text)
    return found[2] if found else None


# what a buyer writes around an amount, kept in its span: "USD 8,000", "$ 20k", "9,000 dollars"
_BEFORE_AMOUNT = re.compile(r"(?:\b(?:usd|us\$|us)\s?|\$\s?)$", re.I)
_AFTER_AMOUNT = re.compile(r"^\s?(?:us dollars|dollars|dollar|usd|bucks)\b", re.I)


def find_amount_span(text: Optional[str]) -> Optional[Tuple[int, int, Decimal]]:
    """(start, end, amount) of the money amount inside a sentence, or None: what `find_amount`
    reads, with where the buyer wrote it ("USD 8,000", "twenty five thousand dollars")."""
    if not text:
        return None
    # order ids blanked to the same length, so that positions in `clean` are positions in `text`
    clean = _ORDER_RE.sub(lambda m: " " * len(m.group(0)), text)
    best: Optional[Tuple[int, int, Decimal]] = None
    strong = {}
    for m in _AMOUNT_IN_TEXT.finditer(clean):
        after = clean[m.end(): m.end() + 8].lower()
        if re.match(r"\s*(months?|mos?\b|years?|days?|weeks?|%|percent|monthly|instal|payments)", after):
            continue
        before = clean[max(0, m.start() - 1): m.start()]
        if before == "-":
            continue
        value = parse_amount(m.group(0))
        if value is None:
            continue
        if "$" in m.group(0) or m.group(3) or value >= 100:
            strong.setdefault(value, (m.start(), m.end(), value))
        elif best is None:
            best = (m.start(), m.end(), value)
    if len(strong) > 1:
        return None  # "20k or 30k": ask instead of guessing
    found = next(iter(strong.values())) if strong else best
    if found is None:
        for m in _WORD_RUN.finditer(clean):
            value = parse_amount(m.group(0))
            if value is not None and m.group(0).strip().lower() not in ("a", "and", "a and"):
                words = m.group(0).rstrip(" -")
                if words.lower().endswith(" and"):
                    words = words[: -len(" and")]
                # "a twenty thousand dollar loan" -> "twenty thousand dollar"; "a hundred" stays whole
                lead = re.match(r"(?:an?|and)\s+(\w+)", words, re.I)
                skip = lead.start(1) if lead and lead.group(1).lower() in _UNITS else 0
                found = (m.start() + skip, m.start() + len(words), value)
                break
    if found is None:
        return None
    start, end, value = found
    lead = _BEFORE_AMOUNT.search(clean[max(0, start - 4): start]) if clean[start:start + 1] != "$" else None
    if lead:
        start -= len(lead.group(0))
    tail = _AFTER_AMOUNT.match(clean[end:])
    if tail:
        end += len(tail.group(0))
    while end > start and text[end - 1] in " .,!?;:":
        end -= 1
    return start, end, value


# ----------------------------------------------------------------------------- yes / no
_YES = re.compile(
    r"^(y|ya|yes|yeah|yea|yep|yup|sure|correct|right|true|ok|okay|absolutely|definitely|indeed|"
    r"affirmative|of course|certainly|that's right|thats right|that is right|that's correct|go ahead|"
    r"please do|do it|submit|submit it|confirm|confirmed|looks good|all good|we are|we're|i am|i'm|"
    r"it is|yes please|sounds good|perfect|exactly|totally)\b",
    re.I,
)
_NO = re.compile(
    r"^(n|no|nope|nah|not|negative|wrong|incorrect|false|never|don't|do not|we aren't|we are not|"
    r"we're not|i'm not|i am not|it isn't|it is not|not really|not yet|cancel|wait)\b",
    re.I,
)


def parse_yes_no(text: Optional[str]) -> Optional[bool]:
    """True for yes-like answers, False for no-like answers, None otherwise."""
    t = (text or "").strip().lower().lstrip("¡!.,- ")
    t = re.sub(r"^(well|um|uh|hmm|actually|oh)[,\s]+", "", t)
    if not t or re.search(r"\b(not sure|don't know|dont know|no idea|maybe|unsure)\b", t):
        return None
    if _NO.match(t):
        return False
    if _YES.match(t):
        return True
    return None


_US_STATES = (
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii "
    "idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan "
    "minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania "
    "tennessee texas utah vermont virginia washington wisconsin wyoming"
).split() + [
    "new hampshire", "new jersey", "new mexico", "new york", "north carolina", "north dakota",
    "rhode island", "south carolina", "south dakota", "west virginia", "district of columbia",
    "puerto rico", "chicago", "los angeles", "houston", "miami", "seattle", "boston", "dallas",
    "atlanta", "san francisco", "denver", "phoenix", "brooklyn", "nyc", "philadelphia",
]
_STATE_CODES = set(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split()
)
_US_WORDS = re.compile(
    r"\b(usa|u\.s\.a\.?|u\.s\.?|united states|america|the us|in us|us based|us-based|us business|"
    r"us company|american|stateside|" + "|".join(_US_STATES) + r")\b",
    re.I,
)
_NOT_US = re.compile(
    r"\b(not|outside|isn't|aren't|non)\b[\w\s'-]{0,20}\b(us|usa|u\.s\.?|united states|america|based)\b", re.I
)
_FOREIGN = re.compile(
    r"\b(germany|deutschland|france|uk|united kingdom|england|britain|scotland|ireland|canada|mexico|"
    r"china|hong kong|taiwan|india|japan|korea|australia|new zealand|brazil|spain|italy|netherlands|"
    r"holland|belgium|poland|sweden|norway|denmark|finland|austria|switzerland|portugal|turkey|"
    r"israel|uae|dubai|singapore|malaysia|vietnam|thailand|philippines|indonesia|nigeria|kenya|"
    r"south africa|egypt|argentina|chile|colombia|peru|russia|ukraine|europe|asia|africa|abroad|overseas|"
    r"gmbh|ltd\.? \(uk\))\b",
    re.I,
)


def parse_us_based(text: Optional[str]) -> Optional[bool]:
    """Is the business US based? "yep", "we're based in Texas" -> True; "we are in Germany" -> False."""
    t = (text or "").strip()
    if not t:
        return None
    if _NOT_US.search(t):
        return False
    if re.fullmatch(r"(?:yes,?\s*)?(?:the\s+)?(?:us|usa|u\.s\.a?\.?)\s*[.!]?", t, re.I):
        return True
    us_place = bool(_US_WORDS.search(t)) or any(code in _STATE_CODES for code in re.findall(r"\b[A-Z]{2}\b", t))
    if us_place:
        return True
    if _FOREIGN.search(t):
        return False
    return parse_yes_no(t)


# ----------------------------------------------------------------------------- years
_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})


def _dec_str(value: Decimal) -> str:
    """Decimal as a plain string without exponent or trailing zeros: 3 -> "3", 1.50 -> "1.5"."""
    return format(value.quantize(CENT).normalize(), "f")


def decimal_str(value: Decimal) -> str:
    return _dec_str(value)


def parse_years(text: Optional[str], today: Optional[dt.date] = None) -> Optional[Decimal]:
    """Years in business: "3 years", "since 2019", "since March 2019", "18 months" -> 1.5.

    Returns a Decimal rounded to 0.1 year, or None if unsure (negative, future, absurd)."""
    today = today or dt.date.today()
    t = (text or "").strip().lower()
    if not t or len(t) > 200 or re.search(r"(^|\s)-\s*\d|\bminus\b", t):
        return None
    if re.search(r"\b(just started|brand new|new business|less than (a|one) month|startup from today)\b", t):
        return Decimal("0")
    if re.search(r"\b(less than|under) (a|one|1) year\b", t):
        return Decimal("0.5")
    if re.search(r"\ba decade\b", t):
        return Decimal("10")
    m = re.search(
        r"\b(?:since|from|in|founded|established|started|opened|incorporated)\b[^\d]*?"
        r"(?:(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+)?((?:19|20)\d\d)\b",
        t,
    ) or re.fullmatch(r"(?:(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+)?((?:19|20)\d\d)", t)
    if m:
        year, month = int(m.group(2)), _MONTHS.get((m.group(1) or "")[:3])
        if year > today.year or (month and (year, month) > (today.year, today.month)) or year < 1800:
            return None
        if month:
            months = (today.year - year) * 12 + today.month - month
            return (Decimal(months) / 12).quantize(Decimal("0.1"))
        return Decimal(today.year - year)
    years = Decimal(0)
    found = False
    for number, unit in re.findall(
        r"([\d.,]+|[a-z]+(?:[\s-][a-z]+)?)\s*(years?|yrs?|y|months?|mos?|decades?)\b", t
    ):
        value = parse_amount(number) if not re.fullmatch(r"[\d.]+", number) else _plain(number)
        if value is None:
            words = number.split()
            value = parse_amount(words[-1]) if words else None
            if value is None and words and words[-1] in ("a", "an"):
                value = Decimal(1)
        if value is None:
            return None
        found = True
        if unit.startswith("m"):
            years += value / 12
        elif unit.startswith("d"):
            years += value * 10
        else:
            years += value
    if not found:
        value = _plain(t.rstrip(".")) if re.fullmatch(r"\d+(\.\d+)?\.?", t) else parse_amount(t)
        if value is None:
            return None
        years = value
    if years < 0 or years > 200:
        return None
    return years.quantize(Decimal("0.1")).normalize() if years % 1 else years.quantize(Decimal(1))


def _plain(s: str) -> Optional[Decimal]:
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


# ----------------------------------------------------------------------------- corrections
FORM_SLOT_WORDS = {
    "business_name": r"business name|company name|company'?s name|business'?s name|the name|name",
    "us_based": r"us based|us-based|based|location|country|where we are|located",
    "years_in_business": r"years in business|years|in business|how long|founded|age of the business",
    "annual_revenue": r"annual revenue|revenue|sales|turnover|income",
    "requested_limit": r"requested limit|credit limit|limit|amount requested|credit amount|how much credit",
}
_TRIGGER = re.compile(
    r"\b(actually|change|changing|correct|correction|wrong|mistake|fix|update|meant|instead|edit|"
    r"oops|sorry|typo|go back)\b",
    re.I,
)


def parse_correction(text: Optional[str], need_trigger: bool = True) -> Optional[Tuple[str, str]]:
    """("annual_revenue", "80k") for "actually revenue is 80k"; ("business_name", "") for
    "change the business name"; None when the text is not a correction."""
    t = (text or "").strip()
    if not t or (need_trigger and not _TRIGGER.search(t)):
        return None
    for slot, words in FORM_SLOT_WORDS.items():
        m = re.search(r"\b(?:" + words + r")\b", t, re.I)
        if m:
            rest = t[m.end():]
            rest = re.sub(r"^\W*(?:is|was|should be|to|=|:|are|of)?\s*(?:be|is)?\s*", "", rest, flags=re.I)
            rest = re.sub(r"^(?:actually|instead|please)\s+", "", rest, flags=re.I).strip(" .!,")
            rest = re.sub(r"\s+(?:instead|please|actually)$", "", rest, flags=re.I)
            return slot, rest
    return None


# ----------------------------------------------------------------------------- loan term
_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "twenty": 20,
    "thirty": 30, "sixty": 60, "ninety": 90, "a couple of": 2, "couple of": 2, "a few": 3,
}
_COUNT = r"(\d{1,3}|" + "|".join(sorted((re.escape(w) for w in _COUNT_WORDS), key=len, reverse=True)) + r")"
_UNIT = r"(months?|mos?|mths?|years?|yrs?|weeks?|wks?|days?)"
# "over 3 months", "for two months", "in 90 days", "repay within 4 months"
_TERM_AFTER_WORD = re.compile(
    r"\b(?:over|for|in|across|within|during|spread over|repay(?:ing)? over|term of|period of|duration of)\s+"
    r"(?:the\s+next\s+|about\s+|around\s+|roughly\s+|just\s+)?" + _COUNT + r"[\s-]*" + _UNIT + r"\b",
    re.I,
)
# "a 6 month loan", "3-month term", "six month plan"
_TERM_ADJECTIVE = re.compile(
    r"\b" + _COUNT + r"[\s-]*" + _UNIT + r"\s+(?:long\s+)?(?:loan|term|draw|plan|financing|repayment|period|credit)\b",
    re.I,
)
# "3 months" with a digit or a number word (but not "a month": "fee per month" is no term)
_TERM_BARE = re.compile(r"(?<![\w.,$])" + _COUNT + r"[\s-]*" + _UNIT + r"\b(?!\s+ago)", re.I)
_HALF_YEAR = re.compile(r"\b(?:half a year|half-a-year|half year|6 mos?)\b", re.I)
_INSTALMENTS = re.compile(r"\b" + _COUNT + r"\s+(?:monthly\s+)?(?:instal?lments?|payments)\b", re.I)


def _count(word: str) -> Optional[int]:
    word = word.lower().strip()
    if word.isdigit():
        return int(word)
    return _COUNT_WORDS.get(word)


def _months(count: int, unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("y"):
        return count * 12
    if unit.startswith("w"):
        return max(1, -(-count * 7 // 31))  # 12 weeks -> 3 months
    if unit.startswith("d"):
        return max(1, -(-count // 31))  # 90 days -> 3 months, 180 days -> 6
    return count


def find_term(text: Optional[str]) -> Optional[int]:
    """The loan term the buyer names, in whole months, or None when none is named.

    "over 3 months" -> 3, "for two months" -> 2, "a 6 month loan" -> 6, "90 days" -> 3,
    "half a year" -> 6, "1 year" -> 12 (the caller says six is the most). "fee per month",
    "a month ago", amounts and order ids are not terms. 0 months is returned as 0 (the caller
    refuses it)."""
    if not text or len(text) > 500:
        return None
    clean = _ORDER_RE.sub(" ", text)
    if _HALF_YEAR.search(clean):
        return 6
    for pattern in (_TERM_AFTER_WORD, _TERM_ADJECTIVE, _INSTALMENTS):
        m = pattern.search(clean)
        if m:
            count = _count(m.group(1))
            if count is not None:
                return _months(count, m.group(2)) if pattern is not _INSTALMENTS else count
    for m in _TERM_BARE.finditer(clean):
        word = m.group(1).lower()
        if word in ("a", "an"):
            continue  # "a month", "a year" alone: usually "per month", "a year of revenue"
        count = _count(word)
        if count is not None:
            return _months(count, m.group(2))
    return None
