"use client";
// components/RenameTask.tsx: write only over the version shown; on a conflict, show theirs.
import { useState } from "react";
import type { Task } from "@taskapi/client";
import { api } from "../lib/taskapi";

export function RenameTask({ task }: { task: Task }) {
  const [shown, setShown] = useState(task);
  async function rename(title: string) {
    const result = await api.tasks.updateIfUnchanged(shown, { title });
    if (result.kind === "ok") setShown(result.data);
    else if (result.kind === "conflict") setShown(result.current); // someone else was first
    else alert(result.error.detail);
  }
  return <input defaultValue={shown.title} key={shown.etag} onBlur={(e) => void rename(e.target.value)} />;
}
