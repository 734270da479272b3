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

    Number of themes: with ``n_themes=None`` every k in ``candidates`` (default 4..15,
    capped by the number of fitted sections) is fitted and scored by topic coherence, the
    mean NPMI (normalised pointwise mutual information) of all pairs among each theme's 10
    top terms, counted as co-occurrence within sections; the k with the highest mean
    coherence wins, the smaller k on ties. The scores are kept in ``coherence_``.

    Themes never come out empty: a component that no fitted section has as its dominant
    theme is dropped, and themes are numbered by size (``theme_id`` 0 is the largest).

Named themes
    :func:`score_lexicon` counts, in each section, the occurrences of each theme's seed terms
    (substring matches, longest term first, no overlaps) from a YAML lexicon
    (``resources/themes.yaml`` by default). The coding rule: a section has a named theme
    when it contains at least ``min_hits`` (default 2) occurrences of that theme's terms.
    ``score`` is the number of hits per 1,000 characters of the section.

Frequencies
    :func:`theme_frequency` counts, per group (``year``, ``doc_type``, ``place``, ...), how
    many documents and sections have each theme, and divides by the number of documents in
    the group, so that a year with ten reports does not look ten times more thematic.
"""

from __future__ import annotations

from .frequency import FREQUENCY_COLUMNS, theme_frequency
from .lexicon import NAMED_THEME_COLUMNS, load_lexicon, score_lexicon
from .model import ThemeModel
from .run import run_themes
from .units import own_text

__all__ = [
    "FREQUENCY_COLUMNS",
    "NAMED_THEME_COLUMNS",
    "ThemeModel",
    "load_lexicon",
    "own_text",
    "run_themes",
    "score_lexicon",
    "theme_frequency",
]
