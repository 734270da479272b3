"""Charts of theme frequencies and metrics, with Chinese labels that render anywhere.

Every chart function takes ``ax=None`` (a new :class:`matplotlib.figure.Figure` is made when
none is given, without pyplot), draws, and returns the :class:`~matplotlib.axes.Axes`; none
calls ``show()``. Chinese text uses Noto Sans CJK SC from the ``mplfonts`` package, so no
system CJK font is needed. The font file is registered with matplotlib's font manager on
first use, and selected per chart inside :func:`matplotlib.rc_context` plus explicit font
properties on tick labels, legends and colour bars: the user's global ``rcParams`` are never
changed.

The frequency charts take the tidy output of :func:`corpus_tools.themes.theme_frequency`
(columns ``<group>, theme, n_sections, n_docs, docs_in_group, share``).

>>> import pandas as pd
>>> freq = pd.DataFrame({"doc_type": ["社区总结"] * 2, "theme": ["志愿服务", "环境卫生"],
...                      "n_sections": [3, 1], "n_docs": [2, 1], "docs_in_group": [2, 2],
...                      "share": [1.0, 0.5]})
>>> ax = theme_frequency_bar(freq)
>>> [t.get_text() for t in ax.get_yticklabels()]
['环境卫生', '志愿服务']
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import SchemaError

__all__ = [
    "cjk_font",
    "draw_charts",
    "metrics_by_category",
    "theme_frequency_bar",
    "theme_heatmap",
    "theme_share_over_years",
    "theme_small_multiples",
]

log = logging.getLogger(__name__)

_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_GROUP_LABELS = {
    "year": "年份",
    "decade": "年代",
    "doc_type": "文档类型",
    "place": "地区",
    "province": "省份",
    "city": "城市",
    "doc_id": "文档",
    "source": "来源",
    "scheme": "主题体系",
    "script": "字体",
    "level": "层级",
}
_SCHEME_LABELS = {
    "government_report": "政府工作报告主题体系",
    "community_summary": "基层工作总结主题体系",
}
_VALUE_LABELS = {
    "share": "含该主题的文档占比",
    "n_docs": "含该主题的文档数",
    "n_sections": "含该主题的段落（章节）数",
    "section_share": "该主题章节占比",
    "hits_per_10k": "每万字主题词命中次数",
}
#: Shares are drawn as percentages; the others as plain numbers with one format per chart.
_SHARES = ("share", "section_share")


@functools.cache
def cjk_font() -> Any:
    """FontProperties of the bundled CJK font (registered with matplotlib on first call)."""
    import mplfonts
    from matplotlib import font_manager

    path = Path(mplfonts.__file__).parent / "fonts" / _FONT_FILE
    if not path.exists():  # pragma: no cover - depends on the mplfonts wheel
        raise SchemaError(f"CJK font {path} not found: reinstall mplfonts (pip install mplfonts)")
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path))


@contextlib.contextmanager
def _cjk_context() -> Iterator[Any]:
    import matplotlib

    prop = cjk_font()
    family = prop.get_name()
    with matplotlib.rc_context(
        {
            "font.family": "sans-serif",
            "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
        }
    ):
        yield prop


def _new_ax(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def _fonts(ax: Any, prop: Any) -> None:
    """Pin the CJK font on the texts matplotlib creates lazily (tick labels, legend)."""
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(prop)
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
        text.set_fontproperties(prop)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontproperties(prop)
        legend.get_title().set_fontproperties(prop)


def _group_col(freq: pd.DataFrame) -> str:
    known = {
        "theme",
        "n_sections",
        "n_docs",
        "docs_in_group",
        "share",
        "section_share",
        "sections_in_group",
        "hits_per_10k",
    }
    cols = [c for c in freq.columns if c not in known]
    if not cols:
        raise SchemaError("frequency table has no group column: pass theme_frequency() output")
    return cols[0]


def _require(freq: Any, cols: Sequence[str]) -> None:
    if not isinstance(freq, pd.DataFrame):
        raise SchemaError(f"expected a DataFrame, got {type(freq).__name__}")
    missing = [c for c in cols if c not in freq.columns]
    if missing:
        raise SchemaError(f"table lacks column(s) {missing}; it has {list(freq.columns)}")


def _overall(freq: pd.DataFrame, value: str) -> pd.Series:
    """One value per theme over all groups (shares pooled: Σ n_docs / Σ docs_in_group)."""
    g = freq.groupby("theme", sort=False)
    if value == "share":
        return g["n_docs"].sum() / g["docs_in_group"].sum().replace(0, np.nan)
    if value == "section_share" and "sections_in_group" in freq.columns:
        return g["n_sections"].sum() / g["sections_in_group"].sum().replace(0, np.nan)
    return g[value].sum()


def number_format(values: Any, *, share: bool = False) -> str:
    """One format for every number of a chart, from the largest value drawn.

    >>> number_format([0.681, 3.05]), number_format([12.5, 3.0]), number_format([0.5], share=True)
    ('{:.1f}', '{:.0f}', '{:.0%}')
    """
    if share:
        return "{:.0%}"
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    peak = float(np.abs(arr).max()) if arr.size else 0.0
    return "{:.0f}" if peak >= 10 else "{:.1f}" if peak >= 1 else "{:.2f}"


def _pick(table_themes: Sequence[Any], themes: Sequence[str] | None) -> list[Any]:
    """The themes asked for, in the order asked, that the table has (all when None)."""
    if themes is None:
        return list(table_themes)
    have = set(table_themes)
    missing = [t for t in themes if t not in have]
    if missing:
        log.warning("charts: theme(s) %s not in the table; drawn without them", missing)
    return [t for t in themes if t in have]


def group_label(column: Any) -> str:
    """The axis label of a group column: Chinese where known, else the name as given.

    >>> group_label("year"), group_label("my_grouping")
    ('年份', 'my_grouping')
    """
    return _GROUP_LABELS.get(str(column), str(column))


def _short(label: Any, width: int = 18) -> str:
    text = str(label)
    return text if len(text) <= width else text[: width - 1] + "…"


def theme_frequency_bar(
    freq: pd.DataFrame,
    ax: Any = None,
    *,
    value: str | None = None,
    top: int | None = 20,
    title: str | None = None,
    color: str = "#3b6ea5",
    themes: Sequence[str] | None = None,
) -> Any:
    """Horizontal bars, one per theme, largest on top.

    *value* is ``section_share`` (sections with the theme / sections, pooled over groups:
    the default when the table has it, as it does not saturate on long documents),
    ``share`` (documents with the theme / documents), ``n_docs`` or ``n_sections``;
    *themes* chooses the themes drawn.
    """
    _require(freq, ("theme", "n_docs", "docs_in_group", "n_sections"))
    if value is None:
        value = "section_share" if "sections_in_group" in freq.columns else "share"
    if themes is not None:
        freq = freq[freq["theme"].isin(_pick(freq["theme"].unique(), themes))]
    values = _overall(freq, value).fillna(0).sort_values(ascending=True, kind="stable")
    if top:
        values = values.iloc[-top:]
    with _cjk_context() as prop:
        ax = _hbars(ax, values, [_short(t) for t in values.index], color)
        ax.set_xlabel(_VALUE_LABELS.get(value, value))
        if value in _SHARES:
            peak = float(values.max()) if len(values) else 1.0
            ax.set_xlim(0, min(1.0, max(0.05, peak * 1.1)))
            ax.xaxis.set_major_formatter(_percent())
        ax.set_title(title or "主题出现频率", fontproperties=prop)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        _fonts(ax, prop)
    return ax


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def theme_heatmap(
    freq: pd.DataFrame,
    ax: Any = None,
    *,
    by: str | None = None,
    value: str = "share",
    title: str | None = None,
    cmap: str = "Blues",
    annotate: bool | None = None,
    themes: Sequence[str] | None = None,
) -> Any:
    """Theme-by-group heat map of *value* (``share`` by default), with a colour bar;
    *themes* chooses the rows. Every annotation has the same number format."""
    _require(freq, ("theme", value))
    by = by or _group_col(freq)
    if themes is not None:
        freq = freq[freq["theme"].isin(_pick(freq["theme"].unique(), themes))]
    table = freq.pivot_table(
        index="theme", columns=by, values=value, aggfunc="sum", sort=False, fill_value=0
    )
    order = table.mean(axis=1).sort_values(ascending=False, kind="stable").index
    table = table.loc[order]
    data = table.to_numpy(dtype=float)
    n_rows, n_cols = data.shape
    if annotate is None:
        annotate = n_rows * n_cols <= 300
    with _cjk_context() as prop:
        ax = _new_ax(
            ax, (min(16.0, max(5.0, 0.32 * n_cols + 3.5)), min(14.0, max(3.0, 0.36 * n_rows + 1.5)))
        )
        if data.size == 0:
            ax.text(0.5, 0.5, "（无数据）", ha="center", va="center", fontproperties=prop)
            ax.set_axis_off()
            ax.set_title(title or "主题分布", fontproperties=prop)
            return ax
        is_share = value in ("share", "section_share")
        peak = float(data.max()) if data.size else 0.0
        if not is_share and (data > 0).sum() >= 20:
            # counts and densities: one outlier year must not wash out the rest of the map
            peak = float(np.percentile(data[data > 0], 98))
        vmax = 1.0 if value == "share" else (min(1.0, peak) if is_share else peak) or 1.0
        image = ax.imshow(
            data, aspect="auto", cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest"
        )
        ax.set_yticks(np.arange(n_rows), [_short(t) for t in table.index])
        ax.set_xticks(
            np.arange(n_cols),
            [_short(c, 12) for c in table.columns],
            rotation=90 if n_cols > 12 else 45 if n_cols > 5 else 0,
            ha="center" if n_cols > 12 or n_cols <= 5 else "right",
        )
        ax.set_xlabel(group_label(by))
        if annotate:
            fmt = number_format(data, share=is_share)
            for i in range(n_rows):
                for j in range(n_cols):
                    v = data[i, j]
                    text = fmt.format(v)
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > 0.6 * vmax else "#222222",
                        fontproperties=prop,
                    )
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.8)
        bar.set_label(_VALUE_LABELS.get(value, value), fontproperties=prop)
        for label in bar.ax.get_yticklabels():
            label.set_fontproperties(prop)
        ax.set_title(title or f"各{group_label(by)}的主题分布", fontproperties=prop)
        _fonts(ax, prop)
    return ax


def _year_table(freq: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    data = freq[freq[by].notna()]
    data = data[pd.to_numeric(data[by], errors="coerce").notna()]
    table = data.pivot_table(
        index=by, columns="theme", values=value, aggfunc="sum", sort=True, fill_value=0
    )
    table.index = pd.to_numeric(table.index)
    return table.sort_index()


def missing_years(years: Sequence[Any]) -> list[tuple[int, int]]:
    """Runs ``(first, last)`` of the whole years between min and max with no document.

    >>> missing_years([1960, 1964, 1965, 1975])
    [(1961, 1963), (1966, 1974)]
    """
    have = sorted({int(y) for y in years})
    runs = []
    for a, b in zip(have, have[1:], strict=False):
        if b - a > 1:
            runs.append((a + 1, b - 1))
    return runs


def _with_gaps(table: pd.DataFrame, max_gap: int) -> pd.DataFrame:
    """Rows of NaN inserted where more than *max_gap* years have no document, so lines
    break there instead of drawing a straight line across the missing years."""
    gaps = [(a, b) for a, b in missing_years(table.index) if b - a + 1 > max_gap]
    if not gaps:
        return table
    blank = pd.DataFrame(np.nan, index=[a for a, _ in gaps], columns=table.columns)
    return pd.concat([table, blank]).sort_index()


def _mark_missing(ax: Any, years: Sequence[Any], max_gap: int) -> bool:
    """Years with no document: a grey tick on the x axis each; runs longer than *max_gap*
    (where the lines break) shaded too."""
    runs = missing_years(years)
    if not runs:
        return False
    for a, b in runs:
        if b - a + 1 > max_gap:
            ax.axvspan(a - 0.5, b + 0.5, color="#e3e3e3", alpha=0.7, lw=0)
    missing = [y for a, b in runs for y in range(a, b + 1)]
    ax.plot(missing, [0.0] * len(missing), linestyle="none", marker="|", markersize=6,
            color="#9a9a9a", transform=ax.get_xaxis_transform(), clip_on=False,
            label="无文档的年份")
    return True


def _value_axis(ax: Any, value: str, data: Any, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    if value in _SHARES:
        target.set_major_formatter(_percent())
        return
    from matplotlib.ticker import StrMethodFormatter

    fmt = number_format(data).replace("{:", "{x:")
    target.set_major_formatter(StrMethodFormatter(fmt))


def theme_share_over_years(
    freq: pd.DataFrame,
    ax: Any = None,
    *,
    by: str = "year",
    value: str = "share",
    themes: Sequence[str] | None = None,
    top: int = 6,
    title: str | None = None,
    max_gap: int = 2,
) -> Any:
    """One line per theme: *value* per year. Default themes: the *top* by mean value.

    Years with no document are ticked in grey on the x axis; where more than *max_gap*
    consecutive years have none, the lines break and the gap is shaded (no straight line
    across 1965–1974).
    """
    _require(freq, ("theme", by, value))
    table = _year_table(freq, by, value)
    if themes is None:
        themes = list(table.mean().sort_values(ascending=False, kind="stable").index[:top])
    themes = _pick(table.columns, themes)
    drawn = _with_gaps(table, max_gap)
    with _cjk_context() as prop:
        ax = _new_ax(ax, (9.0, 4.8))
        _mark_missing(ax, table.index, max_gap)
        for theme in themes:
            ax.plot(
                drawn.index,
                drawn[theme].to_numpy(dtype=float),
                marker="o",
                markersize=3,
                linewidth=1.4,
                label=_short(theme),
            )
        ax.set_xlabel(group_label(by))
        ax.set_ylabel(_VALUE_LABELS.get(value, value))
        if value in _SHARES:
            ax.set_ylim(0, 1.05)
        ax.set_ylim(bottom=0)
        _value_axis(ax, value, table[themes].to_numpy() if themes else [])
        if len(table.index):
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))
        ax.grid(alpha=0.3)
        if themes:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, prop=prop)
        ax.set_title(title or "主题随年份的变化", fontproperties=prop)
        _fonts(ax, prop)
    return ax


def theme_small_multiples(
    freq: pd.DataFrame,
    *,
    by: str = "year",
    value: str = "share",
    themes: Sequence[str] | None = None,
    ncols: int = 4,
    title: str | None = None,
    max_gap: int = 2,
    sharey: bool = False,
) -> Any:
    """One small panel per theme (all themes by default, largest mean first): *value* per
    year, each panel on its own scale (*sharey* for one scale), with the gaps and marks of
    :func:`theme_share_over_years`. Returns the panels' Axes (a list)."""
    _require(freq, ("theme", by, value))
    from matplotlib.figure import Figure

    table = _year_table(freq, by, value)
    if themes is None:
        themes = list(table.mean().sort_values(ascending=False, kind="stable").index)
    themes = _pick(table.columns, themes)
    drawn = _with_gaps(table, max_gap)
    n = max(1, len(themes))
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    with _cjk_context() as prop:
        fig = Figure(figsize=(3.0 * ncols + 0.6, 2.1 * nrows + 0.9), layout="constrained")
        grid = fig.subplots(nrows, ncols, sharex=True, sharey=sharey, squeeze=False)
        axes = list(grid.ravel())
        peak = float(np.nanmax(table[themes].to_numpy(dtype=float))) if themes else 1.0
        for ax, theme in zip(axes, themes, strict=False):
            _mark_missing(ax, table.index, max_gap)
            ax.plot(drawn.index, drawn[theme].to_numpy(dtype=float), color="#3b6ea5",
                    marker="o", markersize=2, linewidth=1.2)
            ax.set_title(_short(theme, 14), fontproperties=prop, fontsize=10)
            ax.grid(alpha=0.3)
            top = peak if sharey else float(np.nanmax(table[theme].to_numpy(dtype=float)))
            ax.set_ylim(0, (min(1.0, top * 1.1) if value in _SHARES else top * 1.1) or 1.0)
            _value_axis(ax, value, table[themes].to_numpy() if sharey else table[theme])
            _fonts(ax, prop)
        for ax in axes[len(themes):]:
            ax.set_axis_off()
        if not themes:
            axes[0].text(0.5, 0.5, "（无数据）", ha="center", va="center", fontproperties=prop)
        fig.supxlabel(group_label(by), fontproperties=prop)
        fig.supylabel(_VALUE_LABELS.get(value, value), fontproperties=prop)
        fig.suptitle(title or "各主题随年份的变化", fontproperties=prop)
    return axes[: max(1, len(themes))]


