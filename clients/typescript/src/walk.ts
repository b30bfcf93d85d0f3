// The README scenario through the generated TypeScript client: types from docs/openapi/v1.json (src/schema.d.ts, by
// openapi-typescript), requests through openapi-fetch. `tsc` refuses this file when the document and the calls below
// disagree (a path, a parameter, a body member, a response member), so CI fails on such drift. Response members are
// required in the document, so the walk reads them with no non-null assertion and no optional chaining.
//
//   node dist/walk.js http://127.0.0.1:5080
//
// Prints one line per check and ends with "typescript client walk: N passed, N failed"; exits 1 when any failed.
import createClient, { type Middleware } from "openapi-fetch";
import { check, must, results } from "./checks.js";
import type { components, paths } from "./schema.js";

type Task = components["schemas"]["TaskResponse"];

const base = process.argv[2];
if (!base) {
  console.error("usage: node dist/walk.js <base URL of the API, e.g. http://127.0.0.1:5080>");
  process.exit(2);
}

// Every request carries the current access token once there is one.
let accessToken: string | undefined;
const bearer: Middleware = {
  onRequest({ request }) {
    if (accessToken !== undefined && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${accessToken}`);
    }
    return request;
  },
};
const api = createClient<paths>({ baseUrl: base });
api.use(bearer);

async function main(): Promise<void> {
  const email = `ts-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = "correct horse battery staple";

  // Register, log in, refresh (the retired refresh token is refused).
  const registered = await api.POST("/api/v1/users", { body: { email, password, displayName: "TypeScript" } });
  check("register", 201, registered.response.status);
  check("registered email", email, must(registered.data, "the registered account").email);
  const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
  check("login", 200, login.response.status);
  const firstRefresh = must(login.data, "the token pair").refreshToken;
  const refreshed = await api.POST("/api/v1/auth/refresh", { body: { refreshToken: firstRefresh } });
  check("refresh", 200, refreshed.response.status);
  accessToken = must(refreshed.data, "the new token pair").accessToken;
  const reused = await api.POST("/api/v1/auth/refresh", { body: { refreshToken: firstRefresh } });
  check("refresh again with the retired token", 401, reused.response.status);

  // A validation error, read as a typed problem with its errors.
  const invalid = await api.POST("/api/v1/tasks", { body: { title: "" } });
  check("create with an empty title", 400, invalid.response.status);
  const problem = must(invalid.error, "the validation problem");
  check("its problem names the field", true, "errors" in problem && problem.errors["title"] !== undefined);

  // Create five tasks, then list them two at a time, following nextCursor to the end.
  const tag = `ts${Date.now()}`;
  const created: Task[] = [];
  for (let i = 1; i <= 5; i++) {
    const result = await api.POST("/api/v1/tasks", { body: { title: `${tag} task ${i}`, dueAt: "2026-12-24T17:00:00Z" } });
    check(`create task ${i}`, 201, result.response.status);
    created.push(must(result.data, "the created task"));
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await api.GET("/api/v1/tasks", { params: { query: { q: tag, limit: 2, sort: "title", ...(cursor ? { cursor } : {}) } } });
    check(`list page ${++pages}`, 200, page.response.status);
    const body = must(page.data, "the page");
    for (const task of body.items) seen.push(task.id);
    cursor = body.nextCursor ?? undefined;
  } while (cursor !== undefined && pages < 10);
  check("pages followed to the end", 3, pages);
  check("every task listed once, in title order", created.map((t) => t.id), seen);

  // Conditional requests: If-None-Match gives 304; a stale If-Match gives 412.
  const id = must(created[0], "the first task").id;
  const got = await api.GET("/api/v1/tasks/{id}", { params: { path: { id } } });
  check("get", 200, got.response.status);
  const etag = must(got.response.headers.get("ETag"), "ETag");
  const notModified = await api.GET("/api/v1/tasks/{id}", { params: { path: { id } }, headers: { "If-None-Match": etag } });
  check("get with the current ETag", 304, notModified.response.status);
  const patched = await api.PATCH("/api/v1/tasks/{id}", {
    params: { path: { id } },
    body: { description: "Patched by the TypeScript client", status: "in_progress" },
    headers: { "Content-Type": "application/merge-patch+json", "If-Match": etag },
  });
  check("merge patch", 200, patched.response.status);
  check("patched status", "in_progress", must(patched.data, "the patched task").status);
  const stale = await api.PUT("/api/v1/tasks/{id}", {
    params: { path: { id } },
    body: { title: "stale" },
    headers: { "If-Match": etag },
  });
  check("put with the old ETag", 412, stale.response.status);
  check("its problem status", 412, must(stale.error, "the 412 problem").status);

  // An idempotent create and its replay.
  const key = `"ts-${tag}"`;
  const once = await api.POST("/api/v1/tasks", { body: { title: `${tag} once` }, params: { header: { "Idempotency-Key": key } } });
  check("create with an Idempotency-Key", 201, once.response.status);
  const again = await api.POST("/api/v1/tasks", { body: { title: `${tag} once` }, params: { header: { "Idempotency-Key": key } } });
  check("the retry replays the first response", [201, "true", must(once.data, "the created task").id],
    [again.response.status, again.response.headers.get("Idempotent-Replayed"), must(again.data, "the replayed task").id]);

  // Activity: the patched task's history, then the changes feed followed by cursor from the start until it holds every
  // change of this walk (the feed shows a change once the async daemon's high-water mark passes it, within a second).
  const history = await api.GET("/api/v1/tasks/{id}/history", { params: { path: { id } } });
  check("history", 200, history.response.status);
  const events = must(history.data, "the history").items;
  check("history: created, then the patch's updated and status_changed, oldest first", ["created", "updated", "status_changed"],
    events.map((e) => e.type));
  check("history: the patch's status change, old and new", [{ field: "status", oldValue: "todo", newValue: "in_progress" }],
    must(events[2], "the status event").changes);
  const mine = new Set([...created.map((t) => t.id), must(once.data, "the created task").id]);
  const expected = created.length + 3; // each task created, the patch's two events, the idempotent create once
  const followed: string[] = [];
  let after: string | undefined;
  for (let round = 0; round < 100 && followed.length < expected; round++) {
    const page = await api.GET("/api/v1/changes", { params: { query: after === undefined ? { limit: 2 } : { after, limit: 2 } } });
    const body = must(page.data, "a feed page");
    followed.push(...body.items.filter((c) => mine.has(c.taskId)).map((c) => `${c.type}:${c.taskId}`));
    after = body.nextCursor;
    if (!body.hasMore) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  check("changes feed followed by cursor: every change of the walk once", expected, followed.length);
  check("changes feed: no change twice", followed.length, new Set(followed).size);

  console.log(`typescript client walk: ${results.passed} passed, ${results.failed} failed`);
}

main().then(
  () => process.exit(results.failed === 0 ? 0 : 1),
  (error: unknown) => {
    console.log(`FAIL the walk stopped: ${error instanceof Error ? error.message : String(error)}`);
    console.log(`typescript client walk: ${results.passed} passed, ${results.failed + 1} failed`);
    process.exit(1);
  },
);
