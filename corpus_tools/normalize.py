"""Normalization: one idempotent pass from a page's text to the text later stages work on.

Implements PAGES.md §2. :func:`normalize_text` runs, in this order:

1. spaces: ``\\r\\n`` → ``\\n``; literal ``<U+00A0>`` tokens, zero-width and control
   characters go; no-break, ideographic and other spaces become one space;
2. widths: full-width digits and letters become ASCII; URLs and e-mail addresses are
   then set aside until the end;
3. script: traditional text becomes simplified with OpenCC ``t2s``, only where needed
   (see below);
4. conversion artifacts left by machine conversion (``壹是统壹部署`` → ``一是统一部署``),
   from ``resources/artifacts.tsv``;
5. Markdown residue: ``#`` headings, list dashes, ``**bold**``, ``\\_`` escapes;
6. spaces again: runs collapse, lines are stripped, blank-line runs collapse to one;
   then the signs inside a number become ASCII (``９．１％`` → ``9.1%``);
7. placeholders (``20xx``, ``__社区``, ``* * *`` …) each become one ``□``, from
   ``resources/placeholders.tsv``;
8. quotation marks lost as ``?`` (``按区?双创?周评`` → ``按区“双创”周评``);
9. ASCII ``, : ; ( ) ! ?`` between Chinese characters become full-width.

Each step only ever sees what the steps before it produced, and no step creates work for
an earlier one (a new □ can, for the placeholder step itself, which repeats until stable),
which is what makes the whole idempotent.

Speed: t2s is OpenCC's own C++ converter (the ``opencc`` package; about 35 MB/s on one
core), and text that is already simplified never meets it. A page is converted whole only
when :func:`detect_script` calls it traditional; otherwise only the lines holding a
character that is traditional-only (never written in simplified text; the set, in
``resources/script_chars.tsv``, is derived from OpenCC's dictionaries by
``tools/make_script_chars.py``) are converted. No dictionary entry holds a line break, so
converting a line alone gives the same result as converting the page. Every other step
is a precompiled regex whose first character is a character class, so the regex engine
skips quickly over text with nothing to fix.

>>> normalize_text("壹是統壹部署，進壹步關註誌願服務")
'一是统一部署，进一步关注志愿服务'
>>> normalize_text("按區?雙創?周評，完成率９．１％")
'按区“双创”周评，完成率9.1%'
>>> normalize_text("20xx年__社区工作总结")
'20□年□社区工作总结'
"""

# ruff: noqa: RUF001, RUF002, RUF003 - this module is about full-width and look-alike characters
from __future__ import annotations

import functools
import itertools
import logging
import os
import re
from collections.abc import Callable
from typing import Literal

from .errors import ResourceError, require_str
from .rules import load_tsv

log = logging.getLogger(__name__)

__all__ = ["PLACEHOLDER", "count_placeholders", "detect_script", "normalize_text"]

#: The mark a blanked-out placeholder run becomes (U+25A1 WHITE SQUARE).
PLACEHOLDER = "□"

Script = Literal["simplified", "traditional", "mixed"]

# Chinese characters (CJK unified ideographs, extension A, compatibility, extensions B-G).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
_HAN_BOX = _HAN + PLACEHOLDER
# Chinese punctuation that counts as "Chinese" context for ASCII punctuation next to it.
_CJK_PUNCT = "，。、；：？！（）“”‘’《》〈〉【】「」『』…—～·"

# ----------------------------------------------------------------------------- 1. spaces

_U_TOKEN_RE = re.compile(r"<[Uu]\+(?:00[Aa]0|3000|200[0-9A-Ba-b]|202[Ff]|[Ff][Ee][Ff][Ff])>")
# Characters that are not plain text, and what they become: line breaks other than \n that
# str.splitlines() would honour become \n; zero-width characters, the soft hyphen and
# control characters other than \t and \n go; tabs and every other kind of space become a
# space. (Tested as one class, then replaced character by character with str.replace,
# which is many times faster than a regex substitution.)
_ODD_CHARS: dict[str, str] = {
    **dict.fromkeys("\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "\n"),
    **dict.fromkeys(
        "".join(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x1F, *range(0x7F, 0x85)]))
        + "".join(map(chr, range(0x86, 0xA0)))
        + "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff",
        "",
    ),
    **dict.fromkeys(
        "\t\u00a0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))), " "
    ),
}
_ODD_RE = re.compile("[" + "".join(re.escape(c) for c in _ODD_CHARS) + "]")


