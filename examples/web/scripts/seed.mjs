// The demo user and a few tasks (scripts/demo): signs demo@example.com up in Better Auth
// (once), gets its token as authClient.token() would, and creates lists and tasks through
// @taskapi/client, as the app does. Needs the app (its JWKS) and taskapi running.
import { betterAuth } from "better-auth";
import { createTaskApi } from "@taskapi/client";
import { authOptions } from "../lib/auth-options.mjs";

const email = process.env.DEMO_EMAIL ?? "demo@example.com";
const password = process.env.DEMO_PASSWORD ?? "demo-password";
const auth = betterAuth(authOptions());

const signIn = async () => auth.api.signInEmail({ body: { email, password }, asResponse: true });
let answer = await signIn();
if (!answer.ok) {
  await auth.api.signUpEmail({ body: { email, password, name: "Demo" } });
  answer = await signIn();
}
const cookie = answer.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
const { token } = await auth.api.getToken({ headers: new Headers({ cookie }) });

const api = createTaskApi({ baseUrl: process.env.TASKAPI_URL ?? "http://127.0.0.1:8000", getToken: () => token });
const lists = await api.lists.list();
if (lists.kind !== "ok") throw new Error(`taskapi: ${JSON.stringify(lists.error)}`);
if (lists.data.length === 0) {
  const home = await api.lists.create({ name: "Home", color: "#22aa66" });
  const work = await api.lists.create({ name: "Work", color: "#0969da" });
  if (home.kind !== "ok" || work.kind !== "ok") throw new Error("could not create the demo lists");
  const today = new Date().toISOString().slice(0, 10);
  const groceries = crypto.randomUUID(); // the batch's name for a task it creates
  const result = await api.tasks.batch({
    operations: [
      { op: "create", temp_id: groceries, task: { title: "Buy groceries", list_id: home.data.id, tags: ["errands"], due_date: today } },
      { op: "create", task: { title: "Milk", list_id: home.data.id, parent_id: groceries } },
      { op: "create", task: { title: "Bread", list_id: home.data.id, parent_id: groceries } },
      { op: "create", task: { title: "Water the plants", list_id: home.data.id, priority: "low" } },
      { op: "create", task: { title: "Write the quarterly report", list_id: work.data.id, priority: "high" } },
      { op: "create", task: { title: "Review pull requests", list_id: work.data.id, tags: ["code"] } },
      { op: "create", task: { title: "Try taskapi's web example" } },
    ],
  });
  if (result.kind !== "ok") throw new Error(`taskapi: ${JSON.stringify(result.error)}`);
}
console.log(`Demo user: ${email} / ${password}`);

// A PostgreSQL pool would keep the process alive for its idle timeout.
process.exit(0);
