"""Tests for reading pages: encodings, formats, and the errors of unreadable files."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from corpus_tools.errors import InputError
from corpus_tools.io import decode_bytes, html_to_text, read_page

SIMPLIFIED = "社区工作总结\n一、基本情况\n全年开展志愿服务46场，服务群众5000余人次，同比增长12%。\n"
TRADITIONAL = (
    "社區工作總結\n一、基本情況\n全年開展誌願服務46場，服務群眾5000餘人次，同比增長12%。\n"
)


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "utf-16", "utf-16"),
        (SIMPLIFIED, "utf-16-le", None),  # no BOM: not supported, see below
        (SIMPLIFIED, "gb18030", "gb18030"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb2312", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "utf-8", "utf-8"),
        (TRADITIONAL, "gb18030", "gb18030"),
    ],
)
def test_detects_encoding(tmp_path: Path, text: str, codec: str, expected: str | None) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(text.encode(codec))
    if expected is None:
        with pytest.raises(InputError, match=r"binary.*UTF-16 without a byte-order mark"):
            read_page(path)
        return
    pages, issues = read_page(path)
    assert issues == []
    assert [p.text for p in pages] == [text]
    assert pages[0].encoding == expected
    assert pages[0].record is None


def test_utf16_big_endian_bom(tmp_path: Path) -> None:
    path = tmp_path / "be.txt"
    path.write_bytes(b"\xfe\xff" + SIMPLIFIED.encode("utf-16-be"))
    pages, _ = read_page(path)
    assert pages[0].text == SIMPLIFIED and pages[0].encoding == "utf-16"


def test_big5_extension_cp950(tmp_path: Path) -> None:
    text = "社區活動中心，裏面有碁盤與銹跡。" * 3
    path = tmp_path / "cp950.txt"
    path.write_bytes(text.encode("cp950"))
    pages, _ = read_page(path)
    assert pages[0].text == text


def test_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(SIMPLIFIED.encode("gb18030"))
    pages, _ = read_page(path, encoding="gbk")
    assert pages[0].text == SIMPLIFIED and pages[0].encoding == "gb18030"
    with pytest.raises(InputError, match="not decodable as utf-8"):
        read_page(path, encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding"):
        read_page(path, encoding="no-such-codec")


def test_decode_bytes_rejects_str() -> None:
    with pytest.raises(InputError):
        decode_bytes("社区")  # type: ignore[arg-type]


def test_decode_bytes_strips_bom() -> None:
    assert decode_bytes("\ufeff社区".encode()) == ("社区", "utf-8-sig")


# ---------------------------------------------------------------- errors


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty file \(0 bytes\)"):
        read_page(path)


@pytest.mark.parametrize("data", [b"  \r\n\t\n", "\u3000\n".encode(), "\ufeff \n".encode("utf-16")])
def test_whitespace_only_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match="empty file"):
        read_page(path)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 4)
    # 0.4% NUL bytes alone could be stray; 10% other control bytes are not text.
    with pytest.raises(InputError, match=r"binary file: \d+% control bytes"):
        read_page(path)
    path.write_bytes(bytes(range(8)) * 128)
    with pytest.raises(InputError, match=r"binary file: 12% NUL bytes"):
        read_page(path)


@pytest.mark.parametrize(("magic", "kind"), [(b"%PDF-1.7\n", "PDF"), (b"\x89PNG\r\n", "PNG")])
def test_binary_magic(tmp_path: Path, magic: bytes, kind: str) -> None:
    path = tmp_path / "file.txt"
    path.write_bytes(magic + os.urandom(200))
    with pytest.raises(InputError, match=f"binary file: {kind}"):
        read_page(path)


def test_control_bytes_are_binary(tmp_path: Path) -> None:
    path = tmp_path / "ctl.txt"
    path.write_bytes(b"\x01\x02\x03\x04abc" * 20)
    with pytest.raises(InputError, match="control bytes"):
        read_page(path)


def test_truncated_gb18030(tmp_path: Path) -> None:
    data = SIMPLIFIED.encode("gb18030")
    # Cut inside the last two-byte character, then add a byte no encoding accepts there.
    broken = data[:-4] + b"\xff"
    path = tmp_path / "cut.txt"
    path.write_bytes(broken)
    with pytest.raises(InputError, match="not decodable as UTF-8, UTF-16, GB18030 or Big5"):
        read_page(path)


def test_undecodable_message_has_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes("社区".encode("gb18030") + b"\xff\xff\xff")
    with pytest.raises(InputError, match=r"offset \d+"):
        read_page(path)


def test_mixed_encodings_fail(tmp_path: Path) -> None:
    # A UTF-8 half and a GB18030 half with a byte sequence invalid in every codec.
    data = SIMPLIFIED.encode("utf-8") + SIMPLIFIED.encode("gb18030") + b"\x80"
    path = tmp_path / "mixed.txt"
    path.write_bytes(data)
    with pytest.raises(InputError):
        read_page(path)


def test_mixed_utf8_and_big5_is_never_silently_dropped(tmp_path: Path) -> None:
    # Whatever it decodes as, every byte must be accounted for: decoding must be strict.
    data = "社区".encode() + TRADITIONAL.encode("big5")
    path = tmp_path / "mixed2.txt"
    path.write_bytes(data)
    try:
        pages, _ = read_page(path)
    except InputError:
        return
    assert pages[0].text.encode(pages[0].encoding) == data


def test_bad_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + SIMPLIFIED.encode("gb18030"))
    with pytest.raises(InputError, match="byte-order mark"):
        read_page(path)


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unreadable"):
        read_page(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="unreadable"):
        read_page(tmp_path)


# ---------------------------------------------------------------- source


def test_source_relative_to_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    path = tmp_path / "a" / "b" / "page.md"
    path.write_text("# 标题\n正文", encoding="utf-8")
    pages, _ = read_page(path, root=tmp_path)
    assert pages[0].source == "a/b/page.md"
    pages, _ = read_page(path, source="given/name.md")
    assert pages[0].source == "given/name.md"


# ---------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html><html><head><meta charset="gb2312"><title>社区工作总结_范文网</title>
<style>.a{color:red}</style><script>var x = "不可见";</script></head>
<body><div class="nav">首页 &gt; 工作总结</div>
<h1>社区工作总结</h1>
<p>一、基本情况</p><p>全年服务群众<b>5000</b>余人次。<br>同比增长12%。</p>
<noscript>请启用脚本</noscript>
<table><tr><td>户数</td><td>1860户</td></tr></table>
<ul><li>开展活动46场</li><li>志愿者&nbsp;350名</li></ul>
<script>document.write("广告")</script></body></html>"""