def _clean_spaces(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<U+" in text or "<u+" in text:
        text = _U_TOKEN_RE.sub("", text)
    match = _ODD_RE.search(text)
    while match is not None:  # once per distinct odd character (none stands before it)
        char = match.group()
        text = text.replace(char, _ODD_CHARS[char])
        match = _ODD_RE.search(text, match.start())
    return text


_SPACE_RUN_RE = re.compile("  +")
_BLANK_LINES_RE = re.compile("\n\n\n+")


def _tidy_lines(text: str) -> str:
    if "  " in text:
        text = _SPACE_RUN_RE.sub(" ", text)
    if " \n" in text:
        text = text.replace(" \n", "\n")
    if "\n " in text:
        text = text.replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip(" \n")


# ----------------------------------------------------------------------------- 2. widths

_FULLWIDTH_ALNUM_RE = re.compile("[０-９Ａ-Ｚａ-ｚ]")
# Signs inside numbers: 9．1, 10：30, 1／2 between digits; ％ after a digit; ＋/－ before one.
_NUMBER_SIGN_RE = re.compile(
    "[．：／％＋－](?:(?<=[0-9][．：／])(?=[0-9])|(?<=[0-9]％)|(?<=[＋－])(?=[0-9]))"
)
# The same rule one sign at a time: a pattern that opens with a literal character is
# searched for at C speed, where a class of six (with the frequent ：) is tested at every
# character. Each sign's context is digits and the sign itself, which no other sign's
# replacement changes, so applying them one after the other equals one pass of the above.
_NUMBER_SIGN_EACH = (
    ("．", ".", re.compile("．(?<=[0-9]．)(?=[0-9])")),
    ("：", ":", re.compile("：(?<=[0-9]：)(?=[0-9])")),
    ("／", "/", re.compile("／(?<=[0-9]／)(?=[0-9])")),
    ("％", "%", re.compile("％(?<=[0-9]％)")),
    ("＋", "+", re.compile("＋(?=[0-9])")),
    ("－", "-", re.compile("－(?=[0-9])")),
)


def _fix_alnum_widths(text: str) -> str:
    # Character by character: each distinct full-width letter or digit is replaced all
    # over the text with one str.replace (a page uses few of them); nothing before the
    # first match is full-width, so the search goes on from there.
    match = _FULLWIDTH_ALNUM_RE.search(text)
    while match is not None:
        char, start = match.group(), match.start()
        text = text.replace(char, chr(ord(char) - 0xFEE0))
        match = _FULLWIDTH_ALNUM_RE.search(text, start)
    return text


def _fix_number_signs(text: str) -> str:
    # Runs after the Markdown and space steps, which can bring a sign next to a digit.
    for sign, ascii_sign, pattern in _NUMBER_SIGN_EACH:
        if sign in text:
            text = pattern.sub(ascii_sign, text)
    return text


_URL_RE = re.compile(
    r"(?:https?://|ftp://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+(?<![.,;:!?)'\]])"
)
_EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9._%+\-][A-Za-z0-9._%+\-]*\Z")
_EMAIL_DOMAIN_RE = re.compile(r"@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+")


def _emails(text: str) -> list[tuple[int, int]]:
    """Spans of e-mail addresses, found from each @ (a regex starting at every Latin
    letter would crawl through long Latin or digit runs)."""
    spans: list[tuple[int, int]] = []
    for m in _EMAIL_DOMAIN_RE.finditer(text):
        local = _EMAIL_LOCAL_RE.search(text, max(0, m.start() - 64), m.start())
        if local is not None:
            spans.append((local.start(), m.end()))
    return spans


