"""Recurring themes of a corpus: discovered (NMF or k-means) and named (a lexicon).

Discovered themes
    :class:`ThemeModel` follows scikit-learn: ``__init__`` stores arguments, ``fit`` returns
    ``self``, learned attributes end in ``_``. Sections are weighted with TF-IDF over
    :func:`corpus_tools.tokens.tokenize` and factorised with NMF (``init="nndsvda"``) or
    clustered with k-means (fixed ``n_init``). Results depend only on the rows given (they
    are sorted by ``doc_id, section_id`` first) and on ``random_state``: two fits give
    identical tables.

    Sections of the pipeline are nested (a parent's text spans its children): each row is
    fitted, assigned and scored on its *own* text, up to its first child (:func:`own_text`).

    Which rows are fitted: rows of duplicate documents are left out of fitting (they are
    still transformed and assigned). A document is a duplicate when ``documents_df`` (passed
    to :meth:`ThemeModel.fit`) has a non-null ``duplicate_of`` for it, or when the sections
    frame itself has a non-null ``duplicate_of`` column value or a true ``exclude`` column
    value on the row. Sections shorter than ``min_chars`` characters (headings, preambles)
    and sections without any content token are left out of fitting too.

    Bounded memory: the model is fitted on a seeded sample of at most ``sample_size``
    sections (a priority reservoir, :class:`~corpus_tools.themes.fit.Reservoir`: the same
    sample whatever the order or batching of the rows), and every section is assigned in
    batches afterwards. Each sampled section is tokenized once.

    Number of themes: with ``n_themes=None`` every k in ``candidates`` (default 4..15) is
    scored by its *stability* (Greene, O'Callaghan & Cunningham 2014): ``n_resamples``
    (default 4) random 80 % subsets of the fitted pieces (of at most ``select_rows``) are
    each factorized at every k, and the themes of every two subsets are matched one-to-one
    (Hungarian algorithm) on the Jaccard overlap of their 10 most relevant terms. The
    chosen k is the most stable (``tolerance`` allows a larger k within that relative
    slack); when it is at an edge of the candidates a warning says to widen them. The
    curve is ``selection_`` (``k, stability, coherence, diversity, quality, chosen``;
    coherence is mean NPMI, diversity the unique share of top-25 terms) and
    ``theme_selection.parquet``. Each theme's own stability (its matched overlap with the
    subsets' themes at the chosen k) is the ``stability`` column of ``themes.parquet``;
    themes below 0.5 are logged as unstable.

    Vocabulary (:mod:`corpus_tools.themes.vocab`): person names, report header/closing
    formulas and portal words never become theme terms (a shipped list, the document's
    formula lines, and names next to official titles); labels are 2–4 of a theme's most
    distinctive terms, nouns first, verbs and evaluatives last.

    Fitting units: sections longer than ``max_chars`` (default 800) are cut at line breaks
    into pieces of about that size, so that one long unnumbered report gives paragraph-sized
    samples (农业, 就业, 教育, …) instead of a few blurred ones. ``balance`` (default 0)
    weights each piece's squared error by ``n ** -balance`` for a document cut into n
    pieces: 1.0 gives every document the same total weight (short community summaries then
    get their own themes next to long national reports), 0 weighs every piece alike.

    Themes never come out empty: a component that no fitted section has as its dominant
    theme is dropped, and themes are numbered by size (``theme_id`` 0 is the largest).

Named themes
    :func:`score_lexicon` counts, in each section, the occurrences of each theme's seed terms
    (substring matches, longest term first, no overlaps) from a YAML lexicon. Two schemes
    are shipped, each theme with a citation-ready description: ``community_summary``
    (``resources/themes.yaml``) and ``government_report`` (``resources/themes_gov.yaml``);
    :func:`score_schemes` codes each document with the scheme of its doc_type
    (``resources/theme_schemes.tsv``), or one scheme or lexicon for all. The coding rule: a
    section has a named theme when it contains at least ``min_hits`` (default 2)
    occurrences of that theme's terms. ``score`` is hits per 1,000 characters; ``scheme``
    says which scheme coded the row.

Frequencies
    :func:`theme_frequency` counts, per group (``year``, ``doc_type``, ``place``, ...), how
    many documents and sections have each theme, and divides by the number of documents in
    the group, so that a year with ten reports does not look ten times more thematic.
"""

from __future__ import annotations

from .frequency import FREQUENCY_COLUMNS, theme_frequency
from .fit import Reservoir
from .lexicon import (
    NAMED_THEME_COLUMNS,
    SCHEMES,
    load_lexicon,
    scheme_for,
    score_lexicon,
    score_schemes,
    theme_descriptions,
)
from .model import SELECTION_COLUMNS, ThemeModel, assign_batch, fitting_units
from .run import iter_section_batches, run_themes
from .units import own_text

__all__ = [
    "FREQUENCY_COLUMNS",
    "NAMED_THEME_COLUMNS",
    "SCHEMES",
    "SELECTION_COLUMNS",
    "Reservoir",
    "ThemeModel",
    "assign_batch",
    "fitting_units",
    "iter_section_batches",
    "load_lexicon",
    "own_text",
    "run_themes",
    "scheme_for",
    "score_lexicon",
    "score_schemes",
    "theme_descriptions",
    "theme_frequency",
]
