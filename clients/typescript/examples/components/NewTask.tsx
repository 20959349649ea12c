"use client";
// components/NewTask.tsx: one key per attempt, so a retry (or a double click) creates one task.
import { useState } from "react";
import { api } from "../lib/taskapi";

export function NewTask() {
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [message, setMessage] = useState("");
  async function add(form: FormData) {
    const result = await api.tasks.create({ title: String(form.get("title")) }, { idempotencyKey: key });
    if (result.kind === "ok") setKey(crypto.randomUUID());
    setMessage(result.kind === "ok" ? `Added ${result.data.title}` : result.error.detail);
  }
  return <form action={add}><input name="title" /><button>Add</button> {message}</form>;
}
