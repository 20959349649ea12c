// What a live server cannot easily be made to do: a silent stream, `close` TOKEN_EXPIRED,
// answers that are not the API's envelope, SSE split at awkward places. Local fake servers.
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { test } from "node:test";
import { SseParser, createTaskApi, retryAfterSeconds, type TaskEvent } from "@taskapi/client";
import { sendJson, until, withServer } from "./support.js";

test("SSE: CRLF split across chunks, comments, multi-line data, no id", () => {
  const parser = new SseParser();
  const chunks = ["event: ready\r", "\nid: t1\r\ndata: {\"a\":", "1}\r\n\r\n: heartbeat\n\n", "data: x\ndata: y\n\n"];
  const messages = chunks.flatMap((chunk) => parser.push(chunk));
  assert.deepEqual(messages, [
    { event: "ready", data: '{"a":1}', id: "t1" },
    { event: "message", data: "x\ny", id: null },
  ]);
});

test("Retry-After: seconds or an HTTP date", () => {
  const at = (value: string) => retryAfterSeconds(new Response(null, { headers: { "Retry-After": value } }));
  assert.equal(at("7"), 7);
  assert.ok((at(new Date(Date.now() + 60_000).toUTCString()) ?? 0) > 50);
  assert.equal(at("soon"), null);
});

test("a silent stream is dropped after the heartbeat timeout and resumed from the last id", async () => {
  const requests: (string | undefined)[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.headers["last-event-id"] as string | undefined);
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.write(`event: ready\nid: t${requests.length}\ndata: {}\n\n`); // then nothing
  };
  const events: TaskEvent[] = [];
  const stop = new AbortController();
  await withServer(handler, async (baseUrl) => {
    const api = createTaskApi({ baseUrl, getToken: () => "token" });
    const running = api.events({ onEvent: (e) => void events.push(e), signal: stop.signal, heartbeatTimeoutMs: 200, baseDelayMs: 10, maxDelayMs: 20 });
    await until(() => requests.length >= 3);
    stop.abort();
    await running;
  });
  assert.deepEqual(requests.slice(0, 3), [undefined, "t1", "t2"]);
});

test("close TOKEN_EXPIRED: a fresh token, and the stream goes on from where it was", async () => {
  const seen: { auth: string | undefined; lastEventId: string | undefined }[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    seen.push({ auth: request.headers.authorization, lastEventId: request.headers["last-event-id"] as string | undefined });
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.write("event: ready\nid: r1\ndata: {}\n\n");
    if (seen.length === 1) {
      response.end('event: close\ndata: {"error_code":"TOKEN_EXPIRED","detail":"expired"}\n\n');
    }
  };
  let issued = 0;
  const stop = new AbortController();
  await withServer(handler, async (baseUrl) => {
    const api = createTaskApi({ baseUrl, getToken: () => `token-${++issued}` });
    const running = api.events({ onEvent: () => undefined, signal: stop.signal });
    await until(() => seen.length === 2);
    stop.abort();
    await running;
  });
  assert.deepEqual(seen, [
    { auth: "Bearer token-1", lastEventId: undefined },
    { auth: "Bearer token-2", lastEventId: "r1" },
  ]);
});

test("an answer that is not the API's envelope is UNEXPECTED_RESPONSE, typed", async () => {
  const handler = (_: IncomingMessage, response: ServerResponse) => {
    response.writeHead(502, { "Content-Type": "text/html" });
    response.end("<h1>Bad gateway</h1>");
  };
  const result = await withServer(handler, (baseUrl) =>
    createTaskApi({ baseUrl, getToken: () => "t", retry: { attempts: 1 } }).tasks.list(),
  );
  assert.equal(result.kind, "error");
  if (result.kind === "error") {
    assert.equal(result.error.error_code, "UNEXPECTED_RESPONSE");
    assert.equal(result.error.status_code, 502);
    assert.match(result.error.detail, /Bad gateway/);
  }
});

test("concurrent requests that meet TOKEN_EXPIRED share one refresh", async () => {
  let asked = 0;
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers.authorization === "Bearer token-1") {
      return sendJson(response, 401, { detail: "expired", error_code: "TOKEN_EXPIRED", status_code: 401 });
    }
    sendJson(response, 200, []);
  };
  await withServer(handler, async (baseUrl) => {
    const api = createTaskApi({ baseUrl, getToken: async () => `token-${++asked}` });
    const results = await Promise.all([api.tasks.list(), api.tasks.list(), api.tasks.list()]);
    assert.deepEqual(results.map((r) => r.kind), ["ok", "ok", "ok"]);
  });
  assert.equal(asked, 2);
});
