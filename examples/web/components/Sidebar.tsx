"use client";
// The lists: select, create, rename, delete. Deleting a list that has tasks offers what the
// API offers: delete its tasks with it (`?tasks=delete`) or move them to another list first
// (`?move_to=`); an empty list is simply deleted.
import { useState, type FormEvent } from "react";
import type { TaskApi, TaskList } from "@taskapi/client";
import { runCall, type Notices } from "@/lib/calls";
import type { ListKey } from "@/lib/query";

interface Props {
  api: TaskApi;
  notices: Notices;
  lists: TaskList[];
  selected: ListKey;
  onSelect: (key: ListKey) => void;
  onChanged: () => void;
}

export function Sidebar({ api, notices, lists, selected, onSelect, onChanged }: Props) {
  const [name, setName] = useState("");
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [moveTo, setMoveTo] = useState("");
  const shown = lists.filter((list) => !list.archived);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === "") return;
    const result = await runCall(notices, () => api.lists.create({ name }));
    if (result?.kind === "ok") {
      setName("");
      onSelect(result.data.id);
      onChanged();
    }
  };
  const rename = async (event: FormEvent, list: TaskList) => {
    event.preventDefault();
    if (renaming === null) return;
    const result = await runCall(notices, () => api.lists.update(list.id, { name: renaming.name }, { ifMatch: list.etag }));
    if (result?.kind === "ok") {
      setRenaming(null);
      onChanged();
    }
  };
  const remove = async (list: TaskList, how: { tasks?: "delete"; moveTo?: string }) => {
    const result = await runCall(notices, () => api.lists.delete(list.id, how));
    if (result?.kind === "ok") {
      setDeleting(null);
      if (selected === list.id) onSelect(how.moveTo ?? "none");
      onChanged();
    }
  };
  const startDelete = (list: TaskList) => {
    setRenaming(null);
    setDeleting(list.id);
    setMoveTo(shown.find((other) => other.id !== list.id)?.id ?? "");
  };

  const item = (key: ListKey, label: string, open: number | null) => (
    <button className={key === selected ? "selected" : ""} onClick={() => onSelect(key)} data-testid="list-item">
      {label} {open !== null && <span className="count">{open}</span>}
    </button>
  );
  const confirmDelete = (list: TaskList) => {
    const others = shown.filter((other) => other.id !== list.id);
    const count = list.task_count;
    return (
      <div className="confirm" role="group" aria-label={`Delete ${list.name}`}>
        {count === 0 ? (
          <>
            <p>Delete the empty list “{list.name}”?</p>
            <button onClick={() => void remove(list, {})}>Delete list</button>
          </>
        ) : (
          <>
            <p>“{list.name}” has {count === 1 ? "1 task" : `${count} tasks`}.</p>
            <button onClick={() => void remove(list, { tasks: "delete" })}>Delete list and its tasks</button>
            {others.length > 0 && (
              <>
                <label>
                  Move its tasks to
                  <select value={moveTo} onChange={(e) => setMoveTo(e.target.value)} aria-label="Move its tasks to">
                    {others.map((other) => <option key={other.id} value={other.id}>{other.name}</option>)}
                  </select>
                </label>
                <button onClick={() => void remove(list, { moveTo })} disabled={moveTo === ""}>Move tasks and delete list</button>
              </>
            )}
          </>
        )}
        <button onClick={() => setDeleting(null)}>Cancel</button>
      </div>
    );
  };

  return (
    <nav className="sidebar" aria-label="Lists">
      <ul>
        <li key="none">{item("none", "Inbox", null)}</li>
        {shown.map((list) => (
          <li key={list.id}>
            {renaming?.id === list.id ? (
              <form onSubmit={(event) => void rename(event, list)} className="rename">
                <input
                  value={renaming.name}
                  onChange={(e) => setRenaming({ id: list.id, name: e.target.value })}
                  aria-label={`New name for ${list.name}`}
                  autoFocus
                />
                <button type="submit">Save</button>
                <button type="button" onClick={() => setRenaming(null)}>Cancel</button>
              </form>
            ) : (
              <>
                {item(list.id, list.name, list.open_task_count)}
                {list.id === selected && (
                  <span className="list-actions">
                    <button className="link" onClick={() => (setDeleting(null), setRenaming({ id: list.id, name: list.name }))} aria-label={`Rename ${list.name}`}>
                      Rename
                    </button>
                    <button className="link" onClick={() => startDelete(list)} aria-label={`Delete ${list.name}`}>
                      Delete
                    </button>
                  </span>
                )}
              </>
            )}
            {deleting === list.id && confirmDelete(list)}
          </li>
        ))}
      </ul>
      <form onSubmit={create}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="New list" aria-label="New list name" />
      </form>
    </nav>
  );
}
