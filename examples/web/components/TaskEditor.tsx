"use client";
// Edit a task. The save is conditional on the version the editor opened (If-Match): if
// someone changed the task since, the API refuses (412) and the user chooses to reload
// their copy or to overwrite with their edit.
import { useState, type FormEvent } from "react";
import type { Task, TaskApi, TaskList, TaskUpdate } from "@taskapi/client";
import { describe, runCall, type Notices } from "@/lib/calls";

interface Props {
  api: TaskApi;
  notices: Notices;
  task: Task;
  lists: TaskList[];
  onClose: () => void;
  onSaved: () => void;
}

type Draft = { title: string; description: string; due: string; timed: boolean; priority: Task["priority"]; tags: string; list: string };

function draftOf(task: Task): Draft {
  const due = task.due_at ? toLocalInput(task.due_at) : (task.due_date ?? "");
  return {
    title: task.title,
    description: task.description ?? "",
    due,
    timed: task.due_at !== null,
    priority: task.priority,
    tags: task.tags.join(", "),
    list: task.list_id ?? "",
  };
}

function toLocalInput(iso: string): string {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function patchOf(draft: Draft): TaskUpdate {
  const dueAt = draft.timed && draft.due ? new Date(draft.due).toISOString() : null;
  return {
    title: draft.title,
    description: draft.description === "" ? null : draft.description,
    due_date: !draft.timed && draft.due ? draft.due : null,
    due_at: dueAt,
    priority: draft.priority,
    tags: draft.tags.split(",").map((tag) => tag.trim()).filter((tag) => tag !== ""),
    list_id: draft.list === "" ? null : draft.list,
  };
}

export function TaskEditor({ api, notices, task, lists, onClose, onSaved }: Props) {
  const [base, setBase] = useState(task);
  const [draft, setDraft] = useState(() => draftOf(task));
  const [conflict, setConflict] = useState<Task | null>(null);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft({ ...draft, [key]: value });

  const save = async (against: Task) => {
    const result = await runCall(notices, () => api.tasks.update(against.id, patchOf(draft), { ifMatch: against.etag }));
    if (result?.kind === "ok") onSaved();
  };
  // updateIfUnchanged returns a Conflict (not an error) for a 412: handled here, not by runCall.
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await api.tasks.updateIfUnchanged(base, patchOf(draft));
      if (result.kind === "conflict") setConflict(result.current);
      else if (result.kind === "ok") onSaved();
      // A 429 goes through runCall, which waits for Retry-After; other refusals are shown.
      else if (result.error.status_code === 429) await save(base);
      else notices.notify(describe(result.error));
    } catch {
      notices.setOffline("Cannot reach the task server. Your edit is kept here: save again later.");
    }
  };
  const reload = (current: Task) => {
    setBase(current);
    setDraft(draftOf(current));
    setConflict(null);
  };
  const overwrite = async (current: Task) => {
    setConflict(null);
    setBase(current);
    await save(current);
  };

  return (
    <div className="dialog" role="dialog" aria-label="Edit task">
      <form onSubmit={submit}>
        <label>Title <input value={draft.title} onChange={(e) => set("title", e.target.value)} aria-label="Title" /></label>
        <label>Description <textarea value={draft.description} onChange={(e) => set("description", e.target.value)} aria-label="Description" /></label>
        <label className="inline">
          <input type="checkbox" checked={draft.timed} onChange={(e) => setDraft({ ...draft, timed: e.target.checked, due: "" })} /> At a time
        </label>
        <label>Due <input type={draft.timed ? "datetime-local" : "date"} value={draft.due} onChange={(e) => set("due", e.target.value)} aria-label="Due" /></label>
        <label>
          Priority
          <select value={draft.priority} onChange={(e) => set("priority", e.target.value as Task["priority"])} aria-label="Priority of the task">
            <option value="none">None</option>
            <option value="low">Low</option>
            <option value="medium">Medium</option>
            <option value="high">High</option>
          </select>
        </label>
        <label>Tags <input value={draft.tags} onChange={(e) => set("tags", e.target.value)} placeholder="home, errands" aria-label="Tags" /></label>
        <label>
          List
          <select value={draft.list} onChange={(e) => set("list", e.target.value)} aria-label="List of the task">
            <option value="">Inbox</option>
            {lists.map((list) => <option key={list.id} value={list.id}>{list.name}</option>)}
          </select>
        </label>
        <div className="actions">
          <button type="submit">Save</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
      {conflict && (
        <div className="conflict" role="alertdialog" aria-label="Conflict" data-testid="conflict">
          <p>
            Someone changed this task while you were editing it (now “{conflict.title}”).
          </p>
          <button onClick={() => reload(conflict)}>Reload their version</button>
          <button onClick={() => void overwrite(conflict)}>Overwrite with mine</button>
        </div>
      )}
    </div>
  );
}