def test_html_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(HTML.encode("gb18030"))
    pages, issues = read_page(path)
    assert issues == []
    page = pages[0]
    assert page.encoding == "gb18030"
    # trafilatura's title (the site name after "_" dropped) and which extractor decided
    assert page.meta == {"title": "社区工作总结", "extractor": "trafilatura"}
    lines = page.text.split("\n")
    assert lines == [
        "首页 > 工作总结",
        "社区工作总结",
        "一、基本情况",
        "全年服务群众5000余人次。",
        "同比增长12%。",
        "户数 1860户",
        "开展活动46场",
        "志愿者\u00a0350名",
    ]
    for hidden in ("不可见", "广告", "请启用脚本", "color"):
        assert hidden not in page.text


def test_html_wrong_meta_charset_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes('<meta charset="big5"><p>社区工作总结</p>'.encode())
    pages, _ = read_page(path)
    assert pages[0].text == "社区工作总结" and pages[0].encoding == "utf-8"


def test_html_unclosed_head() -> None:
    text, _ = html_to_text("<html><head><title>t</title><body><p>正文</p></body>")
    assert text == "正文"


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text(
        "<html><head><title>空</title></head><body><script>1</script></body>", encoding="utf-8"
    )
    with pytest.raises(InputError, match="no visible text"):
        read_page(path)


