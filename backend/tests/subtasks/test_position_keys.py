"""The clock-derived key of an appended task (app.kit.positions.append_key): its digits are
the microseconds since 1970 in base 62, and keys sort as the times they were made at."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from fractional_indexing import BASE_62_DIGITS, validate_order_key

from app.kit.keys import microseconds
from app.kit.positions import append_key
from tests.support.clock import now


def base62(number: int, width: int) -> str:
    """The plain long division the key's digits must agree with."""
    digits = ""
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits = BASE_62_DIGITS[digit] + digits
    assert number == 0
    return digits


@pytest.mark.parametrize(
    "at",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 12, 6, 21, 0, 0, 123456, tzinfo=UTC),
        datetime(2398, 1, 1, tzinfo=UTC),
    ],
)
def test_the_integer_part_is_the_clock_in_base_62(at: datetime) -> None:
    key = append_key(at)

    assert key[0] == "i"
    assert len(key) == 13
    assert key[1:10] == base62(microseconds(at), 9)
    assert key[12] != "0"  # a fractional part never ends in 0
    validate_order_key(key)


def test_keys_sort_as_their_times() -> None:
    rng = random.Random(6)
    start = now()
    times = sorted(start + timedelta(microseconds=rng.randrange(10**13)) for _ in range(2000))

    keys = [append_key(at) for at in times]

    assert all(a < b for a, b, t, u in zip(keys, keys[1:], times, times[1:], strict=False) if t < u)


def test_a_time_past_the_tenth_digit_is_refused() -> None:
    with pytest.raises(ValueError, match="tenth digit"):
        append_key(datetime(2400, 1, 1, tzinfo=UTC))
