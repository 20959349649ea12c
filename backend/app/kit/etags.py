"""Entity tags of tasks, and the `If-Match` / `If-None-Match` lists clients send (RFC 9110).

A task's tag is its version (the user's change seq of its last real change) in quotes: strong,
since a version names exactly one state of the task.
"""

import re

# RFC 9110's entity-tag: optional W/ then a quoted string of etagc characters.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_MAX_TAGS = 50  # more is not a client following the protocol; none of them would match anyway
_MAX_DIGITS = 18  # every version fits a signed 64-bit integer


def etag_of(version: int) -> str:
    return f'"{version}"'


class Precondition:
    """A parsed `If-Match` or `If-None-Match`: `*`, or the versions its tags name.

    `malformed`: not `*` nor a list of quoted entity tags (`6` for `"6"`), so it cannot say
    which version the client holds. `weak_only`: every tag was weak and dropped, as `If-Match`
    compares strongly: such a header can match nothing, whatever the task's version."""

    def __init__(
        self, any_: bool, versions: list[int], *, malformed: bool = False, weak_only: bool = False
    ) -> None:
        self.any = any_
        self.versions = versions
        self.malformed = malformed
        self.weak_only = weak_only

    @classmethod
    def parse(cls, value: str | None, *, weak_matches: bool) -> "Precondition | None":
        """None when the header is absent. Tags that cannot be ours and (for If-Match, which
        compares strongly) weak ones are dropped: they match nothing."""
        if value is None:
            return None
        if value.strip() == "*":
            return cls(True, [])
        versions: list[int] = []
        tags = weak_tags = 0
        position = 0
        while value[position:].strip() and tags < _MAX_TAGS:
            match = _ENTITY_TAG.match(value, position)
            if match is None:
                return cls(False, [], malformed=True)
            position = match.end()
            tags += 1
            weak, opaque = match.groups()
            if weak and not weak_matches:
                weak_tags += 1
            elif _is_version(opaque):
                versions.append(int(opaque))
        return cls(False, versions, malformed=tags == 0, weak_only=0 < tags == weak_tags)

    def matches(self, etag: str) -> bool:
        return self.any or any(etag_of(version) == etag for version in self.versions)


def _is_version(opaque: str) -> bool:
    return opaque.isascii() and opaque.isdigit() and len(opaque) <= _MAX_DIGITS
