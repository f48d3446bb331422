"""Odd but valid text: what real WhatsApp bodies and names contain.

Message and note bodies (and, rarely, chat and contact names) sometimes carry:

  cut_emoji   a lone UTF-16 high surrogate at the end: a JavaScript producer cut
              a string in the middle of an emoji ("Thanks \\ud83d")
  emoji       emoji, skin tones, flags and ZWJ sequences
  rtl         right-to-left text (Arabic, Hebrew) mixed with digits and LTR words
  combining   combining marks (decomposed accents, Devanagari, "zalgo")
  separators  U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR
  quotes      double quotes, single quotes and backslashes
  html        HTML-like text (<b>, <script>, &amp;)
  long        a very long body (tens of kB)

Everything is deterministic from the record's hash. Rates (of chat-type
messages / of notes / of names):

  cut_emoji   1 in 100,000 / 1 in 5,000 / 1 in 300
  long        1 in 20,000  / 1 in 2,000 / never
  the others  3% together  / 5%         / 4%

so a 300,000-message history has a lone surrogate on about 1 page in 100 (of
1000). On top of that every phone gets one guaranteed cut-emoji message and
one cut-emoji note at a small, fixed index (`guaranteed_index`), so small
organisations always contain them.

orjson refuses to encode lone surrogates, so `to_json_bytes` falls back to
`json.dumps` (ASCII escapes such as "\\ud83d": valid JSON that Python's json
accepts and orjson's loads rejects) for the responses that contain one.
"""

import copy
import json

import orjson

from .hashing import mix64, salt

_ODD_KEY = 0x6F64647465787431  # "oddtext1": decorrelates these choices from the generators' hashes
_PER = 100_000
# (variant, threshold out of _PER): a roll below the threshold (and above the previous one) picks it.
MESSAGE_RATES = (("cut_emoji", 1), ("long", 6), ("other", 3_006))
NOTE_RATES = (("cut_emoji", 20), ("long", 70), ("other", 5_070))
NAME_RATES = (("cut_emoji", 333), ("other", 4_333))

OTHER_VARIANTS = ("emoji", "rtl", "combining", "separators", "quotes", "html")
EMOJI_FOR_CUTS = ("🙏", "😊", "👍", "🎉", "🚚", "😂")  # all outside the BMP: two UTF-16 units each
EMOJI_TEXTS = (
    "Family trip 👨‍👩‍👧‍👦 was great 🏳️‍🌈",
    "Done 👍🏽👍🏿 thanks 🧑🏾‍💻",
    "Shipping to 🇮🇳 and 🇦🇪 only ✈️",
    "❤️‍🔥 best order ever 😍😍😍",
)
RTL_TEXTS = (
    "مرحبا، طلبك رقم 4521 في الطريق 🚚",
    "שלום, ההזמנה שלך נשלחה היום",
    "Order OD123 \u200fتم التسليم\u200f on time",
)
COMBINING_TEXTS = (
    "Cafe\u0301 au lait, re\u0301sume\u0301 attached",
    "नमस्ते, आपका ऑर्डर भेज दिया गया है",
    "Z\u0351\u0366\u0324a\u0308\u0356l\u036e\u0312g\u0301o\u0334 text",
)
SEPARATOR_TEXTS = ("line one\u2028line two\u2029new paragraph", "Address:\u2028Flat 4B\u2028Pune")
QUOTE_TEXTS = (
    'He said "ship it" and left',
    "Path is C:\\Users\\admin\\orders.csv \\n is not a newline",
    "It's 'fine' \\\" really \"",
)
HTML_TEXTS = (
    "<b>Offer</b> ends <i>today</i> &amp; tomorrow",
    '<script>alert("hi")</script>',
    '<a href="https://shop.example.in/?a=1&b=2">link</a> &lt;3',
)
_TEXTS = {"emoji": EMOJI_TEXTS, "rtl": RTL_TEXTS, "combining": COMBINING_TEXTS, "separators": SEPARATOR_TEXTS,
          "quotes": QUOTE_TEXTS, "html": HTML_TEXTS}
