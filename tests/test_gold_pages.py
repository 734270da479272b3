"""Gold set for boilerplate lines and article boundaries, with pinned floors.

The pages in ``tests/gold/pages`` are made up and annotated line by line (see the README
there). A change that lowers precision or recall below a floor fails this test; raise a
floor when the code gets better.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus_tools.articles import split_articles
from corpus_tools.boilerplate import strip_boilerplate
from corpus_tools.normalize import normalize_text

GOLD = Path(__file__).parent / "gold" / "pages"
PAGES = sorted(GOLD.glob("*.txt"))

#: Pinned floors: (precision, recall).
BOILERPLATE_FLOOR = (1.0, 1.0)
ARTICLE_FLOOR = (1.0, 1.0)
KEY = 10  # characters of the first line of an article's text: where it starts


@dataclass
class Gold:
    raw: str
    furniture: set[int]  # 1-based raw line numbers
    starts: list[str]  # the first KEY characters of each article's normalized text


def _load(path: Path) -> Gold:
    data = path.read_bytes().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    raw_lines, furniture, starts = [], set(), []
    pending = False
    for no, tagged in enumerate(lines, 1):
        tag, line = tagged[:2], tagged[2:]
        raw_lines.append(line)
        content = line.replace("\r", "").replace("<U+00A0>", "").strip()
        if tag == "B ":
            furniture.add(no)
        elif tag == "A ":
            pending = True
        elif tag == "L ":
            body = line.split(":", 1)[1] if ":" in line else line.split("：", 1)[1]
            starts.append(normalize_text(body).strip()[:KEY])
        elif tag == "  ":
            if pending and content:
                starts.append(normalize_text(line).strip()[:KEY])
                pending = False
        else:
            raise AssertionError(f"{path.name}:{no}: unknown tag {tag!r}")
    return Gold("\n".join(raw_lines), furniture, starts)


def _score(found: int, predicted: int, gold: int) -> tuple[float, float]:
    precision = found / predicted if predicted else 1.0
    recall = found / gold if gold else 1.0
    return precision, recall


def evaluate() -> tuple[tuple[float, float], tuple[float, float], list[str]]:
    bp_hit = bp_pred = bp_gold = 0
    ar_hit = ar_pred = ar_gold = 0
    notes: list[str] = []
    for path in PAGES:
        gold = _load(path)
        stripped = strip_boilerplate(gold.raw)
        removed = {r.line_no for r in stripped.removed}
        bp_hit += len(removed & gold.furniture)
        bp_pred += len(removed)
        bp_gold += len(gold.furniture)
        notes += [f"{path.name}: removed content line {n}" for n in removed - gold.furniture]
        notes += [f"{path.name}: kept furniture line {n}" for n in gold.furniture - removed]
        articles = split_articles(normalize_text(stripped.text))
        predicted = [a.text.split("\n", 1)[0][:KEY] for a in articles]
        ar_hit += len(set(predicted) & set(gold.starts))
        ar_pred += len(predicted)
        ar_gold += len(gold.starts)
        if predicted != gold.starts:
            notes.append(f"{path.name}: articles {predicted} != gold {gold.starts}")
    return _score(bp_hit, bp_pred, bp_gold), _score(ar_hit, ar_pred, ar_gold), notes


def test_gold_pages_exist() -> None:
    assert len(PAGES) >= 5


@pytest.fixture(scope="module")
def scores() -> tuple[tuple[float, float], tuple[float, float], list[str]]:
    return evaluate()


def test_boilerplate_floor(scores: tuple) -> None:
    (precision, recall), _, notes = scores
    assert precision >= BOILERPLATE_FLOOR[0], notes
    assert recall >= BOILERPLATE_FLOOR[1], notes


def test_article_floor(scores: tuple) -> None:
    _, (precision, recall), notes = scores
    assert precision >= ARTICLE_FLOOR[0], notes
    assert recall >= ARTICLE_FLOOR[1], notes


if __name__ == "__main__":  # pragma: no cover - print the scores when tuning
    print(evaluate())