def _mask_urls(text: str) -> tuple[str, str, list[str]]:
    """Set URLs and e-mail addresses aside behind one private-use character each."""
    if "://" not in text and "www." not in text and "@" not in text:
        return text, "", []
    mask = next((chr(c) for c in range(0xE000, 0xF8FF) if chr(c) not in text), "")
    if not mask:  # pragma: no cover - a text holding all 6400 private-use characters
        return text, "", []
    spans = [m.span() for m in _URL_RE.finditer(text)]
    if "@" in text:
        spans = sorted(spans + _emails(text))
    found: list[str] = []
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos:  # an address inside a URL, already set aside
            continue
        parts.append(text[pos:start])
        parts.append(mask)
        found.append(text[start:end])
        pos = end
    if not found:
        return text, "", []
    parts.append(text[pos:])
    text = "".join(parts)
    return text, mask, found


def _unmask_urls(text: str, mask: str, found: list[str]) -> str:
    if not found:
        return text
    parts = text.split(mask)
    if len(parts) != len(found) + 1:  # pragma: no cover - no step adds or drops the mask
        log.warning("URL mask count changed; URLs left masked")
        return text
    out = [parts[0]]
    for url, part in zip(found, parts[1:], strict=True):
        out.append(url)
        out.append(part)
    return "".join(out)


# ----------------------------------------------------------------------------- 3. script


def _opencc():
    """The ``opencc`` module of the C++ binding (OpenCC's own converter)."""
    try:
        import opencc
    except ModuleNotFoundError as exc:  # pragma: no cover - opencc is a dependency
        raise ResourceError("OpenCC is missing: pip install opencc") from exc
    if not hasattr(opencc, "clib") and not os.path.isdir(
            os.path.join(os.path.dirname(opencc.__file__), "clib")):
        # opencc-python-reimplemented installs the same import name (and 30x slower).
        raise ResourceError(
            f"{opencc.__file__} is not OpenCC's C++ binding (opencc-python-reimplemented?): "
            "pip uninstall -y opencc opencc-python-reimplemented && pip install opencc")
    return opencc


