"""Tests of corpus_tools.charts: Chinese labels render without missing glyphs, no globals."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from corpus_tools.charts import (
    cjk_font,
    draw_charts,
    metrics_by_category,
    theme_frequency_bar,
    theme_heatmap,
    theme_share_over_years,
)
from corpus_tools.themes import theme_frequency

THEMES = ["志愿服务", "环境卫生", "社会治安", "未成年人思想道德", "网格化管理"]


@pytest.fixture(scope="module")
def freq() -> pd.DataFrame:
    docs = pd.DataFrame(
        {
            "doc_id": [f"d{i}" for i in range(8)],
            "year": [2018, 2018, 2019, 2020, 2020, 2021, 2022, 2022],
            "doc_type": ["社区工作总结", "政府工作报告"] * 4,
        }
    )
    rows = [(f"d{i}", str(s), THEMES[(i + s) % len(THEMES)]) for i in range(8) for s in range(1, 4)]
    hits = pd.DataFrame(rows, columns=["doc_id", "section_id", "theme"])
    return theme_frequency(hits, docs, by="year")


def _render(ax: Axes) -> list[str]:
    """Draw the figure to PNG and SVG; return the texts of any glyph warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fmt in ("png", "svg"):
            ax.figure.savefig(io.BytesIO(), format=fmt)
    return [
        str(w.message)
        for w in caught
        if "missing from" in str(w.message) or "Glyph" in str(w.message)
    ]


def test_renders_chinese_without_missing_glyphs(freq: pd.DataFrame) -> None:
    for ax in (
        theme_frequency_bar(freq),
        theme_heatmap(freq),
        theme_share_over_years(freq, value="section_share"),
    ):
        assert _render(ax) == []
        texts = [t.get_text() for t in ax.get_yticklabels()] + [ax.get_title()]
        assert any("\u4e00" <= ch <= "\u9fff" for t in texts for ch in t)


def test_the_glyph_check_can_fail() -> None:
    """Control: Chinese drawn with a Latin-only font does raise the warning we check for."""
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title("志愿服务", fontfamily="DejaVu Sans")
    assert _render(ax), "expected a missing-glyph warning from DejaVu Sans"


def test_charts_leave_rcparams_alone(freq: pd.DataFrame) -> None:
    before = dict(matplotlib.rcParams)
    theme_frequency_bar(freq)
    theme_heatmap(freq)
    theme_share_over_years(freq)
    metrics_by_category(pd.DataFrame({"category": ["经济", "经济", "社区"]}))
    after = dict(matplotlib.rcParams)
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}


def test_given_axes_is_used_and_returned(freq: pd.DataFrame) -> None:
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert theme_frequency_bar(freq, ax=axes[0]) is axes[0]
    assert theme_heatmap(freq, ax=axes[1]) is axes[1]
    assert _render(axes[0]) == []


def test_metrics_by_category() -> None:
    metrics = pd.DataFrame(
        {
            "doc_id": ["a", "a", "c", "b", "b", "b"],
            "category": ["经济总量", "经济总量", "经济总量", "就业", "", None],
        }
    )
    ax = metrics_by_category(metrics)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "经济总量" and "(未分类)" in labels
    assert _render(ax) == []


def test_bundled_font_is_cjk() -> None:
    assert "CJK" in cjk_font().get_name()


