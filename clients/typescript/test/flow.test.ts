// The SDK against a live taskapi with a real Better Auth token. backend/tests/ops/
// test_typescript_client.py starts both servers and runs this (compiled, from the installed
// tarball) with TASKAPI_URL and the tokens below; each test works as its own user.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MemoryStore,
  TaskApiError,
  createTaskApi,
  type ApiError,
  type ErrorCode,
  type Task,
  type TaskCreate,
  type TaskEvent,
  type TaskListQuery,
  type TaskApi,
  type components,
} from "@taskapi/client";
import { apiWith, baseUrl, env, needsServer as skip, ok, readBody, sendJson, until, withServer } from "./support.js";

/** Narrowing on `error_code` is what the union is for: a 412 carries no task. */
function describe(error: ApiError): string {
  switch (error.error_code) {
    case "TASK_NOT_FOUND":
    case "TASK_FORBIDDEN":
      return `${error.status_code} about a task`;
    case "UNEXPECTED_RESPONSE":
      return "not the API";
    default:
      return error.error_code;
  }
}

type Schemas = components["schemas"];

/** A call the SDK has no helper for (lists, move): `api.fetch` and the generated types. */
async function send<T>(api: TaskApi, path: string, method: string, body?: unknown): Promise<T> {
  const response = await api.fetch(path, { method, body });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return (response.status === 204 ? null : await response.json()) as T;
}

function expectError(result: { kind: string; error?: ApiError; response: Response }, status: number, code: ErrorCode): ApiError {
  assert.equal(result.kind, "error");
  assert.ok(result.error);
  assert.equal(result.response.status, status);
  assert.equal(result.error.error_code, code);
  assert.equal(result.error.status_code, status);
  assert.ok(result.error.detail.length > 0);
  return result.error;
}

test("calls: typed results, 304 as its own outcome, every error typed", { skip }, async () => {
  const alice = apiWith(env.TASKAPI_TOKEN ?? "");
  const created: Task[] = [];
  for (const title of ["first", "second", "third"]) {
    const result = await alice.tasks.create({ title });
    assert.equal(result.response.status, 201);
    const task = ok(result);
    assert.equal(task.user_id, env.TASKAPI_USER_ID);
    created.push(task);
  }
  const [first, , third] = created;
  assert.ok(first && third);

  const fresh = await alice.tasks.get(third.id, { ifNoneMatch: third.etag });
  assert.equal(fresh.kind, "not_modified");
  // @ts-expect-error: a 304 has no data, and the types say so.
  assert.equal(fresh.data, undefined);
  const toggled = ok(await alice.tasks.update(third.id, { is_completed: true, title: "third (done)" }));
  assert.equal(toggled.is_completed, true);
  const stale = await alice.tasks.get(third.id, { ifNoneMatch: third.etag });
  assert.equal(stale.kind === "ok" && stale.data.title, "third (done)");
  const deleted = await alice.tasks.delete(first.id);
  assert.equal(deleted.kind === "ok" && deleted.data, null);
  assert.equal(deleted.response.status, 204);

  expectError(await alice.tasks.create({ title: "" }), 400, "VALIDATION_ERROR");
  const missing = expectError(await alice.tasks.delete(first.id), 404, "TASK_NOT_FOUND");
  assert.equal(describe(missing), "404 about a task");
  expectError(await alice.tasks.create({ title: "big", description: "x".repeat(70_000) }), 413, "PAYLOAD_TOO_LARGE");
  expectError(await alice.tasks.list({ limit: 0 }), 400, "VALIDATION_ERROR");
  expectError(await apiWith("not-a-jwt").tasks.list(), 401, "INVALID_TOKEN");
  const theirs = ok(await apiWith(env.TASKAPI_OTHER_TOKEN ?? "").tasks.create({ title: "not alice's" }));
  expectError(await alice.tasks.get(theirs.id), 403, "TASK_FORBIDDEN");
  const notJson = await alice.fetch("/api/tasks", { method: "POST", headers: { "Content-Type": "text/plain" } });
  assert.equal(notJson.status, 400);
  const unknownRoute = await alice.fetch("/api/nothing-here");
  assert.equal(((await unknownRoute.json()) as ApiError).error_code, "NOT_FOUND");
});

