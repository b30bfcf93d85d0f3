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
  check "${WALK_LABEL}create API key" 201 "$(req -X POST "$BASE/api/v1/api-keys" -H "$A" -H "$J" -d '{"name":"ci","scopes":["tasks:read"]}')"
  KEY=$(sed -nE 's/.*"key":"([^"]*)".*/\1/p' "$OUT/body.json")
  check "${WALK_LABEL}read with the API key" 200 "$(req "$BASE/api/v1/tasks/$TASK_ID" -H "X-Api-Key: $KEY")"
  check "${WALK_LABEL}write with a read-only API key" 403 "$(req -X DELETE "$BASE/api/v1/tasks/$TASK_ID" -H "X-Api-Key: $KEY")"
  check "${WALK_LABEL}register OAuth app" 201 "$(req -X POST "$BASE/api/v1/oauth/apps" -H "$A" -H "$J" -d '{"name":"ci app","clientType":"confidential","redirectUris":["https://ci.example.com/cb"]}')"
  APP_ID=$(sed -nE 's/.*"app":\{"id":"([^"]*)".*/\1/p' "$OUT/body.json")
  check "${WALK_LABEL}list OAuth apps" 200 "$(req "$BASE/api/v1/oauth/apps" -H "$A")"
  check "${WALK_LABEL}delete OAuth app" 204 "$(req -X DELETE "$BASE/api/v1/oauth/apps/$APP_ID" -H "$A")"
  check "${WALK_LABEL}get deleted OAuth app" 404 "$(req "$BASE/api/v1/oauth/apps/$APP_ID" -H "$A")"
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