@functools.cache
def t2s_characters() -> dict[str, str]:
    """What OpenCC's t2s makes of each CJK character (BMP) it changes, on its own.

    Asked of the converter itself (one call, about 10 ms): a character alone can match no
    phrase, so this is the character table, with OpenCC's folding of CJK compatibility
    ideographs. :func:`corpus_tools.boilerplate.fold_text` folds with it.
    """
    chars = [chr(cp) for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
             for cp in range(lo, hi + 1)]
    converted = _t2s()("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a converter that drops lines
        raise ResourceError("OpenCC t2s changed the number of lines of the character table")
    return {c: t for c, t in zip(chars, converted, strict=True) if c != t and len(t) == 1}


@functools.cache
def _script_charsets() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``(traditional_only, simplified_only)`` character classes, from
    ``resources/script_chars.tsv``.

    The sets are derived from OpenCC's text dictionaries (which the C++ binding ships only
    compiled) by ``tools/make_script_chars.py``: a character is traditional-only when t2s
    maps it to something else and it is neither an output of t2s nor a simplified character
    in its own right (so 著, 乾, 於 are not), which also means t2s output never holds one.
    Simplified-only characters are those s2t changes that t2s does not know and no s2t
    mapping produces.
    """
    rows = {row["id"]: row["chars"] for row in load_tsv("script_chars.tsv",
                                                        required=("id", "chars"))}
    try:
        traditional, simplified = set(rows["traditional_only"]), set(rows["simplified_only"])
    except KeyError as exc:
        raise ResourceError(f"script_chars.tsv: no row {exc}") from exc

    def char_class(chars: set[str]) -> re.Pattern[str]:
        # The regex engine tests a class of BMP characters against a bitmap, but falls
        # back to a linear list once one character lies beyond U+FFFF (x50 slower); keep
        # the astral characters in a branch of their own, consulted only when needed.
        bmp = "".join(re.escape(c) for c in sorted(chars) if ord(c) <= 0xFFFF)
        astral = "".join(re.escape(c) for c in sorted(chars) if ord(c) > 0xFFFF)
        return re.compile(f"[{bmp}]|[{astral}]" if astral else f"[{bmp}]")

    return char_class(traditional), char_class(simplified)


def _has_astral(text: str) -> bool:
    """Whether *text* holds a character beyond U+FFFF: such a character takes two UTF-16
    code units (a lone surrogate takes one). Encoding is a copy in C, several times faster
    than scanning with a character class."""
    if text.isascii():  # a flag of the string, no scan
        return False
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


@functools.cache
def _bmp_only(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern.partition("]|[")[0] + "]")


def _char_class(pattern: re.Pattern[str], text: str) -> re.Pattern[str]:
    """*pattern*, or its fast BMP-only part when *text* has no character beyond U+FFFF."""
    return pattern if _has_astral(text) else _bmp_only(pattern)


@functools.cache
def _t2s() -> Callable[[str], str]:
    return _opencc().OpenCC("t2s").convert


def _count(pattern: re.Pattern[str], text: str, cap: int) -> int:
    """Matches of *pattern* in *text*, counted up to *cap* (``cap`` means "at least")."""
    return sum(1 for _ in itertools.islice(pattern.finditer(text), cap))


def _script_of(text: str) -> Script:
    """:func:`_classify` of the text's counts, counting no further than the answer needs.

    The answer is a ratio test (traditional when ``n_t >= 9 n_s``, simplified when
    ``9 n_t <= n_s``), so once one count is known exactly the other need only be counted
    up to nine times it: a traditional page with a handful of simplified-only characters is
    decided after a few hundred matches, not the tens of thousands a full count makes.
    """
    traditional, simplified = _script_charsets()
    if not _has_astral(text):
        traditional, simplified = _bmp_only(traditional), _bmp_only(simplified)
    if not traditional.search(text):
        return "simplified"
    cap = 256
    while True:
        n_t, n_s = _count(traditional, text, cap), _count(simplified, text, cap)
        if n_t < cap and n_s < cap:
            return _classify(n_t, n_s)
        if n_s < cap and 9 * n_s <= cap:  # n_t >= cap >= 9 n_s
            return "traditional"
        if n_t < cap and 9 * n_t <= cap:  # n_s >= cap >= 9 n_t
            return "simplified"
        cap *= 8


def _classify(n_traditional: int, n_simplified: int) -> Script:
    if n_traditional == 0:
        return "simplified"
    share = n_traditional / (n_traditional + n_simplified)
    if share >= 0.9:
        return "traditional"
    if share <= 0.1:
        return "simplified"
    return "mixed"


def detect_script(text: str) -> Script:
    """The script a text is written in: ``simplified``, ``traditional`` or ``mixed``.

    Counts characters that only traditional script uses against characters that only
    simplified script uses (both sets derived from OpenCC's dictionaries); a text with
    neither (Latin, digits, characters common to both) is ``simplified``.

    >>> detect_script("社区创建工作汇报")
    'simplified'
    >>> detect_script("社區創建工作匯報")
    'traditional'
    >>> detect_script("社區創建工作匯報。社区创建工作汇报")
    'mixed'
    """
    text = require_str(text)
    return _script_of(text)


def _to_simplified(text: str) -> str:
    traditional = _char_class(_script_charsets()[0], text)
    match = traditional.search(text)
    if match is None:
        return text
    convert = _t2s()
    if _script_of(text) == "traditional":
        return convert(text)
    # Simplified or mixed: convert only the lines that hold a traditional-only character.
    parts: list[str] = []
    pos = 0
    while match is not None:
        start = text.rfind("\n", pos, match.start()) + 1 or pos
        end = text.find("\n", match.end())
        end = len(text) if end < 0 else end
        parts.append(text[pos:start])
        parts.append(convert(text[start:end]))
        pos = end
        match = traditional.search(text, pos)
    parts.append(text[pos:])
    return "".join(parts)


# ----------------------------------------------------------------------------- 4. artifacts

# Capital numerals other than 壹 (both scripts): their presence makes a run an amount.
_CAPITAL_NUMERALS = frozenset("贰貳叁參肆伍陆陸柒捌玖拾佰仟")
_AMOUNT_CHARS = "零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億元圆圓角分整"
_AMOUNT_TAIL_RE = re.compile(f"[{_AMOUNT_CHARS}]*\\Z")
_AMOUNT_HEAD_RE = re.compile(f"[{_AMOUNT_CHARS}]*")
_AMOUNT_LEADS = ("人民币", "大写", "金额", "计人民币")


def _in_amount(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` sits in an amount written in capital numerals."""
    left = text[max(0, start - 16) : start]
    left_run = _AMOUNT_TAIL_RE.search(left)
    right_run = _AMOUNT_HEAD_RE.match(text, end, min(len(text), end + 16))
    run = (left_run.group() if left_run else "") + (right_run.group() if right_run else "")
    if _CAPITAL_NUMERALS.intersection(run) or run.endswith("整"):
        return True
    before = left[: len(left) - len(left_run.group())] if left_run else left
    return before.rstrip("：: ").endswith(_AMOUNT_LEADS)


@functools.cache
def _artifact_rules() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    rows = load_tsv("artifacts.tsv", required=("id", "find", "replace", "context"))
    table: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["context"] not in ("any", "not_financial"):
            raise ResourceError(f"{row.where()}: context must be 'any' or 'not_financial'")
        if row["find"] in table:
            raise ResourceError(f"{row.where()}: {row['find']!r} is listed twice")
        table[row["find"]] = (row["replace"], row["context"])
    keys = sorted(table, key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in keys)), table


