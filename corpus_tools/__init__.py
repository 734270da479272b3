"""corpus_tools: clean, segment and measure Chinese work summaries scraped from the web.

Each stage is a small pure function on text; the pipeline streams pages through them and
builds tables at the edge::

    >>> from corpus_tools import normalize_text, split_sections, extract_metrics
    >>> text = normalize_text("壹是統壹部署，走訪居民600多戶")
    >>> text
    '一是统一部署，走访居民600多户'
    >>> [(m.raw, m.value, m.unit, m.qualifier) for m in extract_metrics(text)]
    [('600多户', 600.0, '户', 'approx')]

Heavy dependencies (spaCy, jieba, scikit-learn, matplotlib) load only when the stage that
needs them runs.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .articles import split_articles
from .boilerplate import strip_boilerplate
from .config import RunConfig, load_config
from .dedup import find_duplicates, minhash_signature, remove_repeated_blocks
from .errors import (
    ConfigError,
    CorpusToolsError,
    EmptyInputError,
    IncompleteRunError,
    InputError,
    ResourceError,
    SchemaError,
)
from .indicators import indicator_panel, panel_wide, write_panel
from .io import decode_bytes, read_page
from .metadata import extract_metadata
from .metrics import extract_metrics
from .nlp import spacy_pipeline
from .normalize import count_placeholders, detect_script, normalize_text
from .pipeline import run
from .schema import Article, Metric, Page, RemovedLine, Section, Stripped
from .sections import SectionIndex, section_at, split_sections
from .store import read_table, section_text
from .themes import ThemeModel, run_themes, score_lexicon, theme_frequency
from .tokens import tokenize

__all__ = [
    "Article",
    "ConfigError",
    "CorpusToolsError",
    "EmptyInputError",
    "IncompleteRunError",
    "InputError",
    "Metric",
    "Page",
    "RemovedLine",
    "ResourceError",
    "RunConfig",
    "SchemaError",
    "Section",
    "SectionIndex",
    "Stripped",
    "ThemeModel",
    "__version__",
    "count_placeholders",
    "decode_bytes",
    "detect_script",
    "extract_metadata",
    "extract_metrics",
    "find_duplicates",
    "indicator_panel",
    "load_config",
    "minhash_signature",
    "normalize_text",
    "panel_wide",
    "read_page",
    "read_table",
    "section_text",
    "remove_repeated_blocks",
    "run",
    "run_themes",
    "score_lexicon",
    "section_at",
    "spacy_pipeline",
    "split_articles",
    "split_sections",
    "strip_boilerplate",
    "theme_frequency",
    "tokenize",
    "write_panel",
]
