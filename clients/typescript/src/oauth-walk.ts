// A third-party app against SliceApi's OAuth 2.0 server, with oauth4webapi (a certified client library nobody here
// wrote) for every OAuth step and the generated client for the API: it registers a public app, reads the server's
// metadata (RFC 8414), runs the authorization code flow with PKCE (the user signs in and allows on the real pages,
// through a cookie-keeping fetch), calls the API with the app's token where its scopes reach and is refused where they
// end, refreshes, revokes, and is refused afterwards.
//
//   node dist/oauth-walk.js <API base, e.g. a validating proxy> <the server's own base (the OAuth issuer)>
//
// Prints one line per check and ends with "oauth4webapi walk: N passed, N failed"; exits 1 when any failed.
import * as oauth from "oauth4webapi";
import createClient, { type Middleware } from "openapi-fetch";
import { check, must, results } from "./checks.js";
import type { paths } from "./schema.js";

const apiBase = process.argv[2] ?? "";
const serverBase = process.argv[3] ?? "";
if (apiBase === "" || serverBase === "") {
  console.error("usage: node dist/oauth-walk.js <API base> <server base, the OAuth issuer>");
  process.exit(2);
}

// The API client sends whichever bearer token is current: the user's to register the app, then the app's.
let bearer: string | undefined;
const withBearer: Middleware = {
  onRequest({ request }) {
    if (bearer !== undefined) {
      request.headers.set("Authorization", `Bearer ${bearer}`);
    }
    return request;
  },
};
const api = createClient<paths>({ baseUrl: apiBase });
api.use(withBearer);

// The user's browser: keeps cookies, does not follow redirects, posts a page's form with its hidden fields.
const cookies = new Map<string, string>();
async function browse(url: string, form?: URLSearchParams): Promise<{ status: number; html: string; location: string | null }> {
  const headers: Record<string, string> = { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
  if (form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const response = await fetch(url, { method: form ? "POST" : "GET", headers, redirect: "manual", ...(form ? { body: form.toString() } : {}) });
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(";");
    const at = must(pair, "a cookie").indexOf("=");
    cookies.set(cookie.slice(0, at), cookie.slice(at + 1, cookie.indexOf(";") < 0 ? undefined : cookie.indexOf(";")));
  }
  return { status: response.status, html: await response.text(), location: response.headers.get("location") };
}
function hiddenFields(html: string, extra: Record<string, string>): URLSearchParams {
  const decode = (s: string) => s.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.set(decode(must(name, "a field name")), decode(must(value, "a field value")));
  }
  for (const [name, value] of Object.entries(extra)) {
    form.set(name, value);
  }
  return form;
}

async function main(): Promise<void> {
  const email = `oauth-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const password = "correct horse battery staple";
  const redirectUri = "http://127.0.0.1:7777/callback";
  // SliceApi is served over plain HTTP here (CI, loopback); oauth4webapi refuses that unless told.
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  // The user registers and logs in; the app's developer (the same user here) registers a public app.
  check("register", 201, (await api.POST("/api/v1/users", { body: { email, password, displayName: "OAuth walk" } })).response.status);
  bearer = must((await api.POST("/api/v1/auth/login", { body: { email, password } })).data, "the token pair").accessToken;
  const registered = await api.POST("/api/v1/oauth/apps", { body: { name: "oauth4webapi walk", clientType: "public", redirectUris: [redirectUri] } });
  check("register a public app", 201, registered.response.status);
  const client: oauth.Client = { client_id: must(registered.data, "the app").app.clientId };
  bearer = undefined;

  // Discovery (RFC 8414) from the issuer.
  const issuer = new URL(serverBase.endsWith("/") ? serverBase : `${serverBase}/`);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
  check("metadata: S256 is the only code challenge method", ["S256"], as.code_challenge_methods_supported);

  // The authorization request with PKCE; the user signs in and allows on SliceApi's pages.
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const authorize = new URL(must(as.authorization_endpoint, "authorization_endpoint"));
  authorize.search = new URLSearchParams({
    response_type: "code", client_id: client.client_id, redirect_uri: redirectUri, scope: "tasks:read tasks:write offline_access",
    state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  }).toString();
  const signIn = await browse(authorize.href);
  check("the authorization page asks to sign in", [200, true], [signIn.status, signIn.html.includes("<h1>Sign in to SliceApi</h1>")]);
  const consent = await browse(authorize.origin + authorize.pathname, hiddenFields(signIn.html, { email, password, action: "signin" }));
  check("signed in, the consent page names the app", [200, true], [consent.status, consent.html.includes("<h1>Allow oauth4webapi walk?</h1>")]);
  const allowed = await browse(authorize.origin + authorize.pathname, hiddenFields(consent.html, { action: "allow" }));
  check("Allow redirects to the app", 302, allowed.status);
  const callback = new URL(must(allowed.location, "the redirect"));

  // The app checks the response (state, iss) and exchanges the code with its verifier.
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure));
  check("token response: a bearer token with the granted scopes", ["bearer", "tasks:read tasks:write offline_access"], [tokens.token_type, tokens.scope]);

  // The app calls the API with its token, where its scopes reach and where they end.
  bearer = tokens.access_token;
  const tag = `oauth${Date.now()}`;
  const created = await api.POST("/api/v1/tasks", { body: { title: `${tag} made by an app` } });
  check("the app creates a task (tasks:write)", 201, created.response.status);
  const listed = await api.GET("/api/v1/tasks", { params: { query: { q: tag } } });
  check("the app lists it (tasks:read)", [200, [must(created.data, "the task").id]], [listed.response.status, must(listed.data, "the list").items.map((t) => t.id)]);
  const me = await api.GET("/api/v1/users/me");
  check("the app may not read the account (no profile scope)", [403, 'Bearer error="insufficient_scope", scope="profile"'],
    [me.response.status, me.response.headers.get("WWW-Authenticate")]);
  const keys = await api.GET("/api/v1/api-keys");
  check("the app may not touch API keys", 403, keys.response.status);

  // Refresh (rotation), then revocation (RFC 7009); the revoked token is refused.
  const refreshed = await oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), must(tokens.refresh_token, "the refresh token"), insecure));
  check("refresh gives a new refresh token", true, refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token);
  bearer = refreshed.access_token;
  check("the refreshed token works", 200, (await api.GET("/api/v1/tasks")).response.status);
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.access_token, insecure));
  check("after revocation the token is refused", 401, (await api.GET("/api/v1/tasks")).response.status);

  console.log(`oauth4webapi walk: ${results.passed} passed, ${results.failed} failed`);
}

main().then(
  () => process.exit(results.failed === 0 ? 0 : 1),
  (error: unknown) => {
    console.log(`FAIL the walk stopped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    console.log(`oauth4webapi walk: ${results.passed} passed, ${results.failed + 1} failed`);
    process.exit(1);
  },
);
