// events({ onEvent, signal }): GET /api/tasks/events over fetch (so the bearer header goes
// with it, which EventSource cannot do), resumed with Last-Event-ID after anything that ends
// the stream: a dropped connection, a silent one (no heartbeat), `event: close`, a restart.
import { backoff, readError, sleep, type HttpCore } from "./http.js";
import { SseParser, type SseMessage } from "./sse.js";
import { TaskApiError, type ApiError, type Task } from "./types.js";

export type TaskEvent =
  /** Connected; `id` is the token the stream resumes from. */
  | { type: "ready"; id: string }
  /** Upsert `task` (`created`: not changed since its creation). */
  | { type: "created" | "updated"; id: string; task: Task }
  /** Remove the task `taskId`. */
  | { type: "deleted"; id: string; taskId: string }
  /** The resume token is too old (SYNC_TOKEN_EXPIRED): events were lost. Re-read everything
   * (`sync` from no token); the stream goes on from now. */
  | { type: "reset"; error: ApiError };

export interface EventsOptions {
  onEvent: (event: TaskEvent) => void | Promise<void>;
  /** Abort to stop: `events()` then resolves. */
  signal?: AbortSignal | undefined;
  /** Resume after this token (a stored event `id`, or a sync's `nextToken`); else from now. */
  lastEventId?: string | null;
  /** No byte for this long (the server sends a heartbeat every 15 s) means a dead
   * connection: drop it and reconnect (45,000). */
  heartbeatTimeoutMs?: number;
  /** Back-off between reconnections: starts at `baseDelayMs` (1,000), doubles up to
   * `maxDelayMs` (30,000), never shorter than the server's Retry-After. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told each time the stream is down and when it will try again (for a status line). */
  onDisconnect?: (info: { reason: string; retryInMs: number }) => void;
}

// How a connection ended, and so what the next one does.
type Ending =
  | { next: "now" }
  | { next: "reset"; error: ApiError }
  | { next: "back-off"; reason: string; floorMs?: number }
  | { next: "refresh-token"; token: string };

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

class HeartbeatMissed extends Error {
  override name = "HeartbeatMissed";
}

export async function streamEvents(http: HttpCore, options: EventsOptions): Promise<void> {
  const heartbeatMs = options.heartbeatTimeoutMs ?? 45_000;
  const baseMs = options.baseDelayMs ?? 1_000;
  const maxMs = options.maxDelayMs ?? 30_000;
  const state = { lastEventId: options.lastEventId ?? null, failures: 0 };
  const { signal } = options;
  while (!signal?.aborted) {
    let ending: Ending;
    try {
      ending = await connectOnce(http, options, state, heartbeatMs);
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof TaskApiError) throw error;
      ending = { next: "back-off", reason: String(error) };
    }
    if (ending.next === "refresh-token") {
      await http.tokens.refresh(ending.token);
    } else if (ending.next === "reset") {
      state.lastEventId = null;
      await options.onEvent({ type: "reset", error: ending.error });
    } else if (ending.next === "back-off") {
      const retryInMs = backoff(state.failures++, baseMs, maxMs, ending.floorMs ?? 0);
      options.onDisconnect?.({ reason: ending.reason, retryInMs });
      try {
        await sleep(retryInMs, signal);
      } catch {
        return;
      }
    }
  }
}

async function connectOnce(
  http: HttpCore,
  options: EventsOptions,
  state: { lastEventId: string | null; failures: number },
  heartbeatMs: number,
): Promise<Ending> {
  const connection = new AbortController();
  const stop = (): void => connection.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    const token = await http.tokens.get();
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (state.lastEventId !== null) headers["Last-Event-ID"] = state.lastEventId;
    const response = await http.send("/api/tasks/events", { headers, signal: connection.signal });
    if (!response.ok || response.body === null) return await refused(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    let timer = setTimeout(() => connection.abort(new HeartbeatMissed()), heartbeatMs);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        clearTimeout(timer);
        if (done) return { next: "back-off", reason: "the stream ended" };
        timer = setTimeout(() => connection.abort(new HeartbeatMissed()), heartbeatMs);
        for (const message of parser.push(value)) {
          const ending = await deliver(message, options, state, token);
          if (ending !== null) return ending;
        }
      }
    } finally {
      clearTimeout(timer);
      reader.cancel().catch(() => undefined);
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    connection.abort();
  }
}

/** An error answer instead of a stream: wait, start over, or give up (`TaskApiError`). */
async function refused(response: Response): Promise<Ending> {
  const error = await readError(response);
  if (error.error_code === "SYNC_TOKEN_EXPIRED") return { next: "reset", error };
  if (RETRYABLE_STATUSES.has(response.status)) {
    const floorMs = (error.retryAfter ?? 0) * 1000;
    return { next: "back-off", reason: error.error_code, floorMs };
  }
  // INVALID_SYNC_TOKEN (a token of another user), INVALID_TOKEN, ...: retrying cannot help.
  throw new TaskApiError(error, response);
}

async function deliver(
  message: SseMessage,
  options: EventsOptions,
  state: { lastEventId: string | null; failures: number },
  token: string,
): Promise<Ending | null> {
  if (message.event === "close") return closed(JSON.parse(message.data) as ApiError, token);
  if (message.id === null) return null;
  const data = JSON.parse(message.data) as unknown;
  const id = message.id;
  if (message.event === "ready") {
    state.failures = 0;
    await options.onEvent({ type: "ready", id });
  } else if (message.event === "created" || message.event === "updated") {
    await options.onEvent({ type: message.event, id, task: data as Task });
  } else if (message.event === "deleted") {
    await options.onEvent({ type: "deleted", id, taskId: (data as { id: string }).id });
  }
  // An event type this version does not know still moves the resume point past it.
  state.lastEventId = id;
  return null;
}

/** `event: close`: the server ended the stream and said why. */
function closed(error: ApiError, token: string): Ending {
  switch (error.error_code) {
    case "TOKEN_EXPIRED":
      return { next: "refresh-token", token };
    case "SERVER_RESTARTING":
      // This process is going away; another (or its successor) takes the reconnection.
      return { next: "now" };
    case "SYNC_TOKEN_EXPIRED":
      return { next: "reset", error };
    default:
      return { next: "back-off", reason: error.error_code };
  }
}
