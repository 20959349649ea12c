"use client";
import type { Due, Filters, Priority, Sort, Status } from "@/lib/query";

const SORTS: [Sort, string][] = [
  ["position", "My order"],
  ["-created_at", "Newest"],
  ["due", "Due date"],
  ["-priority", "Priority"],
  ["title", "Title"],
];

export function FilterBar({ filters, onChange }: { filters: Filters; onChange: (filters: Filters) => void }) {
  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => onChange({ ...filters, [key]: value });
  return (
    <div className="filters">
      <input type="search" placeholder="Search" aria-label="Search" value={filters.q} onChange={(e) => set("q", e.target.value)} />
      <select aria-label="Status" value={filters.status} onChange={(e) => set("status", e.target.value as Status)}>
        <option value="all">All</option>
        <option value="open">Open</option>
        <option value="done">Done</option>
      </select>
      <select aria-label="Priority" value={filters.priority} onChange={(e) => set("priority", e.target.value as Priority)}>
        <option value="any">Any priority</option>
        <option value="high">High</option>
        <option value="medium">Medium</option>
        <option value="low">Low</option>
        <option value="none">None</option>
      </select>
      <input placeholder="Tag" aria-label="Tag" value={filters.tag} onChange={(e) => set("tag", e.target.value)} />
      <select aria-label="Due" value={filters.due} onChange={(e) => set("due", e.target.value as Due)}>
        <option value="any">Any time</option>
        <option value="overdue">Overdue</option>
        <option value="today">Due today</option>
        <option value="week">Due this week</option>
      </select>
      <select aria-label="Sort" value={filters.sort} onChange={(e) => set("sort", e.target.value as Sort)}>
        {SORTS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}