@functools.cache
def _artifact_chars() -> tuple[str, ...]:
    """A few characters such that every artifact holds one (greedy hitting set): a text
    holding none of them has no artifact, which ``in`` tells faster than the regex."""
    left = list(_artifact_rules()[1])
    chosen: list[str] = []
    while left:
        counts: dict[str, int] = {}
        for find in left:
            for char in set(find):
                counts[char] = counts.get(char, 0) + 1
        best = min(counts, key=lambda c: (-counts[c], c))
        chosen.append(best)
        left = [find for find in left if best not in find]
    return tuple(chosen)


_CAPITAL_HEADING_RE = re.compile("\n *[贰貳]、")


def _fix_artifacts(text: str) -> str:
    if not any(char in text for char in _artifact_chars()):
        return text
    pattern, table = _artifact_rules()
    # Headings numbered in capitals (壹、 … 贰、 …) keep their 壹 when a 贰、 heading exists.
    capital_headings = _CAPITAL_HEADING_RE.search("\n" + text) is not None

    def repl(m: re.Match[str]) -> str:
        replace, context = table[m.group()]
        if context == "not_financial":
            start, end = m.span()
            if _in_amount(m.string, start, end):
                return m.group()
            if capital_headings and m.string.startswith("、", end):
                if start == 0 or m.string[start - 1] in "\n ":
                    return m.group()
        return replace

    return pattern.sub(repl, text)


# ----------------------------------------------------------------------------- 5. Markdown

# A run of backslashes before a Markdown-escapable character goes whole (two backslashes
# and a dot become a dot): unescaping one backslash at a time leaves a backslash and a dot,
# which the next pass unescapes again, and normalization must be idempotent. A match
# starts only at the first backslash of a run (linear on a long run not followed by one).
_MD_ESCAPE_RE = re.compile(r"(?<!\\)\\++([_*#+\-.!\[\]()`~>|])")
# Heading #s, list dashes/stars/pluses, bullets and quote marks at the start of a line
# (a star followed by another star is a placeholder run, not a list marker).
_MD_LINE_RE = re.compile(r"\n[ ]*(?:#{1,6}[ ]+|[-+>•][ ]+|\*[ ]+(?![ *＊]))+")
_MD_RULE_RE = re.compile(r"\n[ ]*(?:[-=][ ]*){3,}(?=\n)")
_MD_BOLD_RE = re.compile(r"\*\*(?=[^\s*])([^*\n]{1,200}?)(?<=[^\s*])\*\*")


