"""spaCy integration: a blank Chinese pipeline that marks metrics for displaCy and notebooks.

:func:`spacy_pipeline` returns ``spacy.blank("zh")`` with the jieba segmenter and the
``corpus_metrics`` component, which runs :func:`corpus_tools.metrics.extract_metrics` on
``doc.text`` and puts every metric on ``doc.spans["metrics"]`` and on ``doc.ents`` (label =
category, e.g. ``households``), with the :class:`~corpus_tools.schema.Metric` record on
``span._.metric``. No model is downloaded: it works offline.

jieba tokens do not follow metric boundaries (``3000多份`` is segmented ``3000 / 多份``), so
spans are made with ``alignment_mode="expand"``: a span covers every token the metric
touches, and ``span._.metric.raw`` keeps the exact text.

spaCy is imported only when a pipeline is built, so ``import corpus_tools`` stays light.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .metrics import extract_metrics

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["COMPONENT", "SPAN_KEY", "spacy_pipeline"]

#: Name of the registered spaCy component.
COMPONENT = "corpus_metrics"
#: Key of the span group holding every metric.
SPAN_KEY = "metrics"


def _set_metrics(doc: Doc) -> Doc:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    spans: list[Span] = []
    for m in extract_metrics(doc.text):
        span = doc.char_span(m.start, m.end, label=m.category, alignment_mode="expand")
        if span is None:  # pragma: no cover - expand always finds tokens for non-empty text
            continue
        span._.metric = m
        spans.append(span)
    doc.spans[SPAN_KEY] = spans
    doc.ents = filter_spans(spans)
    return doc


def _register() -> None:
    from spacy.language import Language
    from spacy.tokens import Span

    if not Span.has_extension("metric"):
        Span.set_extension("metric", default=None)
    if not Language.has_factory(COMPONENT):
        Language.component(COMPONENT, func=_set_metrics)


def spacy_pipeline(*, segmenter: str = "jieba", **config: Any) -> Language:
    """A blank Chinese spaCy pipeline that marks metrics on ``doc.spans`` and ``doc.ents``.

    *segmenter* is spaCy's Chinese segmenter (``"jieba"``, the default, or ``"char"``);
    extra keyword arguments are passed to the ``nlp`` section of the spaCy config.
    jieba's start-up messages are silenced through jieba's own logger only.

    >>> nlp = spacy_pipeline()
    >>> doc = nlp("社区共走访困难群众600多户，发放慰问金12万元。")
    >>> [(e.text, e.label_) for e in doc.ents]
    [('600多户', 'households'), ('12万元', 'money')]
    >>> doc.spans["metrics"][1]._.metric.value
    120000.0
    """
    import spacy

    if segmenter == "jieba":
        import jieba

        jieba.setLogLevel(logging.WARNING)
    _register()
    nlp_config = {"tokenizer": {"segmenter": segmenter}, **config}
    nlp = spacy.blank("zh", config={"nlp": nlp_config})
    nlp.add_pipe(COMPONENT)
    return nlp
