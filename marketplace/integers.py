"""Integers from outside (paths, query strings, form fields, JSON bodies).

A number past what an id column holds made the driver raise (SQLite past 2^63 - 1;
PostgreSQL past 2^31 - 1, its INTEGER), so it reached the user as a 500. Every
integer the platform reads from a request goes through this module instead: in a
path it is an unknown id (404), anywhere else a bad value (422).
"""

import re
from typing import Any

from werkzeug.routing import IntegerConverter, Map

# Ids and counts are INTEGER columns: PostgreSQL's int4 is the narrower of the two.
DATABASE_INT_MAX = 2**31 - 1
# ASCII digits only: str.isdigit() also accepts "²" and "١٢", which int() refuses or
# reads as another number.
_DIGITS = re.compile(r"[0-9]+")
# More digits than this is out of range whatever they say; int() is never asked to
# read a 100,000-digit string.
_MAX_DIGITS = len(str(DATABASE_INT_MAX))


def _digits_up_to(limit: int) -> str:
    """A regex of the decimal numbers 0..limit (no sign, no leading zeros beyond
    limit's length)."""
    digits = str(limit)
    shorter = rf"\d{{1,{len(digits) - 1}}}" if len(digits) > 1 else ""
    same_length = [
        f"{digits[:i]}[0-{int(d) - 1}]" + (rf"\d{{{len(digits) - i - 1}}}")
        for i, d in enumerate(digits)
        if d != "0"
    ] + [digits]
    return "(?:" + "|".join(filter(None, [shorter, *same_length])) + ")"


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` in every route: an id beyond the database's range matches no
    route, so it answers 404 like any other unknown id.

    The bound is in the regex, not only in `max`: werkzeug tries the method before
    the converter, so a POST whose converter refused the value would answer 405
    (the GET rule of the same path matched) instead of 404.
    """

    regex = _digits_up_to(DATABASE_INT_MAX)

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = DATABASE_INT_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def parse_int(
    value: Any,
    *,
    minimum: int = 1,
    maximum: int = DATABASE_INT_MAX,
    text: bool = False,
) -> int:
    """`value` as an int in [minimum, maximum], or ValueError with a Chinese reason.

    JSON gives real integers (booleans are refused, though Python counts them as
    ints); with `text`, a query-string or form value of ASCII digits is read too.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif text and isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        digits = value.strip()
        number = int(digits) if len(digits) <= _MAX_DIGITS else DATABASE_INT_MAX + 1
    else:
        raise ValueError("应为整数")
    if not minimum <= number <= maximum:
        if maximum == DATABASE_INT_MAX:
            raise ValueError(f"应为不小于{minimum}的整数，且不能过大")
        raise ValueError(f"应为{minimum}到{maximum}之间的整数")
    return number


def is_id(value: Any) -> bool:
    """True for a JSON value that can be a row's id (a positive integer in range)."""
    try:
        parse_int(value)
    except ValueError:
        return False
    return True