# Both _MD_RULE_RE and _MD_LINE_RE start at a line whose first non-space character is one
# of these; a page without such a line is left as it is (a regex opening with a literal
# line end skips from line to line at C speed).
_MD_LINE_START_RE = re.compile(r"\n[ ]*[#\-+>•*=]")
_MD_FIRST_LINE_RE = re.compile(r"[ ]*[#\-+>•*=]")


def _strip_markdown(text: str) -> str:
    if "\\" in text:
        text = _MD_ESCAPE_RE.sub(r"\1", text)
    if "**" in text:
        text = _MD_BOLD_RE.sub(r"\1", text)
    if not _MD_FIRST_LINE_RE.match(text) and not _MD_LINE_START_RE.search(text):
        return text
    text = _MD_RULE_RE.sub("\n", "\n" + text + "\n")
    text = _MD_LINE_RE.sub("\n", text)
    # Once more: a list marker may have stood before a rule ("* ---").
    return _MD_RULE_RE.sub("\n", text)[1:-1]


# ----------------------------------------------------------------------------- 7. placeholders

_BOX_RUN_RE = re.compile(PLACEHOLDER * 2 + "+")
_BOX_RUNS_RE = re.compile(PLACEHOLDER * 2 + "*")


@functools.cache
def _placeholder_re() -> re.Pattern[str]:
    """One regex for all placeholder rules: ``[first chars](?:(?<=first)rest|...)``.

    Putting the union of the rules' first characters in front lets the regex engine scan
    for candidates at C speed; each rule then checks its own first character again.
    """
    return _placeholder_rules()[0]


@functools.cache
def _placeholder_rules() -> tuple[re.Pattern[str], str]:
    """:func:`_placeholder_re` and the characters a match can start with."""
    rows = load_tsv("placeholders.tsv", required=("id", "first", "rest"))
    firsts: list[str] = []
    branches: list[str] = []
    for row in rows:
        first, rest = row["first"], row["rest"].replace("{han}", _HAN_BOX)
        body = first[1:-1]
        if not (first.startswith("[") and first.endswith("]") and body) or any(
            c in body[1:-1] for c in "-\\^[]"
        ):
            raise ResourceError(
                f"{row.where()}: 'first' must list characters in brackets, like [xX×]"
            )
        try:
            re.compile(first + rest)
        except re.error as exc:
            raise ResourceError(f"{row.where()}: invalid pattern: {exc}") from exc
        firsts.append(body)
        branches.append(f"(?<={first})(?:{rest})")
    chars = "".join(dict.fromkeys("".join(firsts)))
    union = "".join(re.escape(c) for c in chars)
    return re.compile(f"[{union}](?:" + "|".join(branches) + ")"), chars


def _blank_placeholders(text: str) -> str:
    pattern, firsts = _placeholder_rules()
    # No character a match can start with: nothing to do (``in`` is faster than the scan).
    if PLACEHOLDER * 2 not in text and not any(char in text for char in firsts):
        return text
    # A new □ can make a neighbour a placeholder (x□, _□): repeat until nothing changes.
    # Each round turns at least one placeholder character into □, so this ends.
    while True:
        new, n = pattern.subn(PLACEHOLDER, text)
        if PLACEHOLDER * 2 in new:
            new = _BOX_RUN_RE.sub(PLACEHOLDER, new)
        if n == 0 or new == text:
            return new
        text = new


def count_placeholders(text: str) -> int:
    """Number of ``□`` runs in a normalized text (each blanked-out placeholder is one).

    >>> count_placeholders(normalize_text("20xx年xx社区在__的领导下"))
    3
    """
    text = require_str(text)
    if PLACEHOLDER not in text:
        return 0
    return len(_BOX_RUNS_RE.findall(text))


# ----------------------------------------------------------------------------- 8-9. punctuation

