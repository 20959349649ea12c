"""Many tasks for one user, written by PostgreSQL itself (generate_series): the query-plan test
and the list-scaling benchmark need tens of thousands of rows in seconds. Every column the app
derives is derived here the same way, so the rows are what the API would have written."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.kit.keys import NO_DUE

# Task n: priority n % 4; completed when n % 3 == 0; every other task due, all day, on one of
# 60 days from 2026-11-01; every tenth tagged "work"; created one second apart, newest first;
# top-level, in the user's own order by n (a valid position key: digits are base-62 digits).
_TASKS = text(f"""
INSERT INTO tasks (id, user_id, title, description, is_completed, created_at, updated_at,
                   completed_at, due_date, due_at, priority, tags, title_key, description_key,
                   due_key, due_key_desc, position)
SELECT gen_random_uuid(), :owner, 'Task ' || lpad(n::text, 6, '0'), NULL, n % 3 = 0,
       now() - make_interval(secs => n), now() - make_interval(secs => n),
       CASE WHEN n % 3 = 0 THEN now() END,
       due, NULL, n % 4,
       CASE WHEN n % 10 = 0 THEN '["work"]' ELSE '[]' END,
       'task ' || lpad(n::text, 6, '0'), '',
       COALESCE((extract(epoch FROM due::timestamp) * 1000000)::bigint, {NO_DUE}),
       COALESCE(-(extract(epoch FROM due::timestamp) * 1000000)::bigint, {NO_DUE}),
       'i' || lpad(n::text, 9, '0')
FROM (
    SELECT n, CASE WHEN n % 2 = 0 THEN DATE '2026-11-01' + (n % 60) END AS due
    FROM generate_series(1, :count) AS n
) AS numbered
""")
_TAGS = text("""
INSERT INTO task_tags (task_id, name_key, user_id, name)
SELECT id, 'work', user_id, 'work' FROM tasks WHERE user_id = :owner AND tags = '["work"]'
""")


async def seed_postgres(connection: AsyncConnection, owner: str, count: int) -> None:
    await connection.execute(_TASKS, {"owner": owner, "count": count})
    await connection.execute(_TAGS, {"owner": owner})
