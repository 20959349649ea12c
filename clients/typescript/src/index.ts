// taskapi's typed client: the types come from docs/openapi.json (src/schema.d.ts, generated
// by `scripts/openapi`), the calls from openapi-fetch. Every call returns { data, error,
// response }: `error` is the API's error envelope, typed, with `error_code` a union of the
// stable codes.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";
export type Task = components["schemas"]["TaskRead"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type ErrorResponse = components["schemas"]["ErrorResponse"];
export type ErrorCode = components["schemas"]["ErrorCode"];
export type TaskApiClient = Client<paths>;

export interface TaskApiOptions {
  /** The API's origin, e.g. "https://api.example.com". */
  baseUrl: string;
  /** A current Better Auth JWT, e.g. `(await authClient.token()).data.token`; asked for on
   * every request, so the caller can refresh it before it expires (15 minutes by default). */
  getToken: () => string | Promise<string>;
  fetch?: typeof globalThis.fetch;
}

export function createTaskApiClient(options: TaskApiOptions): TaskApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const bearer: Middleware = {
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.getToken()}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

/** The absolute URL of the next page from a `Link: <...>; rel="next"` header, or null on the
 * last page. The link may be relative: it is resolved against the response's own URL, not
 * against the page's origin as a bare `fetch(link)` would. */
export function nextPageUrl(response: Response): URL | null {
  const link = response.headers.get("Link");
  for (const part of link?.split(",") ?? []) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (match?.[1] !== undefined) {
      return new URL(match[1], response.url);
    }
  }
  return null;
}

/** The query string of `GET /api/tasks`, as the generated types describe it. */
export type TaskListQuery = NonNullable<paths["/api/tasks"]["get"]["parameters"]["query"]>;

// The parameters a client repeats (`tag=a&tag=b`): arrays in TaskListQuery.
const REPEATED = new Set<string>(["priority", "tag"] satisfies (keyof TaskListQuery)[]);
const NUMBERS = new Set<string>(["limit", "offset"] satisfies (keyof TaskListQuery)[]);
// What the server reads as true (Pydantic's words), in a `completed` echoed back as sent.
const TRUE_WORDS = new Set(["1", "on", "t", "true", "y", "yes"]);

/** The whole query of the next page (every filter, the sort, the limit, and the `cursor` or
 * `offset`), for `client.GET("/api/tasks", { params: { query } })`; null on the last page.
 * Every parameter of the `Link` target is kept: dropping one would restart an unfiltered list. */
export function nextPageQuery(response: Response): TaskListQuery | null {
  const next = nextPageUrl(response);
  if (next === null) {
    return null;
  }
  const query: Record<string, string | number | boolean | string[]> = {};
  for (const name of new Set(next.searchParams.keys())) {
    const values = next.searchParams.getAll(name);
    if (REPEATED.has(name)) {
      query[name] = values;
    } else if (NUMBERS.has(name)) {
      query[name] = Number(values[0]);
    } else if (name === "completed") {
      query[name] = TRUE_WORDS.has((values[0] ?? "").toLowerCase());
    } else {
      query[name] = values[0] ?? "";
    }
  }
  return query as TaskListQuery;
}

/** Seconds to wait before retrying a 503 (`Retry-After`), or null. */
export function retryAfterSeconds(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}