def test_draw_charts_writes_png_and_svg(tmp_path: Path) -> None:
    docs = pd.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "year": [2020, 2021, 2022],
            "doc_type": ["社区", "社区", "政府"],
            "duplicate_of": [None, None, None],
        }
    )
    docs.to_parquet(tmp_path / "documents.parquet")
    pd.DataFrame(
        {"doc_id": ["a", "b", "c"], "section_id": ["1", "1", "1"], "text": ["x", "y", "z"]}
    ).to_parquet(tmp_path / "sections.parquet")
    pd.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "section_id": ["1", "1", "1"],
            "theme": ["志愿服务", "环境卫生", "志愿服务"],
            "score": [1.0, 1.0, 1.0],
            "hits": [2, 2, 2],
        }
    ).to_parquet(tmp_path / "named_themes.parquet")
    pd.DataFrame(
        {"theme_id": [0], "label": ["志愿服务·慰问"], "top_terms": ["志愿服务、慰问"], "size": [3]}
    ).to_parquet(tmp_path / "themes.parquet")
    pd.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "section_id": ["1", "1", "1"],
            "theme_id": [0, 0, 0],
            "weight": [1.0, 1.0, 1.0],
        }
    ).to_parquet(tmp_path / "section_themes.parquet")
    pd.DataFrame({"doc_id": ["a"], "section_id": ["1"], "category": ["经济总量"]}).to_parquet(
        tmp_path / "metrics.parquet"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = draw_charts(tmp_path)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    names = {p.name for p in paths}
    for stem in (
        "named_theme_frequency",
        "named_theme_by_doc_type",
        "named_theme_by_year",
        "named_theme_over_years",
        "theme_frequency",
        "metrics_by_category",
    ):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    for p in paths:
        assert p.parent == tmp_path / "charts" and p.stat().st_size > 1000
    assert (tmp_path / "charts" / "theme_frequency.png").read_bytes()[:4] == b"\x89PNG"


def test_empty_tables_draw_without_errors() -> None:
    empty = theme_frequency(
        pd.DataFrame({"doc_id": [], "section_id": [], "theme": []}),
        pd.DataFrame({"doc_id": ["a"], "year": [2020]}),
        by="year",
    )
    for ax in (
        theme_frequency_bar(empty),
        theme_heatmap(empty),
        theme_share_over_years(empty),
        metrics_by_category(pd.DataFrame({"doc_id": [], "category": []})),
    ):
        assert _render(ax) == []


def test_every_metric_category_has_a_chinese_label() -> None:
    from corpus_tools.charts import category_labels
    from corpus_tools.rules import load_tsv

    categories = {row["category"] for row in load_tsv("units.tsv")}
    assert categories <= set(category_labels())


def _gappy_freq() -> pd.DataFrame:
    years = [1958, 1959, 1960, 1964, 1975, 1978, 1980, 1982]
    docs = pd.DataFrame({"doc_id": [f"y{y}" for y in years], "year": years})
    themes = ["科技创新", "生态环境", "民生保障", "教育", "就业", "法治", "国防"]
    rows = [(f"y{y}", str(s), themes[(i + s) % len(themes)], 1 + (i % 3))
            for i, y in enumerate(years) for s in range(4)]
    hits = pd.DataFrame(rows, columns=["doc_id", "section_id", "theme", "hits"])
    return theme_frequency(hits, docs, by="year")


def test_years_without_documents_are_gaps_not_lines() -> None:
    from corpus_tools.charts import missing_years

    freq = _gappy_freq()
    assert missing_years(freq["year"]) == [(1961, 1963), (1965, 1974), (1976, 1977), (1979, 1979),
                                           (1981, 1981)]
    ax = theme_share_over_years(freq, value="section_share", themes=["科技创新", "民生保障"])
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("科技创新", "民生保障")]
    assert [ln.get_label() for ln in lines] == ["科技创新", "民生保障"]  # themes= chooses
    for line in lines:
        x = list(line.get_xdata())
        y = list(line.get_ydata())
        # a NaN right after 1964 and after 1960: no straight line across 1965–1974
        assert pd.isna(y[x.index(1961)]) and pd.isna(y[x.index(1965)])
        assert 1979 not in x  # one missing year between two reports keeps the line
    marks = [ln for ln in ax.get_lines() if ln.get_label() == "无文档的年份"]
    assert len(marks) == 1 and set(marks[0].get_xdata()) == {
        *range(1961, 1964), *range(1965, 1975), 1976, 1977, 1979, 1981}
    assert _render(ax) == []


def test_small_multiples_draw_every_theme_in_chinese() -> None:
    from corpus_tools.charts import theme_small_multiples

    freq = _gappy_freq()
    axes = theme_small_multiples(freq, value="section_share")
    assert sorted(ax.get_title() for ax in axes) == sorted(freq["theme"].unique())
    assert axes[0].figure._suptitle.get_text() == "各主题随年份的变化"
    assert _render(axes[0]) == []


def test_one_number_format_per_chart_and_group_labels() -> None:
    from corpus_tools.charts import group_label, number_format

    freq = _gappy_freq().rename(columns={"year": "my_grouping"})
    ax = theme_heatmap(freq, value="n_sections", annotate=True)
    texts = [t.get_text() for t in ax.texts]
    formats = {("int" if "." not in t else len(t.split(".")[1])) for t in texts}
    assert texts and len(formats) == 1  # every annotation with the same decimals
    assert ax.get_xlabel() == "my_grouping" == group_label("my_grouping")
    assert group_label("doc_type") == "文档类型"
    assert number_format([0.681, 3.05]) == "{:.1f}"


def test_default_bar_measure_does_not_saturate_on_long_documents() -> None:
    # one long document with every theme in one section of forty
    docs = pd.DataFrame({"doc_id": ["long"]})
    sections = pd.DataFrame({"doc_id": "long", "section_id": [str(i) for i in range(40)]})
    hits = pd.DataFrame({"doc_id": "long", "section_id": ["1", "2", "3", "3"],
                         "theme": ["科技创新", "生态环境", "民生保障", "教育"]})
    freq = theme_frequency(hits, docs, by="doc_id", sections=sections)
    ax = theme_frequency_bar(freq)
    widths = [p.get_width() for p in ax.patches]
    assert max(widths) == pytest.approx(1 / 40) and ax.get_xlabel() == "该主题章节占比"
