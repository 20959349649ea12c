"use client";
// Edit a task. The save is conditional on the version the editor opened (If-Match): if
// someone changed the task since, the API refuses (412) and the user chooses to reload
// their copy or to overwrite with their edit. Recurrence and reminders are sent only when
// changed here: the API re-plans them on every write of either.
import { useState, type FormEvent } from "react";
import type { Task, TaskApi, TaskList, TaskUpdate } from "@taskapi/client";
import { describe, runCall, type Notices } from "@/lib/calls";
import { BEFORE, REPEATS, localTimeZone, reminderLabel, repeatLabel, type Recurrence, type Reminder } from "@/lib/schedule";

interface Props {
  api: TaskApi;
  notices: Notices;
  task: Task;
  lists: TaskList[];
  onClose: () => void;
  onSaved: () => void;
}

type Draft = {
  title: string;
  description: string;
  due: string;
  timed: boolean;
  priority: Task["priority"];
  tags: string;
  list: string;
  /** The rule ("" : does not repeat). */
  repeat: string;
  repeatFrom: Recurrence["repeat_from"];
  reminders: Reminder[];
};

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
    repeat: task.recurrence?.rule ?? "",
    repeatFrom: task.recurrence?.repeat_from ?? "due",
    reminders: (task.reminders ?? []).map((r) => (r.before ? { before: r.before } : { at: r.at ?? null })),
  };
}

function toLocalInput(iso: string): string {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** The edit as a PUT body; `opened` is the task the draft started from. */
function patchOf(draft: Draft, opened: Task): TaskUpdate {
  const dueAt = draft.timed && draft.due ? new Date(draft.due).toISOString() : null;
  const start = draftOf(opened);
  const schedule: TaskUpdate = {};
  if (draft.repeat !== start.repeat || draft.repeatFrom !== start.repeatFrom) {
    schedule.recurrence =
      draft.repeat === ""
        ? null
        : { rule: draft.repeat, time_zone: opened.recurrence?.time_zone ?? localTimeZone(), repeat_from: draft.repeatFrom };
  }
  if (JSON.stringify(draft.reminders) !== JSON.stringify(start.reminders)) schedule.reminders = draft.reminders;
  return {
    ...schedule,
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
  const [opened, setOpened] = useState(task);
  const [draft, setDraft] = useState(() => draftOf(task));
  const [conflict, setConflict] = useState<Task | null>(null);
  const [remind, setRemind] = useState("PT30M");
  const [remindAt, setRemindAt] = useState("");
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft({ ...draft, [key]: value });
  // A relative reminder needs a timed due: offered only then.
  const remindKind = draft.timed ? remind : "at";
  const addReminder = () => {
    const reminder: Reminder =
      remindKind === "at" ? { at: remindAt === "" ? null : new Date(remindAt).toISOString() } : { before: remindKind };
    if (reminder.at === null) return;
    set("reminders", [...draft.reminders, reminder]);
    setRemindAt("");
  };
  const repeats = REPEATS.some((preset) => preset.rule === draft.repeat) || draft.repeat === ""
    ? REPEATS
    : [...REPEATS, { rule: draft.repeat, label: repeatLabel(draft.repeat) }];

  const save = async (against: Task) => {
    const result = await runCall(notices, () => api.tasks.update(against.id, patchOf(draft, opened), { ifMatch: against.etag }));
    if (result?.kind === "ok") onSaved();
  };
  // updateIfUnchanged returns a Conflict (not an error) for a 412: handled here, not by runCall.
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await api.tasks.updateIfUnchanged(base, patchOf(draft, opened));
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
    setOpened(current);
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
        <label>
          Repeats
          <select value={draft.repeat} onChange={(e) => set("repeat", e.target.value)} aria-label="Repeats">
            <option value="">Does not repeat</option>
            {repeats.map((preset) => <option key={preset.rule} value={preset.rule}>{preset.label}</option>)}
          </select>
        </label>
        {draft.repeat !== "" && (
          <label>
            Next due counts from
            <select value={draft.repeatFrom} onChange={(e) => set("repeatFrom", e.target.value as Recurrence["repeat_from"])} aria-label="Next due counts from">
              <option value="due">The due</option>
              <option value="completion">The completion</option>
            </select>
          </label>
        )}
        {draft.repeat !== "" && draft.due === "" && <p className="error">A repeating task needs a due.</p>}
        <fieldset className="reminders">
          <legend>Reminders</legend>
          {draft.reminders.length === 0 ? (
            <p className="empty">No reminders.</p>
          ) : (
            <ul aria-label="Reminders">
              {draft.reminders.map((reminder, index) => (
                <li key={index}>
                  {reminderLabel(reminder)}{" "}
                  <button
                    type="button"
                    onClick={() => set("reminders", draft.reminders.filter((_, i) => i !== index))}
                    aria-label={`Remove reminder ${reminderLabel(reminder)}`}
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="add-reminder">
            <select value={remindKind} onChange={(e) => setRemind(e.target.value)} aria-label="New reminder">
              {draft.timed && BEFORE.map((preset) => <option key={preset.before} value={preset.before}>{preset.label}</option>)}
              <option value="at">At a time…</option>
            </select>
            {remindKind === "at" && (
              <input type="datetime-local" value={remindAt} onChange={(e) => setRemindAt(e.target.value)} aria-label="Reminder time" />
            )}
            <button type="button" onClick={addReminder} disabled={remindKind === "at" && remindAt === ""}>
              Add reminder
            </button>
          </div>
        </fieldset>
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
