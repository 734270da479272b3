"""corpus_tools: clean, segment and measure Chinese work summaries scraped from the web.

Each stage is a small pure function on text; the pipeline streams pages through them and
builds tables at the edge::

    >>> from corpus_tools.normalize import normalize_text
    >>> normalize_text("壹是統壹部署")
    '一是统一部署'
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ConfigError, CorpusToolsError, InputError, ResourceError, SchemaError

from .schema import Article, Metric, Page, RemovedLine, Section, Stripped

__all__ = [
    "__version__",
    "Article",
    "ConfigError",
    "CorpusToolsError",
    "InputError",
    "Metric",
    "Page",
    "RemovedLine",
    "ResourceError",
    "SchemaError",
    "Section",
    "Stripped",
]
