"""Full organ names indexed for the short forms clerks write: by the first word (a name with
initials, "Bộ TC", is checked against the names sharing its first word) and by the name
without its generic head ("Điện lực X" for "Công ty Điện lực X")."""

from __future__ import annotations

from collections import defaultdict

from bridge.normalize.organs import generic_head_size, looks_short, organ_name_key
from bridge.normalize.text import ascii_key


def _key(name: str) -> str:
    return organ_name_key(name) or ""


def headless_key(name: str) -> str | None:
    """The key of a name with its generic head dropped; None when it has no such head."""
    head = generic_head_size(name)
    words = name.split()
    return _key(" ".join(words[head:])) if head and len(words) > head else None


class NameIndex:
    """Full names by first word and by headless key."""

    def __init__(self) -> None:
        self._by_word: dict[str, set[str]] = defaultdict(set)
        self._headless: dict[str, set[str]] = defaultdict(set)

    def add(self, name: str) -> None:
        words = name.split()
        if words:
            self._by_word[ascii_key(words[0])].add(name)
        headless = headless_key(name)
        if headless is not None:
            self._headless[headless].add(name)

    def candidates(self, name: str) -> set[str]:
        """The full names `name` may shorten: sharing its first word when it has initials,
        and in any case those it equals once their generic head is dropped."""
        found = set(self._headless.get(_key(name), set()))
        if looks_short(name):
            found |= self._by_word.get(ascii_key(name.split()[0]), set())
        return found
