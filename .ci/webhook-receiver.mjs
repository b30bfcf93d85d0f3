// A webhook receiver for CI whose checks are the Standard Webhooks reference library's (npm standardwebhooks,
// pinned in .ci/package.json): each POST is verified with Webhook.verify (signature and timestamp) against the secrets
// in the file named by WEBHOOK_SECRETS (one per line, re-read on every request, so a test can add one after
// registering), and logged as one line to WEBHOOK_LOG: "<unix ms> verified|rejected <webhook-id> <type> <cursor> <status>".
// Answers 204 to a verified POST, 400 to a rejected one, and 500 to the first FAIL_FIRST POSTs of each webhook-id
// (to exercise retries). DELAY_MS holds every answer back (to keep deliveries in flight during a drill).
// Usage: node .ci/webhook-receiver.mjs PORT
import { createServer } from 'node:http';
import { appendFileSync, readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

const port = Number(process.argv[2] ?? 4020);
const failFirst = Number(process.env.FAIL_FIRST ?? 0);
const delay = Number(process.env.DELAY_MS ?? 0);
const seen = new Map();

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = request.headers['webhook-id'] ?? '-';
    const secrets = readFileSync(process.env.WEBHOOK_SECRETS, 'utf8').split('\n').filter((s) => s.trim().length > 0);
    let payload = null;
    for (const secret of secrets) {
      try {
        payload = new Webhook(secret.trim()).verify(body, request.headers);
        break;
      } catch {
        // not this secret
      }
    }

    const attempts = (seen.get(id) ?? 0) + 1;
    seen.set(id, attempts);
    const status = payload === null ? 400 : attempts <= failFirst ? 500 : 204;
    const line = `${Date.now()} ${payload === null ? 'rejected' : 'verified'} ${id} ${payload?.type ?? '-'} ${payload?.data?.cursor ?? '-'} ${status}\n`;
    setTimeout(() => {
      appendFileSync(process.env.WEBHOOK_LOG, line);
      response.writeHead(status).end();
    }, delay);
  });
}).listen(port, '127.0.0.1');
