"use client";
// One task: complete/reopen, edit, delete, drag to reorder among its siblings, and its
// subtasks (read when unfolded, each a TaskRow of its own).
import { useEffect, useState, type DragEvent } from "react";
import type { Task, TaskApi, TaskUpdate } from "@taskapi/client";
import { runCall, type Notices } from "@/lib/calls";
import { repeatLabel } from "@/lib/schedule";
import { NewTask } from "./NewTask";

const DRAG_TYPE = "application/x-taskapi-task";

interface Props {
  api: TaskApi;
  notices: Notices;
  task: Task;
  index: number;
  siblings: Task[];
  draggable: boolean;
  /** Bumped on every change (live or local): unfolded subtasks are read again. */
  version: number;
  onUpdate: (task: Task, patch: TaskUpdate) => void;
  onMove: (task: Task, target: Task, below: boolean) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
  onChanged: () => void;
}

function due(task: Task): string | null {
  if (task.due_at) return new Date(task.due_at).toLocaleString();
  return task.due_date;
}

export function TaskRow(props: Props) {
  const { api, notices, task, index, siblings, draggable, version, onUpdate, onMove, onEdit, onDelete } = props;
  const [open, setOpen] = useState(false);
  const [subtasks, setSubtasks] = useState<Task[]>([]);
  const [over, setOver] = useState(false);

  useEffect(() => {
    if (!open) return;
    void runCall(notices, () => api.tasks.list({ parent: task.id, sort: "position", limit: 200 })).then((result) => {
      if (result?.kind === "ok") setSubtasks(result.data);
    });
  }, [api, notices, open, task.id, version]);

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const draggedId = event.dataTransfer.getData(DRAG_TYPE);
    const from = siblings.findIndex((sibling) => sibling.id === draggedId);
    const dragged = siblings[from];
    if (dragged && dragged.id !== task.id) onMove(dragged, task, from < index);
  };

  return (
    <li
      className={`task${task.is_completed ? " done" : ""}${over ? " over" : ""}`}
      data-testid="task"
      data-task-id={task.id}
      draggable={draggable}
      onDragStart={(event) => {
        event.stopPropagation();
        event.dataTransfer.setData(DRAG_TYPE, task.id);
      }}
      onDragOver={(event) => {
        if (!draggable) return;
        event.preventDefault();
        event.stopPropagation();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => (event.stopPropagation(), drop(event))}
    >
      <div className="row">
        {draggable && <span className="handle" aria-hidden>⋮⋮</span>}
        <input
          type="checkbox"
          checked={task.is_completed}
          aria-label={task.is_completed ? `Reopen ${task.title}` : `Complete ${task.title}`}
          onChange={() => onUpdate(task, { is_completed: !task.is_completed })}
        />
        <span className="title" data-testid="task-title">{task.title}</span>
        {task.priority !== "none" && <span className={`chip ${task.priority}`}>{task.priority}</span>}
        {task.tags.map((tag) => (
          <span key={tag} className="chip">#{tag}</span>
        ))}
        {due(task) && <span className="chip due" data-testid="task-due">{due(task)}</span>}
        {task.recurrence && (
          <span className="chip repeat" title={task.recurrence.rule} data-testid="task-repeats">
            ↻ {repeatLabel(task.recurrence.rule)}
          </span>
        )}
        {task.reminders && task.reminders.length > 0 && (
          <span className="chip reminders" data-testid="task-reminders">
            {task.reminders.length === 1 ? "1 reminder" : `${task.reminders.length} reminders`}
          </span>
        )}
        <button className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
          {task.subtask_count > 0 ? `${task.subtask_count - task.open_subtask_count}/${task.subtask_count}` : "+"} subtasks
        </button>
        <button onClick={() => onEdit(task)}>Edit</button>
        <button onClick={() => onDelete(task)} aria-label={`Delete ${task.title}`}>Delete</button>
      </div>
      {task.description && <p className="description">{task.description}</p>}
      {open && (
        <div className="subtasks">
          <ul className="tasks">
            {subtasks.map((subtask, subIndex) => (
              <TaskRow {...props} key={subtask.id} task={subtask} index={subIndex} siblings={subtasks} />
            ))}
          </ul>
          <NewTask api={api} notices={notices} listKey={task.list_id ?? "none"} parentId={task.id} onCreated={props.onChanged} />
        </div>
      )}
    </li>
  );
}
