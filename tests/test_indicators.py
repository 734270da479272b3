"""Tests of corpus_tools.indicators: example table, gold floors, panel forms and exports."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _cases import load_cases

from corpus_tools import indicators as ind
from corpus_tools.errors import InputError, ResourceError
from corpus_tools.indicators import (
    document_panel,
    indicator_panel,
    indicator_rules,
    panel_wide,
    write_panel,
)
from corpus_tools.io import read_page
from corpus_tools.metrics import extract_metrics
from corpus_tools.pipeline import process_page
from corpus_tools.schema import PANEL_COLUMNS
from corpus_tools.sections import split_sections

HERE = Path(__file__).parent
CASES = load_cases("indicators")
GOLD = HERE / "gold" / "panel"

#: Pinned floors of the panel on the gold reports: a change that lowers either fails.
PRECISION_FLOOR = 0.97
RECALL_FLOOR = 0.97


def _same(got: object, want: object) -> bool:
    if isinstance(want, (int, float)) and not isinstance(want, bool) and got is not None:
        return math.isclose(float(got), float(want), rel_tol=1e-9)  # type: ignore[arg-type]
    if want is None:
        return got is None or got != got
    return got == want


def _panel(case: dict) -> list[dict]:
    text = case["input"]
    secs = split_sections(text)
    ms = extract_metrics(text, sections=secs, year=case["year"], doc_type=case.get("doc_type"))
    doc = {"doc_id": case["id"], "place": "某地", "year": case["year"],
           "doc_type": case.get("doc_type"), "text": text}  # fmt: skip
    return ms, document_panel(doc, ms, secs)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['phenomenon']}:{c['id']}" for c in CASES])
def test_example_table(case: dict) -> None:
    ms, rows = _panel(case)
    want = case["expected"]
    assert [m.raw for m in ms] == [str(w["raw"]) for w in want], case.get("note", "")
    for m, w in zip(ms, want, strict=True):
        for field, value in w.items():
            assert _same(getattr(m, field), value), (field, m)
    if "panel" in case:
        assert [(r["indicator"], r["stance"]) for r in rows] == [
            (w["indicator"], w["stance"]) for w in case["panel"]
        ], rows
        for r, w in zip(rows, case["panel"], strict=True):
            for field, value in w.items():
                assert _same(r[field], value), (field, r)
            assert case["input"][r["start"] : r["end"]] == r["raw"]


def test_cases_cover_phenomena_with_negatives() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for kind in ("indicator", "stance", "period", "panel"):
        assert sum(c["phenomenon"] == kind for c in CASES) >= 3, kind
    assert sum(c["id"].startswith("neg-") for c in CASES) >= 10


# ---------------------------------------------------------------- gold set (two annotators)


def _gold() -> dict[tuple[str, str, str], dict[str, str]]:
    with open(GOLD / "gold.tsv", encoding="utf-8", newline="") as fh:
        return {(r["doc"], r["indicator"], r["stance"]): r for r in csv.DictReader(fh, delimiter="\t")}


def _predicted() -> dict[tuple[str, str, str], dict]:
    got = {}
    for path in sorted((GOLD / "reports").glob("*.txt")):
        (page,), _ = read_page(path, source=path.name)
        for r in process_page(page)["indicators"]:
            got[(path.stem, r["indicator"], r["stance"])] = r
    return got


def _matches(g: dict[str, str], r: dict) -> bool:
    def num(v: object) -> float | None:
        return None if v in ("", None) or v != v else float(v)  # type: ignore[arg-type]

    for f in ("value", "value_max"):
        a, b = num(r[f]), num(g[f])
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-6)):  # type: ignore[arg-type]
            return False
    return (
        str(r["period"]) == g["period"]
        and (r["qualifier"] or "") == g["qualifier"]
        and r["status"] == g["status"]
    )


def test_gold_floors() -> None:
    gold, got = _gold(), _predicted()
    assert len(gold) >= 150 and len({k[0] for k in gold}) >= 8, "the gold set shrank"
    tp = sum(1 for k, r in got.items() if k in gold and _matches(gold[k], r))
    wrong = sorted(k for k in got if k not in gold or not _matches(gold[k], got[k]))
    missed = sorted(k for k in gold if k not in got)
    assert tp / len(got) >= PRECISION_FLOOR, wrong
    assert tp / len(gold) >= RECALL_FLOOR, missed


def test_gold_rows_slice_back() -> None:
    for path in sorted((GOLD / "reports").glob("*.txt")):
        (page,), _ = read_page(path, source=path.name)
        out = process_page(page)
        text = out["documents"][0]["text"]
        for r in out["indicators"]:
            assert text[r["start"] : r["end"]] == r["raw"]
            assert set(r) == set(PANEL_COLUMNS)


# ---------------------------------------------------------------- panel forms and exports


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from corpus_tools import run
    from corpus_tools.config import RunConfig

    out = tmp_path_factory.mktemp("panel")
    run([GOLD / "reports"], out, RunConfig(themes=False, charts=False, workers=1, csv=True))
    return out


def test_panel_from_run_and_from_tables_agree(run_out: Path) -> None:
    from corpus_tools import read_table

    on_disk = indicator_panel(run_out)
    assert list(on_disk.columns) == list(PANEL_COLUMNS)
    assert (run_out / "indicators.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    tables = {n: read_table(run_out, n) for n in ("documents", "metrics", "sections")}
    built = indicator_panel(tables)
    key = ["doc_id", "indicator", "stance"]
    a = on_disk.sort_values(key).reset_index(drop=True)
    b = built.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + ["value", "status"]], b[key + ["value", "status"]],
                                  check_dtype=False)  # fmt: skip


def test_panel_wide_and_exports(run_out: Path, tmp_path: Path) -> None:
    panel = indicator_panel(run_out)
    wide = panel_wide(panel)
    assert wide.index.names == ["place", "year"]
    assert "gdp_growth_target" in wide.columns and "gdp_growth_achieved" in wide.columns
    row = wide.loc[("湘南省", 2026)]
    assert row["gdp_growth_target"] == 5.0 and row["gdp_growth_achieved"] == 5.3
    assert math.isnan(row["income_growth_target"])  # stated without a number
    for name in ("p.csv", "p.parquet", "p.dta", "w.dta"):
        write_panel(wide if name.startswith("w") else panel, tmp_path / name)
    back = pd.read_stata(tmp_path / "w.dta")
    assert "fixed_asset_investment_growth_t" in back.columns  # 32-character Stata names
    assert back.loc[back["place"] == "湘南省", "gdp_growth_target"].iloc[0] == 5.0
    long_back = pd.read_stata(tmp_path / "p.dta")
    assert len(long_back) == len(panel) and "湘南省" in set(long_back["place"])
    assert (tmp_path / "p.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(InputError):
        write_panel(panel, tmp_path / "p.xlsx")


def test_indicator_panel_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        indicator_panel(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="needs the tables"):
        indicator_panel({"documents": pd.DataFrame()})


def test_required_ids_present() -> None:
    names = indicator_rules().names
    for iid in ("gdp_growth", "gdp", "cpi", "urban_new_jobs", "unemployment",
                "registered_unemployment", "budget_revenue_growth", "budget_revenue",
                "income_growth", "fixed_asset_investment_growth", "retail_sales_growth",
                "trade_growth", "industrial_value_added_growth", "grain_output",
                "energy_intensity", "pm25", "deficit_ratio", "m2_growth", "new_jobs"):  # fmt: skip
        assert iid in names


@pytest.mark.parametrize(
    ("body", "message"),
    [("x\t名\tpercent\tyes\t名\t\nx\t名\tmoney\tno\t名\t\n", "snake_case"),
     ("x\t名\tfurlongs\tyes\t名\t\n", "category"),
     ("x\t名\tpercent\tyes\t\t\n", "phrasings"),
     ("x\t名\tpercent\tyes\t名\t\ny\t名\tpercent\tyes\t名\t\n", "already names")],
)  # fmt: skip
def test_broken_rule_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "indicators.tsv"
    path.write_text("id\tname\tcategory\tsigned\tphrasings\tnote\n" + body, encoding="utf-8")
    monkeypatch.setattr(ind, "_INDICATORS_FILE", path)
    indicator_rules.cache_clear()
    try:
        with pytest.raises(ResourceError, match=message):
            indicator_rules()
    finally:
        indicator_rules.cache_clear()


_ALPHABET = st.sampled_from(
    list("0123456789.%一二十百万亿年月全省市县区农村地区生产总值增长下降预期目标力争去年今年过去"
         "回顾工作居民收入同步持平，。；：、\n“”十四五年均")
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=120), st.sampled_from([None, 2026]))
def test_property_panel_never_raises_and_slices_back(text: str, year: int | None) -> None:
    secs = split_sections(text)
    ms = extract_metrics(text, sections=secs, year=year)
    for m in ms:
        assert m.stance in (None, "target", "achieved")
        assert m.period_end is None or (m.period is not None and m.period_end >= m.period)
    rows = document_panel({"doc_id": "x", "year": year, "text": text}, ms, secs)
    assert len({(r["indicator"], r["stance"]) for r in rows}) == len(rows)
    for r in rows:
        assert text[r["start"] : r["end"]] == r["raw"]
        assert (r["value"] is None) == (r["status"] == "no_number")


def test_target_vs_outcome_and_chart() -> None:
    rows = []
    for place, year, target, achieved in (("甲省", 2025, 5.0, 5.2), ("甲省", 2026, 5.0, None),
                                          ("乙省", 2025, 6.0, 5.5)):  # fmt: skip
        rows.append({"doc_id": f"{place}{year}", "place": place, "year": year,
                     "indicator": "gdp_growth", "stance": "target", "period": year,
                     "value": target, "value_max": None, "qualifier": "approx"})  # fmt: skip
        if achieved is not None:  # reported in the next year's report
            rows.append({"doc_id": f"{place}{year + 1}", "place": place, "year": year + 1,
                         "indicator": "gdp_growth", "stance": "achieved", "period": year,
                         "value": achieved, "value_max": None, "qualifier": "exact"})  # fmt: skip
    panel = pd.DataFrame(rows)
    pairs = ind.target_vs_outcome(panel)
    assert pairs[["place", "period", "target", "achieved"]].fillna(-1).values.tolist() == [
        ["乙省", 2025, 6.0, 5.5], ["甲省", 2025, 5.0, 5.2], ["甲省", 2026, 5.0, -1]
    ]
    ax = ind.target_outcome_chart(panel)
    assert ax.get_title() == "地区生产总值增长：目标与实际"
    assert len(ax.collections[0].get_offsets()) == 2
    assert {t.get_text() for t in ax.texts} == {"甲省 2025", "乙省 2025"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=150), st.sampled_from([None, 2026]))
def test_property_sweep_equals_single_queries(text: str, year: int | None) -> None:
    # extract_metrics decides all figures of a document in one sweep; stance_at one at a time
    ctx = ind.IndicatorContext(text, sections=split_sections(text), year=year)
    pos = sorted({m.start for m in extract_metrics(text)})
    assert ctx.stances(pos) == [ctx.stance_at(p) for p in pos]
