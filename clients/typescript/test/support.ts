// Shared by the tests: env, waiting, and a throwaway HTTP server.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createTaskApi, type Result, type TaskApi } from "@taskapi/client";

export const env = process.env;
export const baseUrl = env.TASKAPI_URL ?? "";
export const needsServer = baseUrl === "" ? "needs TASKAPI_URL and tokens (run by pytest)" : false;

export function apiWith(token: string, url = baseUrl): TaskApi {
  return createTaskApi({ baseUrl: url, getToken: () => token });
}

/** The data of an ok result; fails the test with the error otherwise. */
export function ok<T>(result: Result<T> | { kind: string }): T {
  assert.equal(result.kind, "ok", JSON.stringify((result as { error?: unknown }).error));
  return (result as { data: T }).data;
}

export async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** A local HTTP server for the duration of `body`; its URL is passed in. */
export async function withServer<T>(handler: Handler, body: (url: string) => Promise<T>): Promise<T> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await body(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
