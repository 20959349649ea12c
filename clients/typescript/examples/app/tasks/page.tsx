// app/tasks/page.tsx: every open task, page after page (the cursor keeps each filter).
import type { Task } from "@taskapi/client";
import { api } from "../../lib/taskapi";

export default async function OpenTasks() {
  const tasks: Task[] = [];
  for await (const task of api.tasks.iterate({ completed: false, sort: "due", limit: 200 })) {
    tasks.push(task);
  }
  return <ul>{tasks.map((task) => <li key={task.id}>{task.title}</li>)}</ul>;
}