_LONG_PARAGRAPH = (
    "Terms and conditions: deliveries are made between 9 AM and 7 PM on working days. "
    "Returns are accepted within 7 days of delivery in the original packaging. "
)
NAME_SUFFIXES = {"emoji": " 🌸", "rtl": " محمد", "combining": " Zoe\u0308", "separators": "\u2028",
                 "quotes": ' "RJ"', "html": " <VIP>"}


def high_surrogate(emoji: str) -> str:
    """The first UTF-16 code unit of an emoji: what is left when a JS string is cut inside it."""
    code_point = ord(emoji[0])
    if code_point < 0x10000:
        raise ValueError(f"{emoji!r} is one UTF-16 unit: cutting it leaves no surrogate")
    return chr(0xD800 + ((code_point - 0x10000) >> 10))


def has_lone_surrogate(text) -> bool:
    """Whether a string holds a surrogate code point (which no UTF-8 encoder accepts)."""
    return isinstance(text, str) and any("\ud800" <= ch <= "\udfff" for ch in text)


def _pick(rates, h):
    roll = h % _PER
    for variant, threshold in rates:
        if roll < threshold:
            return variant
    return None


def _odd(text, variant, h):
    if variant == "cut_emoji":
        return f"{text} {high_surrogate(EMOJI_FOR_CUTS[(h >> 20) % len(EMOJI_FOR_CUTS)])}"
    if variant == "long":
        repeat = (20_000 + (h >> 24) % 40_000) // len(_LONG_PARAGRAPH) + 1
        return text + "\n\n" + _LONG_PARAGRAPH * repeat
    if variant == "other":
        texts = _TEXTS[OTHER_VARIANTS[(h >> 20) % len(OTHER_VARIANTS)]]
        return texts[(h >> 28) % len(texts)]
    return text


def message_body(body: str, h: int, forced: bool = False) -> str:
    """A message body, made odd at MESSAGE_RATES (always cut if `forced`)."""
    h = mix64(h ^ _ODD_KEY)
    return _odd(body, "cut_emoji" if forced else _pick(MESSAGE_RATES, h), h)


def note_body(body: str, h: int, forced: bool = False) -> str:
    """A note body, made odd at NOTE_RATES (always cut if `forced`)."""
    h = mix64(h ^ _ODD_KEY)
    return _odd(body, "cut_emoji" if forced else _pick(NOTE_RATES, h), h)


def odd_name(name: str, seed: int, key: str) -> str:
    """A chat or contact name, made odd at NAME_RATES; the first word stays plain."""
    h = salt(seed, "odd-name", key)
    variant = _pick(NAME_RATES, h)
    if variant == "cut_emoji":
        return _odd(name, variant, h)
    if variant == "other":
        return name + NAME_SUFFIXES[OTHER_VARIANTS[(h >> 20) % len(OTHER_VARIANTS)]]
    return name


def apply_to_names(world):
    """Make some contact and chat names odd (a direct chat keeps its contact's name)."""
    for contact in world.contacts:
        if not contact.internal:
            contact.name = odd_name(contact.name, world.seed, contact.jid)
    chats = world.shared_chats + [chat for chats in world.private_chats.values() for chat in chats]
    for chat in chats:
        chat.name = odd_name(chat.name, world.seed, chat.chat_id)


def guaranteed_index(generator, eligible, scan=400):
    """The first private base index >= 1 whose record is `eligible` (-1 if none near the head)."""
    for index in range(1, min(generator.size, 1 + scan)):
        if not generator.is_shared_slot(index) and eligible(generator.record(index)):
            return index
    return -1


# -- JSON -----------------------------------------------------------------------------
def to_json_bytes(payload) -> bytes:
    """orjson's bytes, or json.dumps' ASCII-escaped text when a string holds a lone surrogate."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return json.dumps(payload).encode()


def clone(value):
    """A deep copy of JSON-like data (fast with orjson; deepcopy when it holds a lone surrogate)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return copy.deepcopy(value)