_LOST_QUOTES_RE = re.compile(
    f"\\?(?<=[{_HAN}]\\?)([{_HAN_BOX}0-9A-Za-z，,、·]{{1,24}})\\?(?![A-Za-z0-9?])"
)
_CHINESE_AT = re.compile(f"[{_HAN_BOX}{_CJK_PUNCT}]")
_CHINESE_OR_DIGIT_AT = re.compile(f"[{_HAN_BOX}{_CJK_PUNCT}0-9\n]")
_HAN_AT = re.compile(f"[{_HAN_BOX}]")
_PAREN_EDGE_AT = re.compile(f"[{_CJK_PUNCT}\n,:;!?]")
# Innermost pairs only (no parenthesis of either width inside), so that converting a pair
# never exposes another one on a second pass: "((社)社)" → "(（社）社)".
_PAREN_RE = re.compile(r"\(([^()（）\n]{0,80})\)")
_PUNCT_RUN_RE = re.compile(r"[,:;!?][,:;!?]*")
_PUNCT_TABLE = str.maketrans(",:;!?()", "，：；！？（）")


def _restore_quotes(text: str) -> str:
    if "?" not in text:
        return text
    return _LOST_QUOTES_RE.sub("“\\1”", text)


def _paren(m: re.Match[str]) -> str:
    # Full-width when the content starts or ends with a Chinese character, or when the
    # pair stands in Chinese text: Chinese (or a line edge, or punctuation) on both
    # sides and a Chinese character on at least one: 党(业)委, (2)进一步, 第(3)条.
    text, inner = m.string, m.group(1)
    start, end = m.span()
    if inner and (_HAN_AT.match(inner) or _HAN_AT.match(inner, len(inner) - 1)):
        return f"（{inner}）"
    left_han = start > 0 and _HAN_AT.match(text, start - 1) is not None
    right_han = end < len(text) and _HAN_AT.match(text, end) is not None
    left_ok = left_han or start == 0 or _PAREN_EDGE_AT.match(text, start - 1) is not None
    right_ok = right_han or end == len(text) or _PAREN_EDGE_AT.match(text, end) is not None
    if left_ok and right_ok and (left_han or right_han):
        return f"（{inner}）"
    return m.group()


def _punct_run(m: re.Match[str]) -> str:
    # Chinese on the left; Chinese, a digit or the end of the line on the right.
    text = m.string
    start, end = m.span()
    if start and _CHINESE_AT.match(text, start - 1):
        if end == len(text) or _CHINESE_OR_DIGIT_AT.match(text, end):
            run = m.group()
            if ",," in run:
                run = re.sub(",{2,}", ",", run)
            return run.translate(_PUNCT_TABLE)
    return m.group()


def _widen_punctuation(text: str) -> str:
    if "(" in text:
        text = _PAREN_RE.sub(_paren, text)
    if not any(char in text for char in ",:;!?"):
        return text
    return _PUNCT_RUN_RE.sub(_punct_run, text)


# ----------------------------------------------------------------------------- the function


def normalize_text(text: str) -> str:
    """Normalize a page's text per PAGES.md §2; idempotent, never raises on a ``str``.

    Raises :class:`~corpus_tools.errors.InputError` on ``bytes``.

    >>> normalize_text("社区党(业)委,共服务１２３４人次。")
    '社区党（业）委，共服务1234人次。'
    >>> normalize_text("## 一、总体情况\\r\\n\\r\\n\\r\\n- 以---为统领，**扎实**推进")
    '一、总体情况\\n\\n以□为统领，扎实推进'
    >>> normalize_text("版本0.9.1见https://example.com/a__b?x=1，增长5.3%")
    '版本0.9.1见https://example.com/a__b?x=1，增长5.3%'
    """
    text = require_str(text)
    text = _clean_spaces(text)
    text = _fix_alnum_widths(text)
    text, mask, urls = _mask_urls(text)
    text = _to_simplified(text)
    text = _fix_artifacts(text)
    text = _strip_markdown(text)
    text = _tidy_lines(text)
    text = _fix_number_signs(text)
    text = _blank_placeholders(text)
    text = _restore_quotes(text)
    text = _widen_punctuation(text)
    return _unmask_urls(text, mask, urls)
