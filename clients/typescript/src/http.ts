// The one place requests are made: the bearer token (fetched once, refreshed once on
// TOKEN_EXPIRED), query strings, the error envelope, and the waits of a retry.
import type { ApiError, Failed, Result } from "./types.js";

/** Returns a current bearer token: Better Auth's `(await authClient.token()).data.token`.
 * Called on the first request and again when the API answers 401 `TOKEN_EXPIRED`. */
export type GetToken = () => string | Promise<string>;

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Readonly<Record<string, QueryValue>>;

export interface RequestOptions {
  method?: string;
  query?: Query | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** The token, fetched once and shared by concurrent requests; after a `TOKEN_EXPIRED`, one
 * fresh token for every request that held the expired one. */
export class TokenSource {
  #getToken: GetToken;
  #current: Promise<string> | null = null;

  constructor(getToken: GetToken) {
    this.#getToken = getToken;
  }

  get(): Promise<string> {
    if (this.#current === null) {
      const pending = Promise.resolve().then(this.#getToken);
      // A failed fetch is not kept: the next request asks again.
      pending.catch(() => {
        if (this.#current === pending) this.#current = null;
      });
      this.#current = pending;
    }
    return this.#current;
  }

  /** A new token unless another request already replaced `expired`. */
  async refresh(expired: string): Promise<string> {
    const current = await this.get().catch(() => null);
    if (current === expired) this.#current = null;
    return this.get();
  }
}

export class HttpCore {
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, getToken: GetToken, fetchImpl: typeof fetch | undefined) {
    this.baseUrl = baseUrl;
    this.tokens = new TokenSource(getToken);
    // Bound, so a browser's fetch is never called with the SDK as `this`.
    this.#fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string, query?: Query): URL {
    const url = new URL(path, this.baseUrl);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) {
        url.searchParams.append(name, String(item));
      }
    }
    return url;
  }

  /** One authenticated request; a 401 `TOKEN_EXPIRED` gets a fresh token and one retry. */
  async send(target: string | URL, options: RequestOptions = {}): Promise<Response> {
    const url = typeof target === "string" ? this.url(target, options.query) : target;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const attempt = async (token: string): Promise<Response> => {
      const headers: Record<string, string> = {
        Accept: "application/json",
        ...options.headers,
        Authorization: `Bearer ${token}`,
      };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const init: RequestInit = { method: options.method ?? "GET", headers };
      if (body !== undefined) init.body = body;
      if (options.signal !== undefined) init.signal = options.signal;
      return this.#fetch(url, init);
    };
    const token = await this.tokens.get();
    const response = await attempt(token);
    if (response.status === 401 && (await errorCodeOf(response)) === "TOKEN_EXPIRED") {
      return attempt(await this.tokens.refresh(token));
    }
    return response;
  }

  async result<T>(target: string | URL, options: RequestOptions = {}): Promise<Result<T>> {
    return toResult<T>(await this.send(target, options));
  }
}

async function errorCodeOf(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.clone().json();
    return isEnvelope(body) ? body.error_code : null;
  } catch {
    return null;
  }
}

export async function toResult<T>(response: Response): Promise<Result<T>> {
  if (response.ok) {
    const text = await response.text();
    return { kind: "ok", data: (text === "" ? null : JSON.parse(text)) as T, response };
  }
  return failed(response);
}

export async function failed(response: Response): Promise<Failed> {
  return { kind: "error", error: await readError(response), response };
}

/** The typed envelope of an error answer; anything else becomes `UNEXPECTED_RESPONSE`. */
export async function readError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  const retryAfter = retryAfterSeconds(response);
  try {
    const body: unknown = JSON.parse(text);
    if (isEnvelope(body)) {
      return { ...body, status_code: response.status, retryAfter } as ApiError;
    }
  } catch {
    // not JSON: reported below
  }
  const detail = `HTTP ${response.status} without the API's error envelope: ${text.slice(0, 200)}`;
  return { error_code: "UNEXPECTED_RESPONSE", detail, status_code: response.status, retryAfter };
}

function isEnvelope(body: unknown): body is { error_code: string; detail: string } {
  return (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { error_code?: unknown }).error_code === "string" &&
    typeof (body as { detail?: unknown }).detail === "string"
  );
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(response: Response): number | null {
  const value = response.headers.get("Retry-After")?.trim();
  if (value === undefined || value === "") return null;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Exponential back-off with full jitter: 0..min(max, base * 2^attempt) milliseconds, never
 * below `floor` (a server's Retry-After). */
export function backoff(attempt: number, baseMs: number, maxMs: number, floorMs = 0): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.max(floorMs, Math.round(ceiling / 2 + (Math.random() * ceiling) / 2));
}

/** A network failure (not an abort): what `fetch` throws when no answer came. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}

/** The absolute URL of `Link: <...>; rel="next"`, resolved against the response's own URL. */
export function nextPageUrl(response: Response): URL | null {
  for (const part of response.headers.get("Link")?.split(",") ?? []) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (match?.[1] !== undefined) return new URL(match[1], response.url);
  }
  return null;
}

/** A random UUID (v4), also where `crypto.randomUUID` is missing (a page served over http). */
export function randomKey(): string {
  if (typeof globalThis.crypto.randomUUID === "function") return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