def _hbars(ax: Any, values: pd.Series, labels: list[str], color: str) -> Any:
    """Horizontal bars of *values*, one per row, on *ax* (or a new Axes sized to them)."""
    ax = _new_ax(ax, (7.5, max(2.5, 0.38 * len(values) + 1.2)))
    pos = np.arange(len(values))
    ax.barh(pos, values.to_numpy(dtype=float), color=color)
    ax.set_yticks(pos, labels)
    return ax


@functools.cache
def category_labels() -> dict[str, str]:
    """Chinese display names of the metric categories (``resources/categories.tsv``).

    >>> category_labels()["person_times"]
    '人次'
    """
    from .rules import load_tsv

    return {row["category"]: row["label"] for row in load_tsv("categories.tsv",
                                                              required=("category", "label"))}


def metrics_by_category(
    metrics_df: pd.DataFrame,
    ax: Any = None,
    *,
    top: int | None = 15,
    title: str | None = None,
    color: str = "#c0504d",
) -> Any:
    """Horizontal bars: number of metrics per ``category`` (and documents reporting it)."""
    _require(metrics_df, ("category",))
    cat = metrics_df["category"].fillna("").astype(str).replace("", "(未分类)")
    counts = cat.value_counts().sort_values(ascending=True, kind="stable")
    if top:
        counts = counts.iloc[-top:]
    with _cjk_context() as prop:
        names = category_labels()
        ax = _hbars(ax, counts, [_short(names.get(c, c)) for c in counts.index], color)
        if "doc_id" in metrics_df.columns:
            docs = metrics_df.assign(_c=cat).groupby("_c")["doc_id"].nunique()
            for y, name in enumerate(counts.index):
                ax.text(
                    counts[name],
                    y,
                    f" {int(docs.get(name, 0))} 篇",
                    va="center",
                    fontsize=8,
                    fontproperties=prop,
                )
            if len(counts):  # room on the right for the "N 篇" note of the longest bar
                ax.set_xlim(0, float(counts.max()) * 1.12)
        ax.set_xlabel("指标数（条）")
        ax.set_title(title or "各类指标数量", fontproperties=prop)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        _fonts(ax, prop)
    return ax


