// The whole flow against a live taskapi server with a real Better Auth token:
// backend/tests/test_typescript_client.py starts both servers and runs this with
//   TASKAPI_URL, TASKAPI_TOKEN (Better Auth), TASKAPI_USER_ID,
//   TASKAPI_OTHER_TOKEN (another user), TASKAPI_EXPIRED_TOKEN, TASKAPI_WALKER_TOKEN (a third).
// It leaves two tasks of TASKAPI_USER_ID ("second", "third (done)"), one of the other user,
// and the walker's seven (WALKER_TASKS).
import assert from "node:assert/strict";
import { test } from "node:test";
import createClient from "openapi-fetch";
import {
  createTaskApiClient,
  nextPageQuery,
  nextPageUrl,
  type ErrorCode,
  type ErrorResponse,
  type Task,
  type TaskApiClient,
  type TaskCreate,
  type TaskListQuery,
} from "../src/index.js";
import type { paths } from "../src/schema.js";

const env = process.env;
const baseUrl = env.TASKAPI_URL ?? "";
const skip = baseUrl === "" ? "needs TASKAPI_URL and tokens (run by pytest)" : false;

function clientWith(token: string): TaskApiClient {
  return createTaskApiClient({ baseUrl, getToken: () => token });
}

interface Failed {
  error?: ErrorResponse;
  response: Response;
}

/** The typed error envelope of a failed call: this status and this code. */
function expectError(result: Failed, status: number, code: ErrorCode): ErrorResponse {
  const { error, response } = result;
  assert.equal(response.status, status);
  assert.ok(error, `expected an error body for ${status}`);
  const typed: ErrorCode = error.error_code;
  assert.equal(typed, code);
  assert.equal(error.status_code, status);
  assert.ok(error.detail.length > 0);
  return error;
}

/** For what the typed client cannot express (a method or path that does not exist). */
async function rawError(path: string, init: RequestInit, status: number, code: ErrorCode) {
  const response = await fetch(new URL(path, baseUrl), init);
  const error = (await response.json()) as ErrorResponse;
  return { error: expectError({ error, response }, status, code), response };
}

test("create, list and follow Link, toggle, delete, and every error typed", { skip }, async () => {
  const alice = clientWith(env.TASKAPI_TOKEN ?? "");
  const other = clientWith(env.TASKAPI_OTHER_TOKEN ?? "");

  // Create with only a title: `is_completed` is optional in the generated types.
  const created: Task[] = [];
  for (const title of ["first", "second", "third"]) {
    const { data, response } = await alice.POST("/api/tasks", { body: { title } });
    assert.equal(response.status, 201);
    assert.ok(data);
    assert.equal(data.user_id, env.TASKAPI_USER_ID);
    assert.equal(data.is_completed, false);
    created.push(data);
  }
  const [first, , third] = created;
  assert.ok(first && third);

  // List two per page and follow the Link header to the end.
  const pages: string[][] = [];
  let query: TaskListQuery | null = { limit: 2, offset: 0 };
  while (query !== null) {
    const { data, response }: { data?: Task[]; response: Response } = await alice.GET(
      "/api/tasks",
      { params: { query } },
    );
    assert.equal(response.status, 200);
    assert.ok(data);
    pages.push(data.map((task) => task.title));
    const next = nextPageUrl(response);
    if (next !== null) {
      assert.equal(next.origin, new URL(baseUrl).origin);
    }
    query = nextPageQuery(response);
  }
  assert.deepEqual(pages, [["third", "second"], ["first"]]);

  // Toggle and rename.
  const toggled = await alice.PUT("/api/tasks/{task_id}", {
    params: { path: { task_id: third.id } },
    body: { is_completed: true, title: "third (done)" },
  });
  assert.equal(toggled.response.status, 200);
  assert.equal(toggled.data?.is_completed, true);

  // Delete: 204, no body, no Content-Type.
  const deleted = await alice.DELETE("/api/tasks/{task_id}", {
    params: { path: { task_id: first.id } },
  });
  assert.equal(deleted.response.status, 204);
  assert.equal(deleted.response.headers.get("Content-Type"), null);

  // Every error a client can cause, as the typed envelope.
  expectError(await alice.POST("/api/tasks", { body: { title: "" } }), 400, "VALIDATION_ERROR");
  expectError(
    await alice.POST("/api/tasks", { body: { title: "x" }, bodySerializer: () => "{" }),
    400,
    "MALFORMED_JSON",
  );
  const anonymous = createClient<paths>({ baseUrl });
  const missing = expectError(await anonymous.GET("/api/tasks"), 401, "NOT_AUTHENTICATED");
  assert.ok(missing.detail.includes("Authorization"));
  const invalid = await clientWith("not-a-jwt").GET("/api/tasks");
  expectError(invalid, 401, "INVALID_TOKEN");
  assert.equal(invalid.response.headers.get("WWW-Authenticate"), "Bearer");
  const expired = clientWith(env.TASKAPI_EXPIRED_TOKEN ?? "");
  expectError(await expired.GET("/api/tasks"), 401, "TOKEN_EXPIRED");

  const theirs = await other.POST("/api/tasks", { body: { title: "not alice's" } });
  assert.ok(theirs.data);
  const path = { task_id: theirs.data.id };
  expectError(await alice.GET("/api/tasks/{task_id}", { params: { path } }), 403, "TASK_FORBIDDEN");
  expectError(
    await alice.DELETE("/api/tasks/{task_id}", { params: { path: { task_id: first.id } } }),
    404,
    "TASK_NOT_FOUND",
  );
  expectError(
    await alice.POST("/api/tasks", { body: { title: "big", description: "x".repeat(70_000) } }),
    413,
    "PAYLOAD_TOO_LARGE",
  );
  expectError(
    await alice.POST("/api/tasks", {
      body: { title: "as text" },
      bodySerializer: (body) => JSON.stringify(body),
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
    }),
    415,
    "UNSUPPORTED_MEDIA_TYPE",
  );
  const notAllowed = await rawError("/api/tasks", { method: "PATCH" }, 405, "METHOD_NOT_ALLOWED");
  assert.equal(notAllowed.response.headers.get("Allow"), "GET, HEAD, POST");
  await rawError("/api/nothing-here", {}, 404, "NOT_FOUND");
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

test("a filtered, sorted walk by cursor keeps every parameter", { skip }, async () => {
  const walker = clientWith(env.TASKAPI_WALKER_TOKEN ?? "");
  for (const body of WALKER_TASKS) {
    assert.equal((await walker.POST("/api/tasks", { body })).response.status, 201);
  }
  const filters: TaskListQuery = {
    completed: false,
    priority: ["high", "medium"],
    tag: ["work"],
    due_after: "2026-11-30T00:00:00+01:00",
    q: "walk",
    sort: "due",
    limit: 1,
  };

  const pages: string[][] = [];
  const cursors = new Set<string>();
  let query: TaskListQuery | null = filters;
  while (query !== null && pages.length < 10) {
    const { data, response }: { data?: Task[]; response: Response } = await walker.GET(
      "/api/tasks",
      { params: { query } },
    );
    assert.equal(response.status, 200, JSON.stringify(data));
    assert.ok(data);
    pages.push(data.map((task) => task.title));
    query = nextPageQuery(response);
    if (query !== null) {
      // The next page's query is this one plus a fresh cursor: nothing dropped, no offset.
      const { cursor, ...rest } = query;
      assert.deepEqual(rest, filters);
      assert.ok(cursor && !cursors.has(cursor));
      cursors.add(cursor);
    }
  }
  assert.deepEqual(pages, [["walk 1"], ["walk 2"], ["walk 3"]]);
});
