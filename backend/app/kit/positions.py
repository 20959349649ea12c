"""Position keys: strings whose byte order is the user's order (fractional indexing, the
`fractional-indexing` library's base-62 keys). A move writes one key between its neighbours'
keys; nothing is renumbered and no float runs out of precision.

A new item's key comes from the clock, so an append needs no query for the last sibling: an
integer key `i` + the microseconds since 1970 in 9 base-62 digits (fixed width: valid until
the year 2398), then 3 random base-62 digits as a fractional part so two appends in the same
microsecond (almost) never tie. Later appends sort after earlier ones while the clock moves
forward; a "last" move takes the last sibling's integer part plus one (one microsecond), still
below any append made a microsecond or more later. Keys compare as bytes: PostgreSQL stores them
with `COLLATE "C"`, SQLite compares text bytewise. Equal keys are ordered by id.
"""

import random
from datetime import datetime

from fractional_indexing import (
    BASE_62_DIGITS,
    FIError,
    generate_key_between,
    generate_n_keys_between,
)

from app.kit.keys import microseconds

_CLOCK_HEAD = "i"  # an integer part of 9 digits after the head
_SUFFIX_DIGITS = 3


_SUFFIXES = 62 ** (_SUFFIX_DIGITS - 1) * 61


class PositionKeyTooLong(ValueError):
    """The key between two neighbours would pass the length limit."""


# Every two-digit string, by value: a key is read off in pairs, four divisions instead of
# nine (appends are on every create).
_PAIRS = tuple(high + low for high in BASE_62_DIGITS for low in BASE_62_DIGITS)
_PAIR = 62 * 62


def append_key(now: datetime) -> str:
    """The key of an item appended at `now`: after every item appended earlier."""
    # Not a secret, only a tie-breaker: one call to the fast generator, not three to the
    # system's. The last digit is never "0": a fractional part may not end in it.
    drawn = random.randrange(_SUFFIXES)
    rest, fourth = divmod(microseconds(now), _PAIR)
    rest, third = divmod(rest, _PAIR)
    rest, second = divmod(rest, _PAIR)
    first, pair = divmod(rest, _PAIR)  # 9 digits: one, then four pairs
    if first >= 62:
        raise ValueError("past the year 2398: the clock needs a tenth digit")
    return (
        f"{_CLOCK_HEAD}{BASE_62_DIGITS[first]}{_PAIRS[pair]}{_PAIRS[second]}{_PAIRS[third]}"
        f"{_PAIRS[fourth]}{_PAIRS[drawn // 61]}{BASE_62_DIGITS[1 + drawn % 61]}"
    )


def key_between(before: str | None, after: str | None, max_length: int) -> str:
    """A key strictly between two neighbours' keys (None: the start or the end of the
    siblings). PositionKeyTooLong past `max_length` characters."""
    try:
        key = str(generate_key_between(before, after))
    except FIError as error:  # equal or malformed neighbours: a bug of the caller
        raise ValueError(str(error)) from None
    if len(key) > max_length:
        raise PositionKeyTooLong(key)
    return key


def spread(count: int) -> list[str]:
    """`count` fresh keys in order, short and evenly spaced: for siblings whose keys grew too
    long (each move into the same gap adds about a character every six moves)."""
    return [str(key) for key in generate_n_keys_between(None, None, count)]
