"use client";
// components/LiveTasks.tsx: catch up with sync(), then stay live with events(); both resume.
import { useEffect, useState } from "react";
import { MemoryStore, type Task } from "@taskapi/client";
import { api } from "../lib/taskapi";

export function LiveTasks() {
  const [tasks, setTasks] = useState<Task[]>([]);
  useEffect(() => {
    const store = new MemoryStore(), stop = new AbortController();
    const show = () => setTasks([...store.tasks.values()]);
    void api.sync(store).then(() => {
      show();
      return api.events({
        signal: stop.signal,
        lastEventId: store.token,
        onEvent: async (event) => {
          if (event.type === "created" || event.type === "updated") store.tasks.set(event.task.id, event.task);
          if (event.type === "deleted") store.tasks.delete(event.taskId);
          if (event.type === "reset") { store.token = null; await api.sync(store); }
          show();
        },
      });
    });
    return () => stop.abort();
  }, []);
  return <ul>{tasks.map((task) => <li key={task.id}>{task.title}</li>)}</ul>;
}
