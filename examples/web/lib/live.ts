"use client";
// Live updates: the SDK's event stream (fetch with the bearer header, resuming with
// Last-Event-ID after a drop), and after a disconnection a catch-up through the changes
// feed from the last token seen, so nothing missed while offline is left out.
import { useEffect, useRef } from "react";
import type { TaskApi } from "@taskapi/client";

export function useLiveUpdates(
  api: TaskApi,
  onChange: () => void,
  setLiveDown: (message: string | null) => void,
): void {
  const callbacks = useRef({ onChange, setLiveDown });
  callbacks.current = { onChange, setLiveDown };
  useEffect(() => {
    const stop = new AbortController();
    let lastToken: string | null = null;
    let wasDown = false;
    const catchUp = async (since: string | null) => {
      // Pull every page of changes since `since`: any change at all means re-reading the view.
      let token = since;
      for (;;) {
        const page = await api.changes(token, { signal: stop.signal });
        if (page.kind !== "ok") break;
        if (page.data.tasks.length > 0 || page.data.deleted.length > 0) callbacks.current.onChange();
        token = page.data.next_token;
        if (!page.data.has_more) break;
      }
      lastToken = token;
    };
    void api
      .events({
        signal: stop.signal,
        baseDelayMs: 500,
        maxDelayMs: 5_000,
        onDisconnect: ({ retryInMs }) => {
          wasDown = true;
          callbacks.current.setLiveDown(`Live updates paused: reconnecting in ${Math.ceil(retryInMs / 1000)} s…`);
        },
        onEvent: async (event) => {
          if (event.type === "ready") {
            callbacks.current.setLiveDown(null);
            if (wasDown) await catchUp(lastToken).catch(() => undefined);
            wasDown = false;
          } else if (event.type === "reset") {
            callbacks.current.onChange();
          } else {
            callbacks.current.onChange();
          }
          if ("id" in event) lastToken = event.id;
        },
      })
      .catch(() => callbacks.current.setLiveDown("Live updates stopped: reload the page."));
    const online = () => void catchUp(lastToken).catch(() => undefined);
    window.addEventListener("online", online);
    return () => {
      stop.abort();
      window.removeEventListener("online", online);
    };
  }, [api]);
}
