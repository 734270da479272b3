"""Tests of corpus_tools.nlp: the spaCy pipeline with the metrics component (offline)."""

from __future__ import annotations

import logging

import pytest

spacy = pytest.importorskip("spacy")

from corpus_tools.nlp import COMPONENT, SPAN_KEY, spacy_pipeline  # noqa: E402

TEXT = "今年以来，社区共发放宣传资料3000多份，走访困难家庭85户，辖区刑事警情同比下降0.8%。"


@pytest.fixture(scope="module")
def nlp():
    return spacy_pipeline()


def test_pipeline_is_blank_chinese_with_component(nlp) -> None:
    assert nlp.lang == "zh"
    assert nlp.pipe_names == [COMPONENT]
    assert nlp.tokenizer.segmenter == "jieba"


def test_spans_and_ents(nlp) -> None:
    doc = nlp(TEXT)
    spans = doc.spans[SPAN_KEY]
    assert [s._.metric.raw for s in spans] == ["3000多份", "85户", "0.8%"]
    assert [s.label_ for s in spans] == ["count", "households", "percent"]
    # jieba splits 3000 / 多份; the span covers every token the metric touches.
    for s in spans:
        assert s._.metric.raw in s.text
        assert s.start_char <= s._.metric.start and s._.metric.end <= s.end_char
    assert [e.label_ for e in doc.ents] == ["count", "households", "percent"]
    assert spans[2]._.metric.direction == "down"


def test_displacy_renders_metrics(nlp) -> None:
    from spacy import displacy

    html = displacy.render(nlp(TEXT), style="ent", jupyter=False)
    assert "3000" in html and "多份" in html and "households" in html


def test_no_metrics_and_empty_text(nlp) -> None:
    assert list(nlp("第一届“三个代表”学习会于2022年6月24日召开。").ents) == []
    doc = nlp("")
    assert len(doc.spans[SPAN_KEY]) == 0


def test_pipe_and_second_pipeline(nlp) -> None:
    docs = list(nlp.pipe(["居民2196户。", "面积35万平方米。"]))
    assert [d.ents[0]._.metric.value for d in docs] == [2196.0, 350000.0]
    other = spacy_pipeline(segmenter="char")  # registering twice must not fail
    assert [e.text for e in other("志愿者近百名。").ents] == ["近百名"]


def test_jieba_is_quiet_and_global_logging_untouched(nlp) -> None:
    import jieba

    root_level = logging.getLogger().level
    spacy_pipeline()
    assert logging.getLogger().level == root_level
    assert jieba.default_logger.level >= logging.WARNING


def _real_sized_report() -> str:
    """A report of about 20,000 characters: the metrics gold texts (written for the project)
    and paragraphs whose counters are glued to the next word (36项卡, 251座桥, 16个区)."""
    from pathlib import Path

    import yaml

    gold = yaml.safe_load((Path(__file__).parent / "gold" / "metrics" / "gold.yaml").read_text(
        "utf-8"))
    parts = [g["text"] for g in gold]
    nouns = ["卡", "桥", "区", "村", "户籍", "校", "站点", "项目", "人次", "辆车"]
    counters = ["项", "座", "个", "家", "所", "处", "名", "台", "条", "批"]
    for i in range(400):
        n = (i * 37) % 997 + 2
        parts.append(
            f"全年新增{n}{counters[i % 10]}{nouns[(i // 10) % 10]}，近{'一二三四五六七八九'[i % 9]}成"
            f"居民参与，投入资金{n / 10:.1f}万元，同比增长{i % 30 + 1}.{i % 10}%。"
        )
    return "\n".join(parts)


def test_every_entity_is_exactly_its_metric_on_a_real_sized_report(nlp) -> None:
    from corpus_tools.metrics import extract_metrics

    text = _real_sized_report()
    assert len(text) > 15000
    doc = nlp(text)
    spans = doc.spans[SPAN_KEY]
    metrics = extract_metrics(text)
    assert len(spans) == len(metrics) > 1000
    for span, m in zip(spans, metrics, strict=True):
        assert span.text == m.raw == span._.metric.raw, (span.text, m.raw)
        assert (span.start_char, span.end_char) == (m.start, m.end)
    for ent in doc.ents:
        assert ent.text == ent._.metric.raw
    assert doc.text == text  # cutting tokens never changes the text


def test_tokens_are_cut_at_metric_edges_only(nlp) -> None:
    doc = nlp("新建251座桥，覆盖16个区。")
    assert [e.text for e in doc.ents] == ["251座", "16个"]
    assert "桥" in [t.text for t in doc] and "区" in [t.text for t in doc]
