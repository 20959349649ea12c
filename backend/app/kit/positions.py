"""Manual order as fractional keys (the `fractional-indexing` library): a position is a short
base-62 string, and there is always a key between any two, so a move writes one row instead of
renumbering its siblings. Keys compare as plain bytes (code points): the column is `COLLATE "C"`
on PostgreSQL, and SQLite compares text that way by default.

Ties cannot happen through the API (a key is computed under the scope's change-counter lock from
the neighbours as committed), and readers break any tie by id all the same."""

from dataclasses import dataclass

from fractional_indexing import FIError, generate_key_between, generate_n_keys_between

# Keys grow by about one character per six moves into the same gap; past this length the
# siblings are given fresh, evenly spaced keys (`spread`).
MAX_POSITION_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Gap:
    """Where a moved or new item goes: strictly after `low`, strictly before `high` (None: the
    start or the end of the siblings)."""

    low: str | None
    high: str | None

    def holds(self, position: str) -> bool:
        """The item at `position` is already in this gap: moving it there changes nothing."""
        return (self.low is None or self.low < position) and (
            self.high is None or position < self.high
        )


def key_in(gap: Gap) -> str:
    """A key strictly inside the gap, as short as the library can make it."""
    try:
        key: str = generate_key_between(gap.low, gap.high)
    except FIError as error:  # only for keys this module did not make (or made out of order)
        raise ValueError(f"no key between {gap.low!r} and {gap.high!r}") from error
    return key


def spread(count: int) -> list[str]:
    """`count` fresh keys in order, evenly spaced: for siblings whose keys grew too long."""
    return list(generate_n_keys_between(None, None, count))
