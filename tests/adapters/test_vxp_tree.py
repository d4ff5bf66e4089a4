"""The two ways edXML becomes a light tree (lxml's own tree for a message of ordinary size, the
parser target for a huge one) agree on every message: corpus files, hostile ones included, and
generated XML with comments, CDATA, entities and mixed text."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.vxp import edxml
from adapters.vxp.edxml import EdxmlError, parse_message
from tests.corpus_path import CORPUS as CORPUS_ROOT

FILES = sorted((CORPUS_ROOT / "vxp").glob("*.edxml"))
NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


def _shape(node: Any) -> Any:
    if node is None:
        return None
    return (
        node.ns,
        node.local,
        sorted(node.attrib.items()),
        node.text,
        [_shape(c) for c in node.children],
    )


def _both(data: bytes) -> tuple[Any, Any]:
    """Each builder's tree (or the error it raised, as text)."""
    out = []
    for build in (edxml._c_tree, edxml._target_tree):
        try:
            out.append(_shape(build(data)))
        except EdxmlError as exc:
            out.append(("error", type(exc).__name__))
    return out[0], out[1]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_files_give_the_same_tree_both_ways(path: Path) -> None:
    data = path.read_bytes()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        with pytest.raises(EdxmlError):
            parse_message(data)
        return
    c_tree, target_tree = _both(data)
    assert c_tree == target_tree


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
    max_size=40,
).filter(lambda s: all(c in "\t\n" or ord(c) >= 0x20 for c in s))
_PIECE = st.one_of(
    _TEXT.map(escape),
    _TEXT.filter(lambda s: "]]>" not in s).map(lambda s: f"<![CDATA[{s}]]>"),
    _TEXT.filter(lambda s: "--" not in s and not s.endswith("-")).map(lambda s: f"<!--{s}-->"),
    st.sampled_from(["&amp;", "&lt;", "&#7899;", "&#x1EA1;", "<?pi data?>"]),
)


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(["Subject", "Code", "edXML:CodeNumber", "Place", "x"]))
    # Attribute values without "&" or "<": lxml's parser target hands an escaped character in
    # an attribute back as a character reference ("&#38;"), its own tree as the character.
    value = _TEXT.filter(lambda s: "&" not in s and "<" not in s)
    attrs = draw(st.dictionaries(st.sampled_from(["a", "id", "version"]), value, max_size=2))
    inner = []
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.booleans()):
            inner.append(draw(_element(depth + 1)))
        else:
            inner.append(draw(_PIECE))
    attr_text = "".join(f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in attrs.items())
    return f"<{name}{attr_text}>{''.join(inner)}</{name}>"


@settings(max_examples=150, deadline=None)
@given(body=st.lists(_element(), max_size=3), tail=_PIECE)
def test_generated_xml_gives_the_same_tree_both_ways(body: list[str], tail: str) -> None:
    data = (
        f'<?xml version="1.0" encoding="UTF-8"?><edXML xmlns="{NS}" xmlns:edXML="{NS}">'
        f"{''.join(body)}{tail}</edXML>"
    ).encode()
    c_tree, target_tree = _both(data)
    assert c_tree == target_tree
    assert c_tree[0] != "error"


def test_a_malformed_message_is_refused_both_ways() -> None:
    assert _both(b"<edXML><a></edXML>") == (("error", "EdxmlError"), ("error", "EdxmlError"))
