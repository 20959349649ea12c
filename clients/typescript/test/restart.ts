// Run by backend/tests/ops/test_typescript_client.py as a plain script: a stream survives a
// server restart without missing an event. It prints "restart" and waits for a line on stdin;
// meanwhile pytest stops the server (SIGTERM: `event: close` SERVER_RESTARTING), creates a
// task through a second server on the same database, and starts the first one again.
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import type { TaskEvent } from "@taskapi/client";
import { apiWith, env, ok, until } from "./support.js";

const api = apiWith(env.TASKAPI_TOKEN ?? "");
const events: TaskEvent[] = [];
const disconnects: string[] = [];
const stop = new AbortController();
const running = api.events({
  onEvent: (event) => void events.push(event),
  onDisconnect: ({ reason }) => void disconnects.push(reason),
  signal: stop.signal,
  baseDelayMs: 200,
  maxDelayMs: 1_000,
});
const titles = (): string[] =>
  events.flatMap((event) => (event.type === "created" ? [event.task.title] : []));

await until(() => events.length === 1);
ok(await api.tasks.create({ title: "before the restart" }));
await until(() => titles().length === 1);

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
console.log("restart");
assert.equal((await lines.next()).value, "restarted");
stdin.close();

ok(await api.tasks.create({ title: "after the restart" }));
await until(() => titles().length === 3);
assert.deepEqual(titles(), ["before the restart", "while it was down", "after the restart"]);
assert.deepEqual(
  events.map((event) => event.type),
  ["ready", "created", "ready", "created", "created"],
);
assert.ok(disconnects.length >= 1, "the stream went down and came back");
stop.abort();
await running;
console.log("ok");
