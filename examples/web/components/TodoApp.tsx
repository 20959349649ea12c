"use client";
// The signed-in app: lists in a sidebar, the tasks of the selected list, live updates.
import { useCallback, useEffect, useMemo, useState } from "react";
import { createTaskApi, type Task, type TaskList, type TaskUpdate } from "@taskapi/client";
import { getToken } from "@/lib/auth-client";
import { runCall, type Notices } from "@/lib/calls";
import { useLiveUpdates } from "@/lib/live";
import { DEFAULT_FILTERS, taskQuery, type Filters, type ListKey } from "@/lib/query";
import { Sidebar } from "./Sidebar";
import { FilterBar } from "./FilterBar";
import { TaskRow } from "./TaskRow";
import { TaskEditor } from "./TaskEditor";
import { NewTask } from "./NewTask";
import { UndoToast, type PendingDelete } from "./UndoToast";

const UNDO_MS = 5_000;

export function TodoApp({ apiUrl, email, onSignOut }: { apiUrl: string; email: string; onSignOut: () => void }) {
  const api = useMemo(() => createTaskApi({ baseUrl: apiUrl, getToken }), [apiUrl]);
  const [lists, setLists] = useState<TaskList[]>([]);
  const [listKey, setListKey] = useState<ListKey>("none");
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [editing, setEditing] = useState<Task | null>(null);
  const [offline, setOffline] = useState<string | null>(null);
  // The event stream's own state: shown only while the API itself answers (one banner, and
  // "cannot reach the task server" says more than "live updates paused").
  const [liveDown, setLiveDown] = useState<string | null>(null);
  const [notice, notify] = useState<string | null>(null);
  const [pending, setPending] = useState<PendingDelete | null>(null);
  const [version, setVersion] = useState(0);
  const notices: Notices = useMemo(() => ({ setOffline, notify }), []);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);

  useEffect(() => {
    let stale = false;
    void (async () => {
      const [listsResult, tasksResult] = await Promise.all([
        runCall(notices, () => api.lists.list()),
        runCall(notices, () => api.tasks.list(taskQuery(listKey, filters, new Date()))),
      ]);
      if (stale) return;
      if (listsResult?.kind === "ok") setLists(listsResult.data);
      if (tasksResult?.kind === "ok") setTasks(tasksResult.data);
    })();
    return () => {
      stale = true;
    };
  }, [api, notices, listKey, filters, version]);

  // While the API is down, try again every few seconds.
  useEffect(() => {
    if (offline === null) return;
    const timer = setInterval(refresh, 3_000);
    return () => clearInterval(timer);
  }, [offline, refresh]);

  useLiveUpdates(api, refresh, setLiveDown);
  const banner = offline ?? liveDown;

  const update = async (task: Task, patch: TaskUpdate) => {
    // Shown at once (a checkbox should not wait for the network); the refresh corrects it.
    setTasks((current) => current?.map((t) => (t.id === task.id ? ({ ...t, ...patch } as Task) : t)) ?? null);
    const result = await runCall(notices, () => api.tasks.update(task.id, patch));
    // The task as stored: completing a recurring one leaves it open with its next due.
    if (result?.kind === "ok") setTasks((current) => current?.map((t) => (t.id === task.id ? result.data : t)) ?? null);
    refresh();
  };

  const move = async (task: Task, target: Task, below: boolean) => {
    const where = below ? { after: target.id } : { before: target.id };
    const result = await runCall(notices, () => api.tasks.move(task.id, where));
    if (result?.kind === "ok") refresh();
  };

  // Delete with undo: the task is hidden at once and deleted when the undo time is over.
  const remove = (task: Task) => {
    if (pending) void pending.commit();
    const timer = setTimeout(() => void commit(), UNDO_MS);
    const commit = async () => {
      clearTimeout(timer);
      setPending(null);
      const result = await runCall(notices, () => api.tasks.delete(task.id));
      if (result !== null) refresh();
    };
    setPending({ task, commit, undo: () => (clearTimeout(timer), setPending(null)) });
  };

  const shown = (tasks ?? []).filter((task) => task.id !== pending?.task.id);
  const listName = listKey === "none" ? "Inbox" : (lists.find((list) => list.id === listKey)?.name ?? "");

  return (
    <div className="app">
      {banner && (
        <div className="banner" role="alert" data-testid="offline-banner">
          {banner}
        </div>
      )}
      <Sidebar api={api} notices={notices} lists={lists} selected={listKey} onSelect={setListKey} onChanged={refresh} />
      <main>
        <header className="top">
          <h1 data-testid="list-title">{listName}</h1>
          <span className="who" data-testid="signed-in-as">{email}</span>
          <button onClick={onSignOut}>Sign out</button>
        </header>
        {notice && (
          <p className="notice" role="status" data-testid="notice">
            {notice} <button onClick={() => notify(null)}>Dismiss</button>
          </p>
        )}
        <FilterBar filters={filters} onChange={setFilters} />
        <NewTask api={api} notices={notices} listKey={listKey} parentId={null} onCreated={refresh} />
        {tasks === null ? (
          <p>Loading…</p>
        ) : shown.length === 0 ? (
          <p className="empty">No tasks here.</p>
        ) : (
          <ul className="tasks" data-testid="tasks">
            {shown.map((task, index) => (
              <TaskRow
                key={task.id}
                api={api}
                notices={notices}
                task={task}
                index={index}
                draggable={filters.sort === "position"}
                version={version}
                onUpdate={update}
                onMove={move}
                onEdit={setEditing}
                onDelete={remove}
                onChanged={refresh}
                siblings={shown}
              />
            ))}
          </ul>
        )}
      </main>
      {editing && (
        <TaskEditor
          api={api}
          notices={notices}
          task={editing}
          lists={lists}
          onClose={() => setEditing(null)}
          onSaved={() => (setEditing(null), refresh())}
        />
      )}
      {pending && <UndoToast pending={pending} />}
    </div>
  );
}
