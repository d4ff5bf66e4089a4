"""Deciding whether a record is a new document, another road's copy, a revision, or none.

The rule is the contract's: the same number, the same normalized notation, the same issue
date and the same issuer (by organ code where both records have one, through the organ
directory's previous codes, else by canonical name). Records with no number fall back to their
attachments' SHA-256. Operator corrections (overrides) come before every rule. Every decision
carries its reasoning (`reasons.decision`) so that `/documents/{id}` can show why.
"""

from bridge.dedup.finding import Finder
from bridge.dedup.held import HeldQueries, HeldRecords
from bridge.dedup.matcher import Matcher
from bridge.dedup.reasons import RULES, Match, decision, differences

__all__ = [
    "RULES",
    "Finder",
    "HeldQueries",
    "HeldRecords",
    "Match",
    "Matcher",
    "decision",
    "differences",
]
