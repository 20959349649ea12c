"use client";
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
  const item = (key: ListKey, label: string, open: number | null) => (
    <li key={key}>
      <button className={key === selected ? "selected" : ""} onClick={() => onSelect(key)} data-testid="list-item">
        {label} {open !== null && <span className="count">{open}</span>}
      </button>
    </li>
  );
  return (
    <nav className="sidebar" aria-label="Lists">
      <ul>
        {item("none", "Inbox", null)}
        {lists.filter((list) => !list.archived).map((list) => item(list.id, list.name, list.open_task_count))}
      </ul>
      <form onSubmit={create}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="New list" aria-label="New list name" />
      </form>
    </nav>
  );
}