# ---------------------------------------------------------------- records


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"url": "http://a.cn/1", "title": "总结一", "text": "内容一", "n": 1},
            ensure_ascii=False,
        ),
        "",
        "{not json",
        json.dumps({"url": "http://a.cn/3", "title": "无正文"}, ensure_ascii=False),
        json.dumps({"url": "http://a.cn/4", "text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"url": "http://a.cn/6", "text": 42}),
        json.dumps({"url": "http://a.cn/7", "text": "内容七"}, ensure_ascii=False),
    ]
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pages, issues = read_page(path)
    assert [(p.record, p.text) for p in pages] == [(0, "内容一"), (7, "内容七")]
    assert pages[0].meta == {"url": "http://a.cn/1", "title": "总结一", "n": 1}
    assert pages[0].source.endswith("pages.jsonl") and pages[0].encoding == "utf-8"
    assert [r for r, _ in issues] == [2, 3, 4, 5, 6]
    reasons = dict(issues)
    assert reasons[2].startswith("invalid JSON")
    assert "no 'text' field" in reasons[3]
    assert "empty 'text'" in reasons[4]
    assert "not an object" in reasons[5]
    assert "int" in reasons[6]


def test_jsonl_text_column(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    path.write_text(
        json.dumps({"body": "正文", "text": "摘要"}, ensure_ascii=False), encoding="utf-8"
    )
    pages, _ = read_page(path, text_column="body")
    assert pages[0].text == "正文" and pages[0].meta == {"text": "摘要"}


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([{"text": "一"}, {"x": 1}], ensure_ascii=False), encoding="utf-8")
    pages, issues = read_page(path)
    assert [p.text for p in pages] == ["一"] and [r for r, _ in issues] == [1]


def test_csv_records_gb18030(tmp_path: Path) -> None:
    content = (
        "url,title,text\r\n"
        'http://a.cn/1,总结一,"第一行\n第二行，含逗号"\r\n'
        "http://a.cn/2,只有两列\r\n"
        "http://a.cn/3,空正文,\r\n"
        "\r\n"
        "http://a.cn/4,总结四,内容四\r\n"
    )
    path = tmp_path / "pages.csv"
    path.write_bytes(content.encode("gb18030"))
    pages, issues = read_page(path)
    assert [(p.record, p.text) for p in pages] == [(0, "第一行\n第二行，含逗号"), (4, "内容四")]
    assert pages[0].meta == {"url": "http://a.cn/1", "title": "总结一"}
    assert pages[0].encoding == "gb18030"
    assert issues == [(1, "2 fields, header has 3"), (2, "empty 'text'")]


def test_csv_long_field(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("text\n" + "社" * 300_000 + "\n", encoding="utf-8-sig")
    pages, _ = read_page(path)
    assert len(pages[0].text) == 300_000 and pages[0].encoding == "utf-8-sig"


def test_csv_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "pages.csv"
    path.write_text("url,body\nhttp://a,正文\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'text' column"):
        read_page(path)
    pages, _ = read_page(path, text_column="body")
    assert pages[0].text == "正文"


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "pages.tsv"
    path.write_text("id\ttext\n1\t内容\n", encoding="utf-8")
    pages, _ = read_page(path)
    assert pages[0].text == "内容" and pages[0].meta == {"id": "1"}


# ---------------------------------------------------------------- docx


def test_docx(tmp_path: Path) -> None:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xml = (
        f'<w:document xmlns:w="{w}"><w:body>'
        "<w:p><w:r><w:t>社区工作总结</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>一、基本</w:t></w:r><w:r><w:t>情况</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>户数</w:t><w:tab/><w:t>1860户</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    path = tmp_path / "page.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", xml)
    pages, _ = read_page(path)
    assert pages[0].text == "社区工作总结\n一、基本情况\n户数\t1860户"
    assert pages[0].encoding == "docx"


def test_docx_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    path.write_text("社区", encoding="utf-8")
    with pytest.raises(InputError, match=r"not a readable \.docx"):
        read_page(path)


PORTAL = Path(__file__).parent / "pages" / "portal_report.html"


def test_html_main_content_leaves_portal_chrome_out() -> None:
    """Navigation, search box, toolbar, share bar, related links and footer are outside
    the main content: every such visible line is dropped (and recorded by the pipeline)."""
    (page,), _ = read_page(PORTAL)
    assert page.meta["extractor"] == "trafilatura"
    assert page.meta["title"] == "2026年青川县人民政府工作报告"
    assert page.meta["date"] == "2026-01-16"
    lines = page.text.split("\n")
    dropped = {lines[i - 1] for i in page.dropped}
    for chrome in ("首页", "搜索", "政务公开", "相关链接", "网站地图 | 联系我们 | 隐私声明"):
        assert chrome in dropped
    assert any("ICP备" in line for line in dropped)
    kept = [line for i, line in enumerate(lines, 1) if i not in page.dropped]
    assert kept[0] == "2026年青川县人民政府工作报告"
    assert kept[-1].startswith("（二）补齐民生短板")
    assert not any("ICP" in line or "责任编辑" in line for line in kept)


def test_html_without_main_text_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "nav.html"
    path.write_text("<html><body><div class='footer'>主办单位：某某社区</div></body></html>",
                    "utf-8")
    (page,), _ = read_page(path)
    assert page.meta["extractor"].startswith("fallback:")
    assert page.dropped == () and page.text == "主办单位：某某社区"
