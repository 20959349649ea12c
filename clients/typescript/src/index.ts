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

/** The query of the next page, for `client.GET("/api/tasks", { params: { query } })`. */
export function nextPageQuery(response: Response): { limit: number; offset: number } | null {
  const next = nextPageUrl(response);
  if (next === null) {
    return null;
  }
  return {
    limit: Number(next.searchParams.get("limit")),
    offset: Number(next.searchParams.get("offset")),
  };
}

/** Seconds to wait before retrying a 503 (`Retry-After`), or null. */
export function retryAfterSeconds(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}
