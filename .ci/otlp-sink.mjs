// A stand-in OTLP/HTTP receiver for CI (node .ci/otlp-sink.mjs PORT FILE): listens on 127.0.0.1:PORT, answers every
// export (POST /v1/traces, /v1/metrics, /v1/logs, protobuf) with 200, and appends one line "PATH HEX-OF-BODY" per
// export to FILE, so CI can check what the API sent (a trace id, an instrumentation scope's name) without a collector.
import fs from 'node:fs';
import http from 'node:http';

const [port, file] = process.argv.slice(2);
http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    fs.appendFileSync(file, `${request.url} ${Buffer.concat(chunks).toString('hex')}\n`);
    response.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
    response.end();
  });
}).listen(Number(port), '127.0.0.1');
