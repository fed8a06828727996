/**
 * The load generators of the HTTP benchmark (http-serve.ts), each run as a process of its own on the
 * core the server does not have: a `wrk` script for closed loops, and a plain Node script for fixed
 * rates. Both send the questions of a file, one JSON body per line, round robin, on keep-alive
 * connections, with the check token of the environment.
 */

/** Latencies in milliseconds; `seconds` the measured span. */
export interface Latencies { count: number; seconds: number; p50: number; p99: number; p999: number }

/** wrk's Lua: POST each body in turn; at the end, one RESULT line with counts, percentiles (µs) and the duration (µs). */
export const WRK_SCRIPT = `
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format("RESULT %d %d %f %f %f %d\\n", summary.requests, failed,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), summary.duration))
end
`;

/**
 * Open loop: requests leave on a schedule of RATE a second, whether or not earlier ones have come
 * back, each timed from its scheduled moment (so a stall counts against every request it delayed,
 * not only the one in flight). Prints the latencies' percentiles as JSON.
 *
 * Written on raw sockets, not node:http's client: that client cost the generator more per request
 * than the server spends on an empty route, so at 10,000/s its own event loop, not the server,
 * made the tail (an empty Fastify route showed p99 51 ms, a bare node:http handler 124 ms). Here a
 * request is a prepared buffer and a response is found by its Content-Length, a few microseconds.
 * Up to CONNECTIONS keep-alive connections, one request in flight on each; a request due while all
 * are busy waits for the first free one, its clock already running.
 */
export const FIXED_RATE_GENERATOR = `
const net = require('node:net');
const fs = require('node:fs');
const target = new URL(process.env.URL);
const rate = Number(process.env.RATE), total = Math.round(rate * Number(process.env.SECONDS));
const requests = fs.readFileSync(process.env.BODIES, 'utf8').split('\\n').filter(Boolean).map((body) => Buffer.from(
  'POST ' + target.pathname + ' HTTP/1.1\\r\\nHost: ' + target.host + '\\r\\nContent-Type: application/json\\r\\nAuthorization: Bearer '
  + process.env.TOKEN + '\\r\\nContent-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body));
const latencies = new Float64Array(total);
const idle = [], waiting = [];
let sent = 0, done = 0, failed = 0, start = 0;
const finish = () => {
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(total - 1, Math.floor(total * p))];
  process.stdout.write(JSON.stringify({ count: total, failed, seconds: (performance.now() - start) / 1000, p50: at(0.5), p99: at(0.99), p999: at(0.999) }));
  process.exit(0);
};
const dueOf = (n) => start + (n * 1000) / rate;
const send = (connection, n) => { connection.n = n; connection.write(requests[n % requests.length]); };
const answered = (connection, ok) => {
  latencies[connection.n] = performance.now() - dueOf(connection.n);
  if (!ok) failed++;
  if (++done === total) finish();
  if (waiting.length > 0) send(connection, waiting.shift()); else idle.push(connection);
};
const open = () => new Promise((resolve, reject) => {
  const connection = net.connect({ host: target.hostname, port: Number(target.port), noDelay: true }, () => resolve(connection));
  connection.once('error', reject);
  let buffer = Buffer.alloc(0);
  connection.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const head = buffer.toString('latin1', 0, end);
      // A chunked body (bare node:http after writeHead) ends with its empty last chunk; JSON holds no CRLF.
      const last = /transfer-encoding: *chunked/i.test(head) ? buffer.indexOf('\\r\\n0\\r\\n\\r\\n', end + 4) : -1;
      const length = last >= 0 ? last + 7 - (end + 4) : Number(/content-length: *(\\d+)/i.exec(head)?.[1] ?? -1);
      if (length < 0 || buffer.length < end + 4 + length) return;
      buffer = buffer.subarray(end + 4 + length);
      answered(connection, head.startsWith('HTTP/1.1 200'));
    }
  });
});
const tick = () => {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
  while (sent < due) { const n = sent++; const connection = idle.pop(); if (connection) send(connection, n); else waiting.push(n); }
  if (sent < total) setImmediate(tick);
};
(async () => {
  for (let i = 0; i < Number(process.env.CONNECTIONS ?? 32); i++) idle.push(await open());
  start = performance.now();
  tick();
})();
`;
