// createTaskApi({ baseUrl, getToken }): one object with every call and helper.
import { streamEvents, type EventsOptions } from "./events.js";
import {
  HttpCore,
  randomKey,
  toResult,
  type GetToken,
  type Query,
  type RequestOptions,
} from "./http.js";
import { listsApi, taskMoves, type ListsApi, type TaskMoves } from "./lists.js";
import { cursorQuery, walkPages, type PageOptions } from "./pages.js";
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from "./retry.js";
import { syncStore, type SyncOptions, type SyncResult, type SyncStore } from "./sync.js";
import type {
  ApiErrorOf,
  Changes,
  Conflict,
  Failed,
  NotModified,
  Ok,
  Result,
  Tag,
  TagListQuery,
  Task,
  TaskCreate,
  TaskListQuery,
  TaskUpdate,
} from "./types.js";

export interface TaskApiOptions {
  /** The API's origin, e.g. "https://api.example.com". */
  baseUrl: string;
  /** A current bearer token (Better Auth: `(await authClient.token()).data.token`). Asked
   * for once, then again only when the API answers 401 `TOKEN_EXPIRED` (one retry). */
  getToken: GetToken;
  /** Retries of reads and creates on network errors, 429 and 503 (`DEFAULT_RETRY`). */
  retry?: Partial<RetryPolicy>;
  /** Another fetch (a test double, Next.js' fetch with cache options...). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}
export interface CreateOptions extends CallOptions {
  /** Made when the user acted and kept with the pending write, so a retry after a reload is
   * still the same create; a fresh UUID when left out. */
  idempotencyKey?: string;
}
export interface ConditionalOptions extends CallOptions {
  /** Write only if the task is still at this version (its `etag`), else 412. */
  ifMatch?: string;
}
export interface GetOptions extends CallOptions {
  /** The `etag` of the copy you hold: a 304 (`kind: "not_modified"`) if it is current. */
  ifNoneMatch?: string;
}

export interface TaskApi {
  tasks: TaskMoves & {
    /** One page of the caller's tasks. */
    list(query?: TaskListQuery, options?: CallOptions): Promise<Result<Task[]>>;
    /** Every page of a query, following `Link` with every parameter kept (a cursor walk
     * unless you pass `offset`). Throws `TaskApiError` on an error. */
    pages(query?: TaskListQuery, options?: PageOptions): AsyncGenerator<Ok<Task[]>, void>;
    /** Every task of a query, page after page. */
    iterate(query?: TaskListQuery, options?: PageOptions): AsyncGenerator<Task, void>;
    get(taskId: string, options?: GetOptions): Promise<Result<Task> | NotModified>;
    /** Create with an `Idempotency-Key`, retried on network errors, 429 and 503: never twice. */
    create(task: TaskCreate, options?: CreateOptions): Promise<Result<Task>>;
    update(taskId: string, patch: TaskUpdate, options?: ConditionalOptions): Promise<Result<Task>>;
    delete(taskId: string, options?: ConditionalOptions): Promise<Result<null>>;
    /** PUT with `If-Match: task.etag`; if someone changed it first, nothing is written and
     * the result is a `Conflict` carrying the server's current task. */
    updateIfUnchanged(task: Task, patch: TaskUpdate, options?: CallOptions): Promise<Ok<Task> | Conflict | Failed>;
    /** DELETE with `If-Match: task.etag`, likewise. */
    deleteIfUnchanged(task: Task, options?: CallOptions): Promise<Ok<null> | Conflict | Failed>;
  };
  /** The caller's lists (`/api/lists`). */
  lists: ListsApi;
  tags: {
    list(query?: TagListQuery, options?: CallOptions): Promise<Result<Tag[]>>;
    pages(query?: TagListQuery, options?: PageOptions): AsyncGenerator<Ok<Tag[]>, void>;
  };
  /** One page of GET /api/tasks/changes. */
  changes(since?: string | null, options?: CallOptions & { limit?: number }): Promise<Result<Changes>>;
  /** Bring `store` up to date from its token (see `SyncStore`). */
  sync(store: SyncStore, options?: SyncOptions): Promise<SyncResult>;
  /** Follow the live stream until `signal` aborts (then resolves); rejects with
   * `TaskApiError` only when retrying cannot help (e.g. `INVALID_SYNC_TOKEN`). */
  events(options: EventsOptions): Promise<void>;
  /** Any other request, with the bearer token and its refresh: for endpoints newer than
   * this SDK. */
  fetch(path: string, init?: RequestOptions): Promise<Response>;
}

