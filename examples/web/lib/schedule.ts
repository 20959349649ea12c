// Recurrence and reminders in plain words, and the few presets the editor offers. The API
// takes any RFC 5545 rule; a rule written elsewhere (the API, another client) is kept as it
// is and shown as its text.
import type { Task } from "@taskapi/client";

export type Recurrence = NonNullable<Task["recurrence"]>;
export type Reminder = NonNullable<Task["reminders"]>[number];

export const REPEATS: { rule: string; label: string }[] = [
  { rule: "FREQ=DAILY", label: "Daily" },
  { rule: "FREQ=WEEKLY", label: "Weekly" },
  { rule: "FREQ=MONTHLY", label: "Monthly" },
  { rule: "FREQ=YEARLY", label: "Yearly" },
];

export const BEFORE: { before: string; label: string }[] = [
  { before: "PT5M", label: "5 minutes before" },
  { before: "PT15M", label: "15 minutes before" },
  { before: "PT30M", label: "30 minutes before" },
  { before: "PT1H", label: "1 hour before" },
  { before: "P1D", label: "1 day before" },
];

/** "Weekly", or the rule itself when it is not one of the presets. */
export function repeatLabel(rule: string): string {
  return REPEATS.find((preset) => preset.rule === rule.toUpperCase())?.label ?? rule;
}

export function reminderLabel(reminder: Reminder): string {
  if (reminder.before) {
    const before = reminder.before.toUpperCase();
    return BEFORE.find((preset) => preset.before === before)?.label ?? `${before} before`;
  }
  return reminder.at ? `At ${new Date(reminder.at).toLocaleString()}` : "";
}

/** The browser's IANA zone: the one a new series is expanded in. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
