# The README's scenario, walked against $BASE: sourced by .ci/run, once against `dotnet run` and once through nginx
# in front of two instances (deploy/cluster.sh). Needs check() and $OUT from .ci/run, and from the caller:
# BASE, WALK_LABEL (a prefix for the check names), CURL_CA (a CA certificate for https, or empty) and
# create_admin EMAIL PASSWORD (runs the create-admin command against the same database).
# RAW_BASE (default BASE) takes the one request a validating proxy cannot carry: a body that is not JSON (Prism never
# answers it).
cx() { curl -s -m 60 ${CURL_CA:+--cacert "$CURL_CA"} "$@"; }

walkthrough() {
  J='Content-Type: application/json'
  req() { cx -o "$OUT/body.json" -w '%{http_code}' "$@"; }
  field() { sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\1/p" "$OUT/body.json"; }
  EMAIL="ada-$RANDOM$RANDOM@example.com"
  # The headers OWASP's REST Security Cheat Sheet asks of an API, on an error response of the real server (Kestrel, or
  # nginx in front of it): no Server banner naming the software (nginx's server_tokens off leaves "nginx" alone),
  # Cache-Control: no-store, frame-ancestors 'none', nosniff, and HSTS when served over HTTPS.
  local headers
  headers=$(cx -D - -o /dev/null "${RAW_BASE:-$BASE}/api/v1/users/me" | tr -d '\r' | tr 'A-Z' 'a-z')
  check "${WALK_LABEL}a 401 carries no-store, frame-ancestors 'none', nosniff$([ "${BASE#https}" != "$BASE" ] && echo ', HSTS') and no server banner" \
    "no-store frame-ancestors 'none' nosniff$([ "${BASE#https}" != "$BASE" ] && echo ' hsts') banner:none" \
    "$(sed -n 's/^cache-control: //p' <<<"$headers") $(sed -n 's/^content-security-policy: //p' <<<"$headers") $(sed -n 's/^x-content-type-options: //p' <<<"$headers")$(grep -q '^strict-transport-security: max-age=[1-9]' <<<"$headers" && echo ' hsts') banner:$(sed -n 's/^server: //p' <<<"$headers" | grep -v '^nginx$' || echo none)"
  check "${WALK_LABEL}register" 201 "$(req -X POST "$BASE/api/v1/users" -H "$J" -d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery staple\",\"displayName\":\"Ada\"}")"
  USER_ID=$(field id)
  check "${WALK_LABEL}register same email again" 409 "$(req -X POST "$BASE/api/v1/users" -H "$J" -d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery staple\",\"displayName\":\"Ada\"}")"
  check "${WALK_LABEL}login with wrong password" 401 "$(req -X POST "$BASE/api/v1/auth/login" -H "$J" -d "{\"email\":\"$EMAIL\",\"password\":\"wrong password!\"}")"
  check "${WALK_LABEL}login" 200 "$(req -X POST "$BASE/api/v1/auth/login" -H "$J" -d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery staple\"}")"
  TOKEN=$(field accessToken)
  REFRESH=$(field refreshToken)
  check "${WALK_LABEL}refresh" 200 "$(req -X POST "$BASE/api/v1/auth/refresh" -H "$J" -d "{\"refreshToken\":\"$REFRESH\"}")"
  check "${WALK_LABEL}refresh again with the retired token" 401 "$(req -X POST "$BASE/api/v1/auth/refresh" -H "$J" -d "{\"refreshToken\":\"$REFRESH\"}")"
  A="Authorization: Bearer $TOKEN"
  check "${WALK_LABEL}me" 200 "$(req "$BASE/api/v1/users/me" -H "$A")"
  check "${WALK_LABEL}create without token" 401 "$(req -X POST "$BASE/api/v1/tasks" -H "$J" -d '{"title":"x"}')"
  check "${WALK_LABEL}create with empty title" 400 "$(req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -d '{"title":""}')"
  check "${WALK_LABEL}create with malformed JSON" 400 "$(req -X POST "${RAW_BASE:-$BASE}/api/v1/tasks" -H "$A" -H "$J" -d '{"title":')"
  check "${WALK_LABEL}create" 201 "$(req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -d '{"title":"Write the README","dueAt":"2026-12-01T17:00:00Z"}')"
  TASK_ID=$(field id)
  check "${WALK_LABEL}list" 200 "$(req "$BASE/api/v1/tasks?limit=10" -H "$A")"
  check "${WALK_LABEL}list contains the task" 1 "$(grep -c "$TASK_ID" "$OUT/body.json")"
  check "${WALK_LABEL}get" 200 "$(req "$BASE/api/v1/tasks/$TASK_ID" -H "$A")"
  check "${WALK_LABEL}update" 200 "$(req -X PUT "$BASE/api/v1/tasks/$TASK_ID" -H "$A" -H "$J" -d '{"title":"Write the README","status":"done"}')"
  check "${WALK_LABEL}update stored status" done "$(field status)"
  ETAG=$(cx -D - -o /dev/null "$BASE/api/v1/tasks/$TASK_ID" -H "$A" | sed -nE 's/^[Ee][Tt]ag: *([^\r]*)\r?$/\1/p')
  check "${WALK_LABEL}get with the current ETag" 304 "$(req "$BASE/api/v1/tasks/$TASK_ID" -H "$A" -H "If-None-Match: $ETAG")"
  check "${WALK_LABEL}merge patch" 200 "$(req -X PATCH "$BASE/api/v1/tasks/$TASK_ID" -H "$A" -H 'Content-Type: application/merge-patch+json' -d '{"description":null}')"
  check "${WALK_LABEL}put with the old ETag" 412 "$(req -X PUT "$BASE/api/v1/tasks/$TASK_ID" -H "$A" -H "$J" -H "If-Match: $ETAG" -d '{"title":"stale"}')"
  # Activity: the task's history, the changes feed, and the live stream (held through nginx when it is in front, while
  # the writes go round robin, so one lands on the other instance).
  check "${WALK_LABEL}history: created, updated and status_changed, oldest first" "200 created updated status_changed" \
    "$(req "$BASE/api/v1/tasks/$TASK_ID/history" -H "$A") $(grep -oE '"type":"[a-z_]+"' "$OUT/body.json" | cut -d'"' -f4 | head -3 | tr '\n' ' ' | sed 's/ $//')"
  local feed_changes=0 waited=0
  while [ "$feed_changes" -lt 3 ] && [ "$waited" -lt 50 ]; do
    req "$BASE/api/v1/changes" -H "$A" >/dev/null
    feed_changes=$(grep -o "\"taskId\":\"$TASK_ID\",\"type\"" "$OUT/body.json" | wc -l)
    waited=$((waited + 1)); sleep 0.1
  done
  check "${WALK_LABEL}changes feed from the start: the task's 3 changes" 3 "$feed_changes"
  local stream="$OUT/stream-$RANDOM.txt" stream_pid t0 arrived status from=done
  cx -N -m 30 "${RAW_BASE:-$BASE}/api/v1/changes/stream" -H "$A" -H 'Accept: text/event-stream' >"$stream" 2>/dev/null &
  stream_pid=$!
  sleep 1
  for status in in_progress done; do
    t0=$(date +%s%3N)
    req -X PUT "$BASE/api/v1/tasks/$TASK_ID/status" -H "$A" -H "$J" -d "{\"status\":\"$status\"}" >/dev/null
    until grep -q "\"oldValue\":\"$from\",\"newValue\":\"$status\"" "$stream" || [ $(( $(date +%s%3N) - t0 )) -gt 5000 ]; do sleep 0.01; done
    arrived=$(( $(date +%s%3N) - t0 ))
    check "${WALK_LABEL}live: the status change to $status reached the open event stream within 1 s ($arrived ms)" yes \
      "$([ "$arrived" -le 1000 ] && grep -q '^id: [0-9]' "$stream" && echo yes || echo "no ($arrived ms)")"
    from=$status
  done
  kill "$stream_pid" 2>/dev/null
  # Webhooks, at a receiver whose checks are the Standard Webhooks reference library's (npm standardwebhooks). It fails
  # each message's first attempt, so the retry (1 s later: Webhooks:RetryDelaysSeconds:0=1 in CI) is walked too; after a
  # rotation it is given only the old secret, then only the new one: both sign for 24 hours.
  local hook_port=$((24100 + RANDOM % 800)) hook_log="$OUT/webhooks-$RANDOM.log" hook_secrets="$OUT/webhook-secrets-$RANDOM.txt" hook_pid hook_id old_secret
  : >"$hook_log"
  check "${WALK_LABEL}webhook: register an endpoint (its secret shown once)" 201 \
    "$(req -X POST "$BASE/api/v1/webhooks" -H "$A" -H "$J" -d "{\"url\":\"http://127.0.0.1:$hook_port/hook\",\"eventTypes\":[\"task.status_changed\"]}")"
  field secret >"$hook_secrets"
  old_secret=$(field secret)
  hook_id=$(sed -nE 's/.*"webhook":\{"id":"([^"]*)".*/\1/p' "$OUT/body.json")
  FAIL_FIRST=1 WEBHOOK_LOG="$hook_log" WEBHOOK_SECRETS="$hook_secrets" node .ci/webhook-receiver.mjs "$hook_port" &
  hook_pid=$!
  sleep 0.5
  hook_wait() { # hook_wait N: until the receiver verified N POSTs (15 s at most)
    for _ in $(seq 1 150); do [ "$(grep -c ' verified .* 204$' "$hook_log")" -ge "$1" ] && break; sleep 0.1; done
  }
  req -X PUT "$BASE/api/v1/tasks/$TASK_ID/status" -H "$A" -H "$J" -d '{"status":"todo"}' >/dev/null
  hook_wait 1
  check "${WALK_LABEL}webhook: the status change arrived, verified, answered 500 then 204 under one webhook-id" "task.status_changed 500 204 1" \
    "$(awk '$2 == "verified" {print $4}' "$hook_log" | head -1) $(awk '{print $6}' "$hook_log" | tr '\n' ' ')$(awk '{print $3}' "$hook_log" | sort -u | wc -l)"
  for _ in $(seq 1 30); do # the dispatcher records an attempt once the receiver has answered
    req "$BASE/api/v1/webhooks/$hook_id/deliveries" -H "$A" >/dev/null; grep -q '"state":"succeeded"' "$OUT/body.json" && break; sleep 0.1
  done
  check "${WALK_LABEL}webhook: the deliveries list shows the two attempts and success" "200 succeeded 500,204" \
    "$(req "$BASE/api/v1/webhooks/$hook_id/deliveries" -H "$A") $(grep -oE '"state":"[a-z]+"' "$OUT/body.json" | head -1 | cut -d'"' -f4) $(grep -oE '"statusCode":[0-9]+' "$OUT/body.json" | cut -d: -f2 | paste -sd,)"
  check "${WALK_LABEL}webhook: rotate the secret" 200 "$(req -X POST "$BASE/api/v1/webhooks/$hook_id/rotate-secret" -H "$A")"
  local new_secret
  new_secret=$(field secret)
  echo "$old_secret" >"$hook_secrets"
  req -X PUT "$BASE/api/v1/tasks/$TASK_ID/status" -H "$A" -H "$J" -d '{"status":"in_progress"}' >/dev/null
  hook_wait 2
  echo "$new_secret" >"$hook_secrets"
  req -X PUT "$BASE/api/v1/tasks/$TASK_ID/status" -H "$A" -H "$J" -d '{"status":"done"}' >/dev/null
  hook_wait 3
  check "${WALK_LABEL}webhook: after the rotation each of the two secrets alone verifies (none rejected)" "3 0" \
    "$(grep -c ' verified .* 204$' "$hook_log") $(grep -c ' rejected ' "$hook_log")"
  kill "$hook_pid" 2>/dev/null
  check "${WALK_LABEL}create API key" 201 "$(req -X POST "$BASE/api/v1/api-keys" -H "$A" -H "$J" -d '{"name":"ci","scopes":["tasks:read"]}')"
  KEY=$(sed -nE 's/.*"key":"([^"]*)".*/\1/p' "$OUT/body.json")
  check "${WALK_LABEL}read with the API key" 200 "$(req "$BASE/api/v1/tasks/$TASK_ID" -H "X-Api-Key: $KEY")"
  check "${WALK_LABEL}write with a read-only API key" 403 "$(req -X DELETE "$BASE/api/v1/tasks/$TASK_ID" -H "X-Api-Key: $KEY")"
  check "${WALK_LABEL}register OAuth app" 201 "$(req -X POST "$BASE/api/v1/oauth/apps" -H "$A" -H "$J" -d '{"name":"ci app","clientType":"confidential","redirectUris":["https://ci.example.com/cb"]}')"
  APP_ID=$(sed -nE 's/.*"app":\{"id":"([^"]*)".*/\1/p' "$OUT/body.json")
  check "${WALK_LABEL}list OAuth apps" 200 "$(req "$BASE/api/v1/oauth/apps" -H "$A")"
  check "${WALK_LABEL}delete OAuth app" 204 "$(req -X DELETE "$BASE/api/v1/oauth/apps/$APP_ID" -H "$A")"
  check "${WALK_LABEL}get deleted OAuth app" 404 "$(req "$BASE/api/v1/oauth/apps/$APP_ID" -H "$A")"
  # OAuth: a public app's authorization code flow with PKCE, signing in and consenting on the real page (cookies in a
  # jar, the page's hidden fields posted back), then the app's token at the API, a refresh and a revocation. The OAuth
  # endpoints are not API operations, so they are called on RAW_BASE.
  OB=${RAW_BASE:-$BASE}
  check "${WALK_LABEL}register a public OAuth app" 201 "$(req -X POST "$BASE/api/v1/oauth/apps" -H "$A" -H "$J" -d '{"name":"ci cli","clientType":"public","redirectUris":["http://127.0.0.1:7777/cb"]}')"
  CLIENT_ID=$(field clientId)
  read -r VERIFIER CHALLENGE < <(node -e 'const c=require("crypto");const v=c.randomBytes(32).toString("base64url");console.log(v, c.createHash("sha256").update(v).digest("base64url"))')
  JAR="$OUT/oauth-cookies.txt"
  rm -f "$JAR"
  page() { cx -b "$JAR" -c "$JAR" -o "$OUT/page.html" -D "$OUT/page.headers" -w '%{http_code}' "$@"; }
  location() { sed -nE "s/^[Ll]ocation: .*[?&]$1=([^&\r]*).*/\1/p" "$OUT/page.headers"; }
  check "${WALK_LABEL}OAuth: the authorization page asks to sign in" 200 \
    "$(page "$OB/oauth/authorize?response_type=code&client_id=$CLIENT_ID&redirect_uri=http%3A%2F%2F127.0.0.1%3A7777%2Fcb&scope=tasks%3Aread%20offline_access&state=ci-state&code_challenge=$CHALLENGE&code_challenge_method=S256")"
  check "${WALK_LABEL}OAuth: signed in, the consent page names the app" "200 1" \
    "$(page -X POST "$OB/oauth/authorize" --data "$(node .ci/form-fields.mjs "$OUT/page.html" "email=$EMAIL" "password=correct horse battery staple" action=signin)") $(grep -c '<h1>Allow ci cli?</h1>' "$OUT/page.html")"
  check "${WALK_LABEL}OAuth: Allow sends the user back to the app with the state" "302 ci-state" \
    "$(page -X POST "$OB/oauth/authorize" --data "$(node .ci/form-fields.mjs "$OUT/page.html" action=allow)") $(location state)"
  check "${WALK_LABEL}OAuth: the code and the verifier for tokens" 200 "$(req -X POST "$OB/oauth/token" -d grant_type=authorization_code -d "code=$(location code)" \
    -d "client_id=$CLIENT_ID" --data-urlencode "redirect_uri=http://127.0.0.1:7777/cb" -d "code_verifier=$VERIFIER")"
  APP_TOKEN=$(field access_token)
  APP_REFRESH=$(field refresh_token)
  check "${WALK_LABEL}OAuth: the app lists tasks with its token" 200 "$(req "$BASE/api/v1/tasks" -H "Authorization: Bearer $APP_TOKEN")"
  check "${WALK_LABEL}OAuth: the app may not create one (no tasks:write)" 403 "$(req -X POST "$BASE/api/v1/tasks" -H "Authorization: Bearer $APP_TOKEN" -H "$J" -d '{"title":"x"}')"
  check "${WALK_LABEL}OAuth: the refresh token for a new pair" 200 "$(req -X POST "$OB/oauth/token" -d grant_type=refresh_token -d "refresh_token=$APP_REFRESH" -d "client_id=$CLIENT_ID")"
  APP_TOKEN=$(field access_token)
  APP_PAIR=$(cat "$OUT/body.json")
  check "${WALK_LABEL}OAuth: the app revokes its token" 200 "$(req -X POST "$OB/oauth/revoke" -d "token=$APP_TOKEN" -d "client_id=$CLIENT_ID")"
  check "${WALK_LABEL}OAuth: the revoked token is refused" 401 "$(req "$BASE/api/v1/tasks" -H "Authorization: Bearer $APP_TOKEN")"
  check "${WALK_LABEL}OAuth: the user's grants list the app" "200 1" "$(req "$BASE/api/v1/users/me/authorizations" -H "$A") $(grep -c "$CLIENT_ID" "$OUT/body.json")"
  GRANT_ID=$(sed -nE 's/^\[\{"id":"([^"]*)".*/\1/p' "$OUT/body.json")
  check "${WALK_LABEL}OAuth: the user revokes the grant" 204 "$(req -X DELETE "$BASE/api/v1/users/me/authorizations/$GRANT_ID" -H "$A")"
  check "${WALK_LABEL}OAuth: the grant's refresh token is refused" 400 "$(req -X POST "$OB/oauth/token" -d grant_type=refresh_token -d "refresh_token=$(sed -nE 's/.*"refresh_token":"([^"]*)".*/\1/p' <<<"$APP_PAIR")" -d "client_id=$CLIENT_ID")"
  check "${WALK_LABEL}delete" 204 "$(req -X DELETE "$BASE/api/v1/tasks/$TASK_ID" -H "$A")"
  check "${WALK_LABEL}get after delete" 404 "$(req "$BASE/api/v1/tasks/$TASK_ID" -H "$A")"
  ADMIN="root-$RANDOM$RANDOM@example.com"
  create_admin "$ADMIN" "an admin passphrase" >"$OUT/create-admin.log" 2>&1
  check "${WALK_LABEL}create-admin command" 0 "$?"
  check "${WALK_LABEL}admin login" 200 "$(req -X POST "$BASE/api/v1/auth/login" -H "$J" -d "{\"email\":\"$ADMIN\",\"password\":\"an admin passphrase\"}")"
  check "${WALK_LABEL}admin reads the user" 200 "$(req "$BASE/api/v1/users/$USER_ID" -H "Authorization: Bearer $(field accessToken)")"
  # Lists: filters, sort, the Link header of the next page.
  for title in "Pay rent" "Pay invoice" "Book flights"; do
    req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -d "{\"title\":\"$title\"}" >/dev/null
  done
  LINK=$(cx -D - -o "$OUT/body.json" "$BASE/api/v1/tasks?q=pay&status=todo&sort=title&limit=1" -H "$A" | sed -nE 's/^[Ll]ink: *<([^>]*)>; rel="next"\r?$/\1/p')
  check "${WALK_LABEL}filtered list, first page" "Pay invoice" "$(field title)"
  check "${WALK_LABEL}follow the Link header" 200 "$(req "$BASE$LINK" -H "$A")"
  check "${WALK_LABEL}second page" "Pay rent" "$(field title)"
  check "${WALK_LABEL}invalid sort names the parameter" 1 "$(req "$BASE/api/v1/tasks?sort=priority" -H "$A" >/dev/null; grep -c '"sort"' "$OUT/body.json")"
  # Idempotent create: the retry replays the first response and creates nothing.
  KEY_ID="ci-$RANDOM$RANDOM"
  check "${WALK_LABEL}create with Idempotency-Key" 201 "$(req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -H "Idempotency-Key: \"$KEY_ID\"" -d '{"title":"Once"}')"
  FIRST_ID=$(field id)
  check "${WALK_LABEL}retry replays" "201 $FIRST_ID" "$(req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -H "Idempotency-Key: \"$KEY_ID\"" -d '{"title":"Once"}') $(field id)"
  check "${WALK_LABEL}same key, other body" 422 "$(req -X POST "$BASE/api/v1/tasks" -H "$A" -H "$J" -H "Idempotency-Key: \"$KEY_ID\"" -d '{"title":"Twice"}')"
}
