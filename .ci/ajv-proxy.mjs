// A recording proxy that validates every JSON response against the OpenAPI document with Ajv in strict mode (with
// ajv-formats), as strict clients do (Postman's test scripts, express-openapi-validator): an unknown format, a member
// the schema does not allow or a required member that is missing is a violation.
//
//   node .ci/ajv-proxy.mjs docs/openapi/v1.json http://127.0.0.1:4010 4011 .ci/out/ajv.log
//
// Each response is logged as "ok", "VIOLATION" (with Ajv's errors) or "skip" (no JSON body, or a path the document does
// not describe). The schemas are compiled at start: a document Ajv's strict mode refuses stops the proxy with exit 1.
import http from "node:http";
import fs from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [documentPath, upstream, port, logPath] = process.argv.slice(2);
const document = JSON.parse(fs.readFileSync(documentPath, "utf8"));
const log = fs.createWriteStream(logPath, { flags: "a" });

// OpenAPI 3.0 schema objects are JSON Schema plus a few keywords of their own; Ajv knows nullable and is told of the rest
// (annotations only). Everything else stays strict.
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);
const extensions = new Set();
JSON.stringify(document.components.schemas, (key, value) => {
  if (key.startsWith("x-")) extensions.add(key);
  return value;
});
ajv.addKeyword("example");
for (const keyword of extensions) ajv.addKeyword(keyword);
const rewrite = (value) => JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"schema:'));
for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(rewrite(schema), `schema:${name}`);

const operations = [];
for (const [template, item] of Object.entries(document.paths)) {
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
  for (const [method, operation] of Object.entries(item)) {
    const responses = {};
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      for (const [type, content] of Object.entries(response.content ?? {})) {
        if (type.includes("json") && content.schema) {
          responses[`${status} ${type.split(";")[0]}`] = ajv.compile(rewrite(content.schema));
        }
      }
    }
    operations.push({ method: method.toUpperCase(), template, pattern, responses });
  }
}

http
  .createServer((request, response) => {
    const body = [];
    request.on("data", (chunk) => body.push(chunk));
    request.on("end", () => {
      const target = new URL(request.url, upstream);
      const forwarded = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
        const chunks = [];
        answer.on("data", (chunk) => chunks.push(chunk));
        answer.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          record(request.method, target.pathname, answer.statusCode, (answer.headers["content-type"] ?? "").split(";")[0].trim(), text);
          response.writeHead(answer.statusCode, answer.headers);
          response.end(Buffer.concat(chunks));
        });
      });
      forwarded.on("error", (error) => {
        log.write(`VIOLATION ${request.method} ${target.pathname}: upstream error ${error.message}\n`);
        response.writeHead(502);
        response.end();
      });
      forwarded.end(Buffer.concat(body));
    });
  })
  .listen(Number(port), "127.0.0.1");

function record(method, path, status, type, text) {
  const operation = operations.find((o) => o.method === method && o.pattern.test(path));
  if (!operation || !type.includes("json") || text.length === 0) {
    log.write(`skip ${method} ${path} ${status} ${type || "(no body)"}\n`);
    return;
  }
  const validate = operation.responses[`${status} ${type}`] ?? operation.responses[`default ${type}`];
  if (!validate) {
    log.write(`VIOLATION ${method} ${operation.template} ${status} ${type}: the document declares no such response\n`);
    return;
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    log.write(`VIOLATION ${method} ${operation.template} ${status}: the body is not JSON\n`);
    return;
  }
  if (validate(body)) {
    log.write(`ok ${method} ${operation.template} ${status}\n`);
  } else {
    log.write(`VIOLATION ${method} ${operation.template} ${status}: ${ajv.errorsText(validate.errors)}\n`);
  }
}