# -- writing the charts of a run -------------------------------------------------------------


def _read(out: Path, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
    import pyarrow.dataset as ds

    for path in (out / f"{name}.parquet", out / name):
        if path.exists():
            names = set(ds.dataset(path, format="parquet").schema.names)
            return pd.read_parquet(path, columns=[c for c in columns if c in names])
    return None


def _save(ax: Any, directory: Path, stem: str) -> list[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    FigureCanvasAgg(fig)
    written = []
    for ext in ("png", "svg"):
        path = directory / f"{stem}.{ext}"
        tmp = directory / f".{stem}.{ext}.tmp-{os.getpid()}"
        try:
            fig.savefig(tmp, format=ext, dpi=150)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        written.append(path)
    fig.clf()
    return written


def _scheme_documents(named: pd.DataFrame, documents: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Documents per named-theme scheme: those coded with it, and the uncoded ones whose
    doc_type maps to it; the scheme with most documents first."""
    from .themes.lexicon import scheme_for

    if "scheme" not in named.columns or named["scheme"].isna().all():
        return {"": documents}
    coded = named.groupby("scheme")["doc_id"].agg(lambda d: set(d)).to_dict()
    seen = set().union(*coded.values()) if coded else set()
    rest = documents[~documents["doc_id"].isin(seen)]
    default = rest["doc_type"].map(scheme_for) if "doc_type" in rest else pd.Series(
        "community_summary", index=rest.index)
    out = {
        name: documents[documents["doc_id"].isin(ids)
                        | documents["doc_id"].isin(set(rest.loc[default == name, "doc_id"]))]
        for name, ids in coded.items()
    }
    return dict(sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def draw_charts(out_dir: str | Path) -> list[Path]:
    """Draw the charts of the tables in *out_dir* into ``out_dir/charts/`` (PNG and SVG).

    Charts (each only when its tables are there), for the named-theme scheme with the most
    documents (the file names below) and for each other scheme (``…_<scheme>``): named-theme
    frequency (share of sections), named theme by document type, by year (heat map of hits
    per 10,000 characters) and over the years (small multiples of every theme, or lines for
    six themes or fewer; years with no document shaded, long gaps left as gaps); then the
    discovered-theme frequency and the metrics by category. Returns the paths written.
    """
    from .themes import theme_frequency

    out = Path(out_dir)
    charts = out / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    documents = _read(out, "documents", ("doc_id", "year", "doc_type", "duplicate_of", "n_chars"))
    named = _read(out, "named_themes", ("doc_id", "section_id", "theme", "hits", "scheme"))
    assigned = _read(out, "section_themes", ("doc_id", "section_id", "theme_id"))
    themes = _read(out, "themes", ("theme_id", "label"))
    metrics = _read(out, "metrics", ("doc_id", "category"))
    sections = _read(out, "sections", ("doc_id", "section_id"))
    written: list[Path] = []
    if documents is None:
        raise SchemaError(f"{out}/documents.parquet not found: run `corpus-tools run` first")
    if named is not None and len(named):
        for i, (scheme, docs) in enumerate(_scheme_documents(named, documents).items()):
            rows = named[named["scheme"] == scheme] if scheme else named
            written += _named_charts(rows, docs, sections, charts, scheme, "" if i == 0 else
                                     f"_{scheme}")
    if assigned is not None and len(assigned) and themes is not None and len(themes):
        freq = theme_frequency(assigned, documents, by="doc_id", labels=themes,
                               sections=sections)
        written += _save(
            theme_frequency_bar(freq, title="发现主题出现频率（章节占比）"),
            charts,
            "theme_frequency",
        )
    if metrics is not None and len(metrics):
        written += _save(metrics_by_category(metrics), charts, "metrics_by_category")
    log.info("charts: wrote %d files to %s", len(written), charts)
    return written


def _named_charts(named: pd.DataFrame, documents: pd.DataFrame, sections: pd.DataFrame | None,
                  charts: Path, scheme: str, suffix: str) -> list[Path]:
    from .themes import theme_frequency

    written: list[Path] = []
    label = _SCHEME_LABELS.get(scheme, scheme)
    tag = f"{label}，" if label else ""
    n_docs = documents["doc_id"].nunique()
    freq = theme_frequency(named, documents, by="doc_id", sections=sections)
    written += _save(
        theme_frequency_bar(freq, title=f"命名主题出现频率（{tag}{n_docs} 篇文档）"),
        charts,
        f"named_theme_frequency{suffix}",
    )
    if "doc_type" in documents and documents["doc_type"].nunique() > 1:
        by_type = theme_frequency(named, documents, by="doc_type")
        written += _save(
            theme_heatmap(by_type, title=f"各文档类型的命名主题（{tag}文档占比）"),
            charts,
            f"named_theme_by_doc_type{suffix}",
        )
    years = documents["year"].dropna() if "year" in documents else pd.Series([])
    if years.nunique() > 1:
        by_year = theme_frequency(named, documents, by="year", sections=sections)
        value = "hits_per_10k" if "hits_per_10k" in by_year else "section_share"
        written += _save(
            theme_heatmap(by_year, value=value,
                          title=f"各年份的命名主题（{tag}{_VALUE_LABELS[value]}）"),
            charts,
            f"named_theme_by_year{suffix}",
        )
        title = f"命名主题随年份的变化（{tag}{_VALUE_LABELS[value]}）"
        if by_year["theme"].nunique() > 6:
            ax = theme_small_multiples(by_year, value=value, title=title)[0]
        else:
            ax = theme_share_over_years(by_year, value=value, title=title)
        written += _save(ax, charts, f"named_theme_over_years{suffix}")
    return written
