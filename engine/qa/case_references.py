"""What a case reference may look like: the council's pattern, checked wherever one comes in.

A case reference is copied into pages, file names, emails and PDFs. Anything other than
the characters a case management system uses (by default letters, digits, `-` and `/`)
is refused where a reference enters the product — the register import, by line, and the
case look-ups of allocation and legal holds — so no later step has to cope with markup
or control characters in it. A council whose references look different sets
QA_CASE_REFERENCE_PATTERN, a regular expression the whole reference must match.
"""
import os
import re
from functools import lru_cache

PATTERN_VARIABLE = "QA_CASE_REFERENCE_PATTERN"
DEFAULT_PATTERN = r"[A-Za-z0-9/-]+"
MAX_LENGTH = 40


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{PATTERN_VARIABLE} is not a valid regular expression: {error}") from error


def normalised(reference: str) -> str:
    """References are compared in capitals without surrounding spaces, as the register stores them."""
    return str(reference or "").strip().upper()


def reference_problem(reference: str) -> str | None:
    """Why `reference` (already normalised) cannot be a case reference, or None when it can."""
    if not reference:
        return "the case reference is missing"
    if len(reference) > MAX_LENGTH:
        return f"the case reference is longer than {MAX_LENGTH} characters"
    pattern = os.environ.get(PATTERN_VARIABLE) or DEFAULT_PATTERN
    if not _compiled(pattern).fullmatch(reference):
        if pattern == DEFAULT_PATTERN:
            return "the case reference may hold only letters, digits, '-' and '/'"
        return "the case reference is not in the form this council's case references take"
    return None


def reference_error(reference: str) -> str | None:
    """The same as a sentence for the message next to a form's case reference field."""
    problem = reference_problem(reference)
    return f"{problem[:1].upper()}{problem[1:]}." if problem else None