test("a 401 TOKEN_EXPIRED gets one fresh token and a retry; the token is then reused", { skip }, async () => {
  const tokens = [env.TASKAPI_EXPIRED_TOKEN ?? "", env.TASKAPI_TOKEN ?? ""];
  let asked = 0;
  const api = createTaskApi({ baseUrl, getToken: async () => tokens[Math.min(asked++, 1)] ?? "" });
  assert.equal(ok(await api.tasks.list()).length, 2);
  assert.equal(ok(await api.tasks.list({ completed: true })).length, 1);
  assert.equal(asked, 2);

  const alwaysExpired = apiWith(env.TASKAPI_EXPIRED_TOKEN ?? "");
  expectError(await alwaysExpired.tasks.list(), 401, "TOKEN_EXPIRED");
});

// Open, high priority, tagged work (any case), due after 2026-11-30 00:00+01:00, "walk" in the
// title: the three "walk" tasks match; each of the others fails exactly one condition.
const WALKER_TASKS: TaskCreate[] = [
  { title: "walk 3", priority: "high", tags: ["work"], due_date: "2026-12-03" },
  { title: "walk 1", priority: "high", tags: ["Work"], due_date: "2026-12-01" },
  { title: "walk 2", priority: "high", tags: ["team", "work"], due_at: "2026-12-02T10:00:00Z" },
  { title: "walk, low", priority: "low", tags: ["work"], due_date: "2026-12-01" },
  { title: "walk, untagged", priority: "high", due_date: "2026-12-01" },
  { title: "walk, too early", priority: "high", tags: ["work"], due_date: "2026-11-29" },
  { title: "not found by q", priority: "high", tags: ["work"], due_date: "2026-12-01" },
];

test("pages and iterate follow the cursor with every parameter kept", { skip }, async () => {
  const walker = apiWith(env.TASKAPI_WALKER_TOKEN ?? "");
  for (const body of WALKER_TASKS) ok(await walker.tasks.create(body));
  const filters: TaskListQuery = {
    completed: false,
    priority: ["high", "medium"],
    tag: ["work"],
    due_after: "2026-11-30T00:00:00+01:00",
    q: "walk",
    sort: "due",
    limit: 1,
  };
  const titles: string[] = [];
  for await (const task of walker.tasks.iterate(filters)) titles.push(task.title);
  assert.deepEqual(titles, ["walk 1", "walk 2", "walk 3"]);

  const cursors = new Set<string>();
  for await (const page of walker.tasks.pages(filters)) {
    const params = new URL(page.response.url).searchParams;
    assert.deepEqual(params.getAll("priority"), ["high", "medium"]);
    assert.equal(params.get("q"), "walk");
    assert.equal(params.get("sort"), "due");
    cursors.add(params.get("cursor") ?? "missing");
  }
  assert.equal(cursors.size, 3);
  assert.ok(!cursors.has("missing"));
  // Without a filter the walk is still by cursor (never by offset).
  const everything: string[] = [];
  for await (const task of walker.tasks.iterate({ limit: 3 })) everything.push(task.title);
  assert.equal(everything.length, WALKER_TASKS.length);
  const tags = [];
  for await (const page of walker.tags.pages({ limit: 1 })) tags.push(...page.data.map((tag) => tag.name.toLowerCase()));
  assert.deepEqual(tags, ["team", "work"]);
  await assert.rejects(
    async () => {
      for await (const _ of walker.tasks.iterate({ cursor: "forged" })) assert.fail("no page");
    },
    (error: unknown) => error instanceof TaskApiError && error.error.error_code === "INVALID_CURSOR",
  );
});

test("sync(store): creates, updates and tombstones; SYNC_TOKEN_EXPIRED re-reads everything", { skip }, async () => {
  const syncer = apiWith(env.TASKAPI_SYNCER_TOKEN ?? "");
  const [a, b] = [ok(await syncer.tasks.create({ title: "a" })), ok(await syncer.tasks.create({ title: "b" }))];
  const store = new MemoryStore();
  const first = await syncer.sync(store);
  assert.deepEqual([first.reset, first.tasks, store.tasks.size], [true, 2, 2]);

  ok(await syncer.tasks.update(a.id, { title: "a, renamed" }));
  ok(await syncer.tasks.delete(b.id));
  const c = ok(await syncer.tasks.create({ title: "c" }));
  const second = await syncer.sync(store, { limit: 1 });
  assert.deepEqual([second.reset, second.tasks, second.deleted], [false, 2, 1]);
  const titles = (): string[] => [...store.tasks.values()].map((task) => task.title).sort();
  assert.deepEqual(titles(), ["a, renamed", "c"]);
  assert.equal(store.tasks.get(c.id)?.etag, c.etag);

  store.token = env.TASKAPI_STALE_SYNC_TOKEN ?? "";
  store.tasks.set(b.id, b); // what a stale copy may still hold
  const third = await syncer.sync(store);
  assert.equal(third.reset, true);
  assert.deepEqual(titles(), ["a, renamed", "c"]);
  assert.equal((await syncer.sync(store)).tasks, 0);
});

