"use client";
// Every taskapi call from the UI goes through `runCall`: a 429 waits for Retry-After and
// tries again (a few times), a network failure raises the "API down" banner instead of
// breaking the page, and any other error is shown as the API worded it.
import type { ApiError, Failed, Ok } from "@taskapi/client";

export interface Notices {
  /** The API cannot be reached (null: it can). */
  setOffline(message: string | null): void;
  /** A short message for the user (a refused edit, a wait). */
  notify(message: string | null): void;
}

const MAX_WAITS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCall<T>(
  notices: Notices,
  call: () => Promise<Ok<T> | Failed>,
): Promise<Ok<T> | Failed | null> {
  for (let attempt = 0; ; attempt += 1) {
    let result: Ok<T> | Failed;
    try {
      result = await call();
    } catch {
      notices.setOffline("Cannot reach the task server. Your changes are not saved; retrying…");
      return null;
    }
    notices.setOffline(null);
    if (result.kind === "error" && result.error.status_code === 429 && attempt < MAX_WAITS) {
      const seconds = result.error.retryAfter ?? 1;
      notices.notify(`Too many requests: waiting ${seconds} s as the server asks…`);
      await sleep(seconds * 1000);
      notices.notify(null);
      continue;
    }
    if (result.kind === "error") notices.notify(describe(result.error));
    return result;
  }
}

export function describe(error: ApiError): string {
  switch (error.error_code) {
    case "TASK_NOT_FOUND":
      return "That task no longer exists.";
    case "RATE_LIMITED":
      return "Too many requests: try again in a moment.";
    default:
      return error.detail;
  }
}
