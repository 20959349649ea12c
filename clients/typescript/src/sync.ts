// sync(store): bring a local copy up to date from GET /api/tasks/changes, from the token the
// store kept; a token too old for the server (410 SYNC_TOKEN_EXPIRED) means a full re-read.
import { readError, type HttpCore } from "./http.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import { TaskApiError, type Changes, type Task } from "./types.js";

export interface SyncBatch {
  /** Tasks created or changed: upsert by id. */
  tasks: Task[];
  /** Ids of deleted tasks: remove them. */
  deleted: string[];
  /** Keep it with the tasks: the next sync starts from it. */
  nextToken: string;
  /** This batch starts a full read (no token yet, or it expired): drop every task first. */
  reset: boolean;
}

/** Where the local copy lives: a Map, IndexedDB, a React store... */
export interface SyncStore {
  /** The `nextToken` of the last batch applied, or null before the first sync. */
  getSyncToken(): string | null | Promise<string | null>;
  /** Apply the batch and keep its `nextToken`, together (in one transaction if you can). */
  applyChanges(batch: SyncBatch): void | Promise<void>;
}

export interface SyncOptions {
  /** Changes per request, 1 to 500 (server default 100). */
  limit?: number;
  signal?: AbortSignal | undefined;
}

export interface SyncResult {
  /** Tasks upserted and ids deleted, over every batch. */
  tasks: number;
  deleted: number;
  /** A full read was made (first sync, or SYNC_TOKEN_EXPIRED). */
  reset: boolean;
  token: string;
}

export async function syncStore(
  http: HttpCore,
  retry: RetryPolicy,
  store: SyncStore,
  options: SyncOptions = {},
): Promise<SyncResult> {
  let since = await store.getSyncToken();
  const result: SyncResult = { tasks: 0, deleted: 0, reset: since === null, token: since ?? "" };
  let reset = since === null;
  for (;;) {
    const query = { since, limit: options.limit };
    const response = await withRetries(retry, options.signal, () =>
      http.send("/api/tasks/changes", { query, signal: options.signal }),
    );
    if (!response.ok) {
      const error = await readError(response);
      if (error.error_code === "SYNC_TOKEN_EXPIRED" && since !== null) {
        since = null;
        reset = result.reset = true;
        continue;
      }
      throw new TaskApiError(error, response);
    }
    const changes = (await response.json()) as Changes;
    await store.applyChanges({
      tasks: changes.tasks,
      deleted: changes.deleted,
      nextToken: changes.next_token,
      reset,
    });
    reset = false;
    result.tasks += changes.tasks.length;
    result.deleted += changes.deleted.length;
    since = result.token = changes.next_token;
    if (!changes.has_more) return result;
  }
}

/** A store in memory: enough for a script, a test, or the state behind a React hook. */
export class MemoryStore implements SyncStore {
  readonly tasks = new Map<string, Task>();
  token: string | null = null;

  getSyncToken(): string | null {
    return this.token;
  }

  applyChanges(batch: SyncBatch): void {
    if (batch.reset) this.tasks.clear();
    for (const task of batch.tasks) this.tasks.set(task.id, task);
    for (const id of batch.deleted) this.tasks.delete(id);
    this.token = batch.nextToken;
  }
}
