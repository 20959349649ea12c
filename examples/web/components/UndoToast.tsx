"use client";
import type { Task } from "@taskapi/client";

export interface PendingDelete {
  task: Task;
  commit: () => Promise<void>;
  undo: () => void;
}

export function UndoToast({ pending }: { pending: PendingDelete }) {
  return (
    <div className="toast" role="status" data-testid="undo-toast">
      Deleted “{pending.task.title}”. <button onClick={pending.undo}>Undo</button>
    </div>
  );
}
