// Lists (/api/lists), moving a task (POST /api/tasks/{id}/move) and batches
// (POST /api/tasks/batch): typed from schema.ts like the task calls.
import { randomKey, toResult, type HttpCore } from "./http.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import type {
  BatchRequest,
  BatchResult,
  ListCreate,
  ListMove,
  ListUpdate,
  Result,
  Task,
  TaskList,
  TaskMove,
} from "./types.js";

interface Call {
  signal?: AbortSignal | undefined;
}
interface Conditional extends Call {
  ifMatch?: string;
}
interface Keyed extends Call {
  idempotencyKey?: string;
}

export interface ListsApi {
  /** The caller's lists in their order, archived ones included, with their counts. */
  list(options?: Call): Promise<Result<TaskList[]>>;
  get(listId: string, options?: Call): Promise<Result<TaskList>>;
  /** Create with an `Idempotency-Key`, retried like a task's create. */
  create(list: ListCreate, options?: Keyed): Promise<Result<TaskList>>;
  update(listId: string, patch: ListUpdate, options?: Conditional): Promise<Result<TaskList>>;
  /** `tasks: "delete"` deletes its tasks too; `moveTo` moves them to another list first;
   * neither: 409 `LIST_NOT_EMPTY` if it has any. */
  delete(listId: string, options?: Conditional & { tasks?: "delete"; moveTo?: string }): Promise<Result<null>>;
  move(listId: string, where: ListMove, options?: Conditional): Promise<Result<TaskList>>;
}

export interface TaskMoves {
  /** Move a task (and its subtasks): another parent, after/before a sibling, first or last. */
  move(taskId: string, where: TaskMove, options?: Conditional): Promise<Result<Task>>;
  /** Up to 100 operations in one transaction, all or none; retried safely with its key. */
  batch(request: BatchRequest, options?: Keyed): Promise<Result<BatchResult>>;
}

const ifMatch = (call: Conditional): Record<string, string> =>
  call.ifMatch === undefined ? {} : { "If-Match": call.ifMatch };

export function listsApi(http: HttpCore, retry: RetryPolicy): ListsApi {
  const listPath = (id: string): string => `/api/lists/${encodeURIComponent(id)}`;
  return {
    list: async (call = {}) =>
      toResult<TaskList[]>(await withRetries(retry, call.signal, () => http.send("/api/lists", { signal: call.signal }))),
    get: async (listId, call = {}) =>
      toResult<TaskList>(await withRetries(retry, call.signal, () => http.send(listPath(listId), { signal: call.signal }))),
    async create(list, call = {}) {
      const headers = { "Idempotency-Key": call.idempotencyKey ?? randomKey() };
      const send = () => http.send("/api/lists", { method: "POST", body: list, headers, signal: call.signal });
      return toResult<TaskList>(await withRetries(retry, call.signal, send));
    },
    update: (listId, patch, call = {}) =>
      http.result<TaskList>(listPath(listId), { method: "PUT", body: patch, headers: ifMatch(call), signal: call.signal }),
    delete: (listId, call = {}) =>
      http.result<null>(listPath(listId), {
        method: "DELETE",
        query: { tasks: call.tasks, move_to: call.moveTo },
        headers: ifMatch(call),
        signal: call.signal,
      }),
    move: (listId, where, call = {}) =>
      http.result<TaskList>(`${listPath(listId)}/move`, {
        method: "POST",
        body: where,
        headers: ifMatch(call),
        signal: call.signal,
      }),
  };
}

export function taskMoves(http: HttpCore, retry: RetryPolicy): TaskMoves {
  return {
    move: (taskId, where, call = {}) =>
      http.result<Task>(`/api/tasks/${encodeURIComponent(taskId)}/move`, {
        method: "POST",
        body: where,
        headers: ifMatch(call),
        signal: call.signal,
      }),
    async batch(request, call = {}) {
      const headers = { "Idempotency-Key": call.idempotencyKey ?? randomKey() };
      const send = () => http.send("/api/tasks/batch", { method: "POST", body: request, headers, signal: call.signal });
      return toResult<BatchResult>(await withRetries(retry, call.signal, send));
    },
  };
}
