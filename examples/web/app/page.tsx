import { Home } from "@/components/Home";

// Read at request time, so one build serves any API address (TASKAPI_URL).
export const dynamic = "force-dynamic";

export default function Page() {
  return <Home apiUrl={process.env.TASKAPI_URL ?? "http://127.0.0.1:8000"} />;
}