export function createTaskApi(options: TaskApiOptions): TaskApi {
  const http = new HttpCore(options.baseUrl, options.getToken, options.fetch);
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const taskPath = (id: string): string => `/api/tasks/${encodeURIComponent(id)}`;
  const read = async <T>(path: string, query: Query | undefined, call: CallOptions = {}) =>
    toResult<T>(await withRetries(retry, call.signal, () => http.send(path, { query, signal: call.signal })));

  async function get(taskId: string, call: GetOptions = {}): Promise<Result<Task> | NotModified> {
    const headers: Record<string, string> = {};
    if (call.ifNoneMatch !== undefined) headers["If-None-Match"] = call.ifNoneMatch;
    const response = await withRetries(retry, call.signal, () =>
      http.send(taskPath(taskId), { headers, signal: call.signal }),
    );
    return response.status === 304 ? { kind: "not_modified", response } : toResult<Task>(response);
  }

  function write<T>(method: string, taskId: string, body: unknown, call: ConditionalOptions) {
    const headers: Record<string, string> = {};
    if (call.ifMatch !== undefined) headers["If-Match"] = call.ifMatch;
    return http.result<T>(taskPath(taskId), { method, body, headers, signal: call.signal });
  }

  /** A 412 becomes a Conflict with the task as the server has it now. */
  async function orConflict<T>(result: Result<T>, taskId: string, call: CallOptions) {
    if (result.kind === "ok" || result.error.error_code !== "PRECONDITION_FAILED") return result;
    const current = await get(taskId, call);
    if (current.kind !== "ok") return current.kind === "error" ? current : result;
    const error = result.error as ApiErrorOf<"PRECONDITION_FAILED">;
    const conflict: Conflict = { kind: "conflict", current: current.data, error, response: result.response };
    return conflict;
  }

  async function* iterate(query: TaskListQuery = {}, call: PageOptions = {}) {
    for await (const page of walkPages<Task>(http, retry, "/api/tasks", cursorQuery(query), call)) {
      yield* page.data;
    }
  }

  return {
    lists: listsApi(http, retry),
    tasks: {
      ...taskMoves(http, retry),
      list: (query, call) => read<Task[]>("/api/tasks", query, call),
      pages: (query = {}, call) => walkPages<Task>(http, retry, "/api/tasks", cursorQuery(query), call),
      iterate,
      get,
      async create(task, call = {}) {
        const key = call.idempotencyKey ?? randomKey();
        const send = () =>
          http.send("/api/tasks", {
            method: "POST",
            body: task,
            headers: { "Idempotency-Key": key },
            signal: call.signal,
          });
        return toResult<Task>(await withRetries(retry, call.signal, send));
      },
      update: (taskId, patch, call = {}) => write<Task>("PUT", taskId, patch, call),
      delete: (taskId, call = {}) => write<null>("DELETE", taskId, undefined, call),
      async updateIfUnchanged(task, patch, call = {}) {
        const result = await write<Task>("PUT", task.id, patch, { ...call, ifMatch: task.etag });
        return orConflict(result, task.id, call);
      },
      async deleteIfUnchanged(task, call = {}) {
        const result = await write<null>("DELETE", task.id, undefined, { ...call, ifMatch: task.etag });
        return orConflict(result, task.id, call);
      },
    },
    tags: {
      list: (query, call) => read<Tag[]>("/api/tags", query, call),
      pages: (query = {}, call) => walkPages<Tag>(http, retry, "/api/tags", query, call),
    },
    changes: (since, call = {}) => read<Changes>("/api/tasks/changes", { since, limit: call.limit }, call),
    sync: (store, call) => syncStore(http, retry, store, call),
    events: (call) => streamEvents(http, call),
    fetch: (path, init) => http.send(path, init),
  };
}
