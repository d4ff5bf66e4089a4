"""Vietnamese text as old office PCs typed it: TCVN3 (ABC) and VNI fonts, read back as
Windows-1252. The mixed benchmark puts such subjects on the roads that carry them in the
field (M-Office and iDesk records of old units) so the bridge's repair is part of the work.
"""

from __future__ import annotations

import unicodedata

from bridge.normalize.legacy import TCVN3_TABLE

_TO_TCVN3 = {letter: chr(byte) for byte, letter in TCVN3_TABLE.items()}

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
# VNI: a vowel, then one byte for its shape and tone (or its tone alone).
_VNI_TONE = {_GRAVE: "ø", _ACUTE: "ù", _HOOK: "û", _TILDE: "õ", _DOT: "ï", "": ""}
_VNI_CIRCUMFLEX = {"": "â", _GRAVE: "à", _ACUTE: "á", _HOOK: "å", _TILDE: "ã", _DOT: "ä"}
_VNI_BREVE = {"": "ê", _GRAVE: "è", _ACUTE: "é", _HOOK: "ú", _TILDE: "ü", _DOT: "ë"}
_VNI_I = {_GRAVE: "ì", _ACUTE: "í", _HOOK: "æ", _TILDE: "ó", _DOT: "ò"}


def tcvn3(text: str) -> str:
    """`text` typed with a TCVN3 font (capitals with a tone in the lower-case slots, as the
    capital font does)."""
    out = []
    for char in text:
        code = _TO_TCVN3.get(char)
        if code is None and char != char.lower():
            code = _TO_TCVN3.get(char.lower())
        out.append(code if code is not None else char)
    return "".join(out)


def vni(text: str) -> str:
    """`text` typed with a VNI font."""
    return "".join(_vni_char(char) for char in text)


def _vni_char(char: str) -> str:
    if char in "đĐ":
        return "ñ" if char == "đ" else "Ñ"
    parts = unicodedata.normalize("NFD", char)
    base, marks = parts[0], parts[1:]
    if not marks or not base.isascii():
        return char
    upper = base.isupper()
    base = base.lower()
    tone = next((m for m in marks if m in _VNI_TONE), "")
    if _HORN in marks:
        code = ("ö" if base == "u" else "ô") + _VNI_TONE[tone]
        text = code
    elif _CIRCUMFLEX in marks:
        text = base + _VNI_CIRCUMFLEX[tone]
    elif _BREVE in marks:
        text = base + _VNI_BREVE[tone]
    elif base == "i":
        text = _VNI_I[tone]
    elif base == "y" and tone == _DOT:
        text = "î"
    else:
        text = base + _VNI_TONE[tone]
    return text.upper() if upper else text
