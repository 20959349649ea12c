// Walking a paged list: follow `Link: rel="next"` as the server wrote it, so every filter,
// the sort and the limit stay exactly as they were, with the new cursor.
import { nextPageUrl, type HttpCore, type Query } from "./http.js";
import { withRetries, type RetryPolicy } from "./retry.js";
import { TaskApiError, type Ok } from "./types.js";
import { readError } from "./http.js";

export interface PageOptions {
  signal?: AbortSignal | undefined;
}

/** Each page of `path?query` in turn, with its response; throws `TaskApiError` on an error. */
export async function* walkPages<T>(
  http: HttpCore,
  retry: RetryPolicy,
  path: string,
  query: Query,
  options: PageOptions = {},
): AsyncGenerator<Ok<T[]>, void, undefined> {
  let url: URL | null = http.url(path, query);
  while (url !== null) {
    const target: URL = url;
    const response = await withRetries(retry, options.signal, () =>
      http.send(target, { signal: options.signal }),
    );
    if (!response.ok) throw new TaskApiError(await readError(response), response);
    const data = (await response.json()) as T[];
    yield { kind: "ok", data, response };
    url = nextPageUrl(response);
  }
}

/** The query of a walk: a cursor walk (`cursor=` on the first page) unless an `offset` was
 * asked for, since only a cursor walk never repeats or skips a task while others write. */
export function cursorQuery(query: Query): Query {
  const wantsOffset = query["offset"] !== undefined && query["offset"] !== null;
  return wantsOffset || query["cursor"] !== undefined ? query : { ...query, cursor: "" };
}
