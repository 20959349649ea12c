// The shapes the SDK hands out. Everything here is derived from the generated `schema.ts`
// (scripts/openapi), so a new field or error code reaches the types with the next regeneration.
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Task = Schemas["TaskRead"];
export type TaskCreate = Schemas["TaskCreate"];
export type TaskUpdate = Schemas["TaskUpdate"];
export type Tag = Schemas["TagRead"];
export type Changes = Schemas["ChangesRead"];
/** A list of tasks (`/api/lists`); named so as not to shadow the DOM's or Array's names. */
export type TaskList = Schemas["ListRead"];
export type ListCreate = Schemas["ListCreate"];
export type ListUpdate = Schemas["ListUpdate"];
export type ListMove = Schemas["ListMove"];
export type TaskMove = Schemas["TaskMove"];
export type BatchRequest = Schemas["BatchRequest"];
export type BatchResult = Schemas["BatchResult"];
/** Every `error_code` the API documents: generated from the OpenAPI document. */
export type ErrorCode = Schemas["ErrorCode"];
/** What the SDK reports when an answer is not the API's JSON envelope (a proxy's HTML 502). */
export type UnexpectedResponseCode = "UNEXPECTED_RESPONSE";

type QueryOf<Operation> = Operation extends { parameters: { query?: infer Q } }
  ? NonNullable<Q>
  : never;
export type TaskListQuery = QueryOf<paths["/api/tasks"]["get"]>;
export type TagListQuery = QueryOf<paths["/api/tags"]["get"]>;

/** The error envelope for one code; `retryAfter` is the `Retry-After` header in seconds. */
export interface ApiErrorOf<Code extends ErrorCode | UnexpectedResponseCode> {
  error_code: Code;
  detail: string;
  status_code: number;
  retryAfter: number | null;
}

/** Any error, discriminated on `error_code`: `switch (error.error_code)` narrows it. */
export type ApiError = {
  [Code in ErrorCode | UnexpectedResponseCode]: ApiErrorOf<Code>;
}[ErrorCode | UnexpectedResponseCode];

/** A 2xx answer and its body (`null` for a 204). */
export interface Ok<T> {
  kind: "ok";
  data: T;
  response: Response;
}
/** A 304 to `If-None-Match`: the copy you hold is current. There is no body to read. */
export interface NotModified {
  kind: "not_modified";
  response: Response;
}
/** An error answer, with the envelope typed. */
export interface Failed {
  kind: "error";
  error: ApiError;
  response: Response;
}
/** `updateIfUnchanged` / `deleteIfUnchanged`: someone changed the task first; nothing was
 * written, and `current` is the task as the server now has it. */
export interface Conflict {
  kind: "conflict";
  current: Task;
  error: ApiErrorOf<"PRECONDITION_FAILED">;
  response: Response;
}

export type Result<T> = Ok<T> | Failed;

/** Thrown where a result cannot be returned (iterators, the event stream): carries the
 * typed envelope. */
export class TaskApiError extends Error {
  readonly error: ApiError;
  readonly response: Response | null;

  constructor(error: ApiError, response: Response | null = null) {
    super(`${error.status_code} ${error.error_code}: ${error.detail}`);
    this.name = "TaskApiError";
    this.error = error;
    this.response = response;
  }
}
