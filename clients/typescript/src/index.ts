// @taskapi/client: the taskapi SDK. See README.md.
export { createTaskApi } from "./client.js";
export type {
  CallOptions,
  ConditionalOptions,
  CreateOptions,
  GetOptions,
  TaskApi,
  TaskApiOptions,
} from "./client.js";
export type { EventsOptions, TaskEvent } from "./events.js";
export type { ListsApi, TaskMoves } from "./lists.js";
export { nextPageUrl, retryAfterSeconds } from "./http.js";
export type { GetToken, Query, QueryValue, RequestOptions } from "./http.js";
export type { PageOptions } from "./pages.js";
export { DEFAULT_RETRY } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
export { SseParser } from "./sse.js";
export type { SseMessage } from "./sse.js";
export { MemoryStore } from "./sync.js";
export type { SyncBatch, SyncOptions, SyncResult, SyncStore } from "./sync.js";
export { TaskApiError } from "./types.js";
export type * from "./types.js";
export type { components, paths } from "./schema.js";
