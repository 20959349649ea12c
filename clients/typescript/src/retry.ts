// Bounded retries for requests that are safe to repeat (reads, and creates that carry an
// Idempotency-Key): on a network error, 429 and 503, honouring Retry-After.
import { backoff, isNetworkError, retryAfterSeconds, sleep } from "./http.js";

export interface RetryPolicy {
  /** Tries in all, the first included (default 4). 1 turns retries off. */
  attempts: number;
  /** The first back-off when the server names no Retry-After, doubled each time (500). */
  baseDelayMs: number;
  /** The longest wait between tries (10,000): a Retry-After beyond it is not waited for, its
   * answer is returned instead. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };
const RETRYABLE_STATUSES = new Set([429, 503]);

export async function withRetries(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  call: () => Promise<Response>,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const last = attempt + 1 >= policy.attempts;
    let response: Response;
    try {
      response = await call();
    } catch (error) {
      if (last || !isNetworkError(error) || signal?.aborted) throw error;
      await sleep(backoff(attempt, policy.baseDelayMs, policy.maxDelayMs), signal);
      continue;
    }
    if (last || !RETRYABLE_STATUSES.has(response.status)) return response;
    const floorMs = (retryAfterSeconds(response) ?? 0) * 1000;
    if (floorMs > policy.maxDelayMs) return response;
    await response.body?.cancel();
    await sleep(backoff(attempt, policy.baseDelayMs, policy.maxDelayMs, floorMs), signal);
  }
}
