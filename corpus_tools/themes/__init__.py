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
    capped by the number of fitted sections) is fitted and scored by its topic quality
    (Dieng et al. 2020): coherence * diversity, coherence being the mean NPMI (normalised
    pointwise mutual information) of all pairs among each theme's 10 top terms, counted as
    co-occurrence within the fitted text pieces, and diversity the share of unique terms
    among all themes' 25 top terms. The chosen k is the largest whose quality is at least
    ``1 - tolerance`` (default 0.75) of the best: coherence alone peaks at a few
    source-sized themes on a heterogeneous corpus (one per source, one for the reports'
    closing formula), and the finer recurring themes cost little of it. The scores are kept
    in ``coherence_``, ``diversity_`` and ``quality_``; ``tolerance=0`` picks the best k.

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
from .model import ThemeModel, assign_batch, fitting_units
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
