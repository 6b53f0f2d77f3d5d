"""Whole numbers typed by people or read from addresses, bounded by what the database holds.

Every id and count column is an INTEGER: 32-bit signed on PostgreSQL, and SQLite cannot
even bind a Python int past 64 bits. A value beyond that range must mean "no such thing"
or "not a valid number" (a 404 or a message by the field), never reach a query and fail
there; so every id or number read from a request goes through `whole_number`.
"""
MAX_INTEGER = 2**31 - 1


def whole_number(text: str | None, *, minimum: int = 0, maximum: int = MAX_INTEGER) -> int | None:
    """`text` as an int if it is plain digits (ASCII only) within [minimum, maximum]; otherwise None."""
    text = (text or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None