test("updateIfUnchanged and deleteIfUnchanged: a conflict carries the server's task", { skip }, async () => {
  const mine = apiWith(env.TASKAPI_EDITOR_TOKEN ?? "");
  const held = ok(await mine.tasks.create({ title: "draft" }));
  const theirs = ok(await mine.tasks.update(held.id, { title: "changed elsewhere" }));

  const conflict = await mine.tasks.updateIfUnchanged(held, { title: "my edit" });
  assert.equal(conflict.kind, "conflict");
  if (conflict.kind !== "conflict") return;
  assert.equal(conflict.error.error_code, "PRECONDITION_FAILED");
  assert.deepEqual(conflict.current, theirs);
  assert.equal((await mine.tasks.deleteIfUnchanged(held)).kind, "conflict");

  const merged = await mine.tasks.updateIfUnchanged(conflict.current, { title: "my edit" });
  assert.equal(merged.kind === "ok" && merged.data.title, "my edit");
  assert.equal(ok(await mine.tasks.get(held.id)).title, "my edit");
  assert.equal((await mine.tasks.deleteIfUnchanged(ok(await mine.tasks.get(held.id)))).kind, "ok");
});

test("create: one Idempotency-Key across a lost answer, a 503 and a 429", { skip }, async () => {
  const token = env.TASKAPI_CREATOR_TOKEN ?? "";
  const keys: string[] = [];
  let seen = 0;
  // In front of the API: forwards the first try but loses its answer, then answers 503 and
  // 429 itself with Retry-After: 1, then forwards.
  const proxy = async (request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse) => {
    const body = await readBody(request);
    keys.push(String(request.headers["idempotency-key"]));
    const attempt = ++seen;
    if (attempt === 2) return sendJson(response, 503, { detail: "busy", error_code: "DATABASE_BUSY", status_code: 503 }, { "Retry-After": "1" });
    if (attempt === 3) return sendJson(response, 429, { detail: "slow down", error_code: "RATE_LIMITED", status_code: 429 }, { "Retry-After": "1" });
    const upstream = await fetch(new URL(request.url ?? "/", baseUrl), {
      method: request.method ?? "GET",
      headers: { Authorization: String(request.headers.authorization), "Content-Type": "application/json", "Idempotency-Key": keys.at(-1) ?? "" },
      body,
    });
    const text = await upstream.text();
    if (attempt === 1) return response.socket?.destroy();
    response.writeHead(upstream.status, { "Content-Type": "application/json", "Idempotency-Replayed": upstream.headers.get("Idempotency-Replayed") ?? "" });
    response.end(text);
  };
  const started = Date.now();
  const result = await withServer((req, res) => void proxy(req, res), (url) =>
    apiWith(token, url).tasks.create({ title: "exactly once" }),
  );
  assert.equal(ok(result).title, "exactly once");
  assert.equal(result.response.headers.get("Idempotency-Replayed"), "true");
  assert.equal(new Set(keys).size, 1);
  assert.equal(keys.length, 4);
  assert.ok(Date.now() - started >= 2000, "waited Retry-After twice");
  const stored = ok(await apiWith(token).tasks.list());
  assert.deepEqual(stored.map((task) => task.title), ["exactly once"]);

  // Bounded: a server that stays down gets `attempts` tries, then its answer is returned.
  let tries = 0;
  const down = await withServer(
    (_, res) => void (tries++, sendJson(res, 503, { detail: "down", error_code: "DATABASE_UNAVAILABLE", status_code: 503 }, { "Retry-After": "0" })),
    (url) => createTaskApi({ baseUrl: url, getToken: () => token, retry: { attempts: 3, baseDelayMs: 10 } }).tasks.create({ title: "never" }),
  );
  assert.equal(down.kind === "error" && down.error.error_code, "DATABASE_UNAVAILABLE");
  assert.equal(down.kind === "error" && down.error.retryAfter, 0);
  assert.equal(tries, 3);
});

