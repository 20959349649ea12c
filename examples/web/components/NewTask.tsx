"use client";
import { useState, type FormEvent } from "react";
import type { TaskApi } from "@taskapi/client";
import { runCall, type Notices } from "@/lib/calls";
import type { ListKey } from "@/lib/query";

interface Props {
  api: TaskApi;
  notices: Notices;
  listKey: ListKey;
  parentId: string | null;
  onCreated: () => void;
}

export function NewTask({ api, notices, listKey, parentId, onCreated }: Props) {
  const [title, setTitle] = useState("");
  const label = parentId === null ? "New task" : "New subtask";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (title.trim() === "") return;
    const list_id = listKey === "none" ? null : listKey;
    // The SDK adds an Idempotency-Key and retries safely on network errors, 429 and 503.
    const result = await runCall(notices, () => api.tasks.create({ title, list_id, parent_id: parentId }));
    if (result?.kind === "ok") {
      setTitle("");
      onCreated();
    }
  };
  return (
    <form onSubmit={submit} className="new-task">
      <input value={title} onChange={(e) => setTitle(e.target.value)} placeholder={`${label}…`} aria-label={label} />
      <button type="submit">Add</button>
    </form>
  );
}
