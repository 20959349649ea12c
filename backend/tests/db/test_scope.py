"""Access is one clause: every statement of a caller's rows takes its scope from app.db.scope,
so shared lists later change one function, not a dozen statements."""

import re
from pathlib import Path

import app

APP = Path(app.__file__).parent
# A caller's id bound into SQL, or compared with a row's owner, by hand.
_HAND_WRITTEN_SCOPE = re.compile(r"bindparam\(\s*[\"']owner[\"']|user_id\s*==\s*(owner|bindparam)")


def test_only_the_scope_module_writes_the_callers_scope() -> None:
    offenders = [
        f"{path.relative_to(APP)}:{number}"
        for path in APP.rglob("*.py")
        if path != APP / "db" / "scope.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if _HAND_WRITTEN_SCOPE.search(line)
    ]
    assert offenders == []


def test_the_guard_sees_a_hand_written_scope() -> None:
    assert _HAND_WRITTEN_SCOPE.search('select(T).where(T.c.user_id == bindparam("owner"))')
    assert _HAND_WRITTEN_SCOPE.search("conditions = [C.user_id == owner]")