test("events: live changes, resume with Last-Event-ID, reset on an expired token", { skip }, async () => {
  const streamer = apiWith(env.TASKAPI_STREAMER_TOKEN ?? "");
  const seen: TaskEvent[] = [];
  const stop = new AbortController();
  const running = streamer.events({ onEvent: (event) => void seen.push(event), signal: stop.signal });
  await until(() => seen.length === 1);
  assert.equal(seen[0]?.type, "ready");

  // One write at a time: writes faster than the stream reads are compacted (a task created
  // and deleted meanwhile arrives only as `deleted`), as /changes would give them.
  const task = ok(await streamer.tasks.create({ title: "live" }));
  await until(() => seen.length === 2);
  ok(await streamer.tasks.update(task.id, { is_completed: true }));
  await until(() => seen.length === 3);
  ok(await streamer.tasks.delete(task.id));
  await until(() => seen.length === 4);
  assert.deepEqual(seen.map((event) => event.type), ["ready", "created", "updated", "deleted"]);
  assert.equal(seen[3]?.type === "deleted" && seen[3].taskId, task.id);
  stop.abort();
  await running;

  // Offline for a while: a change made meanwhile comes first on resuming.
  const lastEvent = seen.at(-1);
  const lastEventId = lastEvent !== undefined && "id" in lastEvent ? lastEvent.id : null;
  const missed = ok(await streamer.tasks.create({ title: "while away" }));
  const resumed: TaskEvent[] = [];
  const again = new AbortController();
  const resuming = streamer.events({ onEvent: (event) => void resumed.push(event), signal: again.signal, lastEventId });
  await until(() => resumed.length === 2);
  assert.deepEqual(resumed.map((event) => event.type), ["ready", "created"]);
  assert.equal(resumed[1]?.type === "created" && resumed[1].task.id, missed.id);
  again.abort();
  await resuming;

  const reset: TaskEvent[] = [];
  const third = new AbortController();
  const fromStale = streamer.events({
    onEvent: (event) => void reset.push(event),
    signal: third.signal,
    lastEventId: env.TASKAPI_STREAMER_STALE_TOKEN ?? "",
  });
  await until(() => reset.length === 2);
  assert.deepEqual(reset.map((event) => event.type), ["reset", "ready"]);
  assert.equal(reset[0]?.type === "reset" && reset[0].error.error_code, "SYNC_TOKEN_EXPIRED");
  third.abort();
  await fromStale;

  // Another user's token cannot be resumed from: no retry can help, so events() rejects.
  await assert.rejects(
    streamer.events({ onEvent: () => undefined, lastEventId: env.TASKAPI_OTHER_SYNC_TOKEN ?? "" }),
    (error: unknown) => error instanceof TaskApiError && error.error.error_code === "INVALID_SYNC_TOKEN",
  );
});

test("events: past the per-user stream limit, wait Retry-After, then connect", { skip }, async () => {
  const limited = apiWith(env.TASKAPI_LIMITED_TOKEN ?? "");
  const limit = Number(env.TASKAPI_STREAMS_PER_USER ?? "2");
  const ready: number[] = [];
  const stops = Array.from({ length: limit + 1 }, () => new AbortController());
  const waits: { reason: string; retryInMs: number }[] = [];
  const streams = stops.slice(0, limit).map((stop, index) =>
    limited.events({ onEvent: (e) => void (e.type === "ready" && ready.push(index)), signal: stop.signal }),
  );
  await until(() => ready.length === limit);
  const last = limited.events({
    onEvent: (e) => void (e.type === "ready" && ready.push(limit)),
    onDisconnect: (info) => waits.push(info),
    signal: stops[limit]?.signal,
  });
  await until(() => waits.length === 1);
  assert.equal(waits[0]?.reason, "TOO_MANY_STREAMS");
  assert.ok((waits[0]?.retryInMs ?? 0) >= 5000, "honours Retry-After: 5");
  stops[0]?.abort();
  await until(() => ready.includes(limit), 15_000);
  for (const stop of stops) stop.abort();
  await Promise.all([...streams, last]);
});

