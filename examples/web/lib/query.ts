// The filter bar's state, and the /api/tasks query it stands for.
import type { TaskListQuery } from "@taskapi/client";

export type Status = "all" | "open" | "done";
export type Due = "any" | "overdue" | "today" | "week";
export type Priority = "any" | "none" | "low" | "medium" | "high";
export type Sort = NonNullable<TaskListQuery["sort"]>;

export interface Filters {
  status: Status;
  priority: Priority;
  tag: string;
  due: Due;
  q: string;
  sort: Sort;
}

export const DEFAULT_FILTERS: Filters = { status: "all", priority: "any", tag: "", due: "any", q: "", sort: "position" };

/** "none" is the inbox (tasks in no list). */
export type ListKey = string;

const day = (from: Date, offset: number): string => {
  const date = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() + offset));
  return date.toISOString().slice(0, 10);
};

export function taskQuery(list: ListKey, filters: Filters, now: Date): TaskListQuery {
  const query: TaskListQuery = { list, parent: "none", sort: filters.sort, limit: 200 };
  if (filters.status !== "all") query.completed = filters.status === "done";
  if (filters.priority !== "any") query.priority = [filters.priority];
  if (filters.tag.trim() !== "") query.tag = [filters.tag.trim()];
  if (filters.q.trim() !== "") query.q = filters.q.trim();
  if (filters.due === "overdue") query.overdue = true;
  if (filters.due === "today" || filters.due === "week") {
    query.due_after = day(now, -1);
    query.due_before = day(now, filters.due === "today" ? 1 : 8);
  }
  return query;
}
