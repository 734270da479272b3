"""spaCy integration: a blank Chinese pipeline that marks metrics for displaCy and notebooks.

:func:`spacy_pipeline` returns ``spacy.blank("zh")`` with the jieba segmenter and the
``corpus_metrics`` component, which runs :func:`corpus_tools.metrics.extract_metrics` on
``doc.text`` and puts every metric on ``doc.spans["metrics"]`` and on ``doc.ents`` (label =
category, e.g. ``households``), with the :class:`~corpus_tools.schema.Metric` record on
``span._.metric``. No model is downloaded: it works offline.

jieba tokens do not follow metric boundaries (``3000多份`` is segmented ``3000 / 多份``,
``36项卡`` ``36 / 项卡``), so the pipeline's tokenizer splits tokens at metric edges: after
jieba has cut the text, every token that a metric starts or ends inside is cut there too.
Every span is then exactly the metric's characters: ``span.text == span._.metric.raw``.

spaCy is imported only when a pipeline is built, so ``import corpus_tools`` stays light.
"""

from __future__ import annotations

import bisect
import logging
from typing import TYPE_CHECKING, Any

from .metrics import extract_metrics

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = ["COMPONENT", "SPAN_KEY", "MetricTokenizer", "spacy_pipeline"]

#: Name of the registered spaCy component.
COMPONENT = "corpus_metrics"
#: Key of the span group holding every metric.
SPAN_KEY = "metrics"


_USER_KEY = "corpus_tools_metrics"


class MetricTokenizer:
    """A tokenizer that cuts the tokens of *base* at the edges of every metric."""

    def __init__(self, base: Any) -> None:
        self.base = base

    def __call__(self, text: str) -> Doc:
        from spacy.tokens import Doc

        doc = self.base(text)
        metrics = extract_metrics(text)
        edges = {t.idx for t in doc} | {t.idx + len(t.text) for t in doc}
        inside = sorted({m.start for m in metrics} | {m.end for m in metrics} - edges)
        if inside:
            words: list[str] = []
            spaces: list[bool] = []
            for t in doc:
                start, end = t.idx, t.idx + len(t.text)
                lo, hi = bisect.bisect_right(inside, start), bisect.bisect_left(inside, end)
                bounds = [start, *inside[lo:hi], end]
                for a, b in zip(bounds, bounds[1:], strict=False):
                    words.append(text[a:b])
                    spaces.append(False)
                spaces[-1] = bool(t.whitespace_)
            doc = Doc(doc.vocab, words=words, spaces=spaces)
        doc.user_data[_USER_KEY] = metrics
        return doc

    def __getattr__(self, name: str) -> Any:  # segmenter, pkuseg_model … of the base
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def pipe(self, texts: Any, batch_size: int = 1000) -> Any:
        for text in texts:
            yield self(text)


def _set_metrics(doc: Doc) -> Doc:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    spans: list[Span] = []
    metrics = doc.user_data.pop(_USER_KEY, None)
    for m in extract_metrics(doc.text) if metrics is None else metrics:
        span = doc.char_span(m.start, m.end, label=m.category, alignment_mode="strict")
        if span is None:  # a tokenizer other than ours: cover every token it touches
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
    nlp.tokenizer = MetricTokenizer(nlp.tokenizer)
    nlp.add_pipe(COMPONENT)
    return nlp