test("lists and subtasks: a subtask takes its parent's list, a move carries the subtree", { skip }, async () => {
  const organiser = apiWith(env.TASKAPI_ARBORIST_TOKEN ?? "");
  const newList = (name: string): Promise<Schemas["ListRead"]> =>
    send(organiser, "/api/lists", "POST", { name } satisfies Schemas["ListCreate"]);
  const [home, work] = [await newList("home"), await newList("work")];
  const plan = ok(await organiser.tasks.create({ title: "plan", list_id: home.id }));
  const step = ok(await organiser.tasks.create({ title: "step", parent_id: plan.id }));
  assert.equal(step.list_id, home.id);
  ok(await organiser.tasks.create({ title: "detail", parent_id: step.id, is_completed: true }));
  const astray = await organiser.fetch("/api/tasks", {
    method: "POST",
    body: { title: "astray", parent_id: plan.id, list_id: work.id } satisfies TaskCreate,
  });
  assert.equal(astray.status, 400);
  assert.equal(((await astray.json()) as ApiError).error_code, "SUBTASK_LIST_MISMATCH");

  const to: Schemas["TaskMove"] = { list_id: work.id, place: "first" };
  const moved = await send<Task>(organiser, `/api/tasks/${plan.id}/move`, "POST", to);
  assert.equal(moved.list_id, work.id);
  const inWork = ok(await organiser.tasks.list({ list: work.id, sort: "position" }));
  assert.deepEqual(inWork.map((task) => task.title).sort(), ["detail", "plan", "step"]);
  const steps = ok(await organiser.tasks.list({ parent: plan.id }));
  assert.deepEqual(steps.map((task) => [task.title, task.list_id]), [["step", work.id]]);
  const counts = (await send<Schemas["ListRead"][]>(organiser, "/api/lists", "GET")).map(
    (list) => [list.name, list.task_count, list.open_task_count],
  );
  assert.deepEqual(counts, [["home", 0, 0], ["work", 3, 2]]);
  await send<null>(organiser, `/api/lists/${home.id}`, "DELETE");
});

test("lists, move and batch: typed calls, ETags, and an atomic batch", { skip }, async () => {
  const api = apiWith(env.TASKAPI_ORGANISER_TOKEN ?? "");
  const home = ok(await api.lists.create({ name: "Home", color: "#22AA66" }));
  assert.equal(home.color, "#22aa66");
  const work = ok(await api.lists.create({ name: "Work" }));
  ok(await api.lists.move(work.id, { place: "first" }));
  assert.deepEqual(ok(await api.lists.list()).map((list) => list.name), ["Work", "Home"]);
  const stale = await api.lists.update(home.id, { name: "Old" }, { ifMatch: '"0"' });
  expectError(stale, 412, "PRECONDITION_FAILED");
  const renamed = ok(await api.lists.update(home.id, { name: "House" }, { ifMatch: home.etag }));
  assert.equal(ok(await api.lists.get(home.id)).name, renamed.name);

  const [a, b] = [ok(await api.tasks.create({ title: "a", list_id: home.id })), ok(await api.tasks.create({ title: "b", list_id: home.id }))];
  assert.ok(a && b);
  ok(await api.tasks.move(b.id, { before: a.id }));
  const order = ok(await api.tasks.list({ list: home.id, sort: "position" })).map((task) => task.title);
  assert.deepEqual(order, ["b", "a"]);
  expectError(await api.tasks.move(a.id, { parent_id: a.id }), 400, "PARENT_IS_SELF");

  const tempId = crypto.randomUUID(); // a later operation names the created task by it
  const batch = ok(
    await api.tasks.batch({
      operations: [
        { op: "create", temp_id: tempId, task: { title: "c", list_id: home.id } },
        { op: "complete", id: a.id },
        { op: "move", id: tempId, to: { place: "first" } },
      ],
    }),
  );
  assert.deepEqual(batch.results.map((result) => result.op), ["create", "complete", "move"]);
  // All or none: a failing operation leaves the list as it was.
  const refused = await api.tasks.batch({ operations: [{ op: "create", task: { title: "d" } }, { op: "delete", id: home.id }] });
  assert.equal(refused.kind, "error");
  const titles = ok(await api.tasks.list({ list: home.id, sort: "position" })).map((task) => task.title);
  assert.deepEqual(titles, ["c", "b", "a"]);

  expectError(await api.lists.delete(home.id), 409, "LIST_NOT_EMPTY");
  ok(await api.lists.delete(work.id));
  expectError(await api.lists.get(work.id), 404, "LIST_NOT_FOUND");
});
