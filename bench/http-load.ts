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
 */
export const FIXED_RATE_GENERATOR = `
const http = require('node:http');
const fs = require('node:fs');
const bodies = fs.readFileSync(process.env.BODIES, 'utf8').split('\\n').filter(Boolean);
const target = new URL(process.env.URL);
const rate = Number(process.env.RATE), total = Math.round(rate * Number(process.env.SECONDS));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const latencies = new Float64Array(total);
let sent = 0, done = 0, failed = 0;
const start = performance.now();
const finish = () => {
  done++;
  if (done < total) return;
  agent.destroy();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(total - 1, Math.floor(total * p))];
  process.stdout.write(JSON.stringify({ count: total, failed, seconds: (performance.now() - start) / 1000, p50: at(0.5), p99: at(0.99), p999: at(0.999) }));
};
const send = (n) => {
  const due = start + (n * 1000) / rate;
  const body = bodies[n % bodies.length];
  const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.TOKEN, 'content-length': Buffer.byteLength(body) } }, (response) => {
    response.resume();
    response.on('end', () => { latencies[n] = performance.now() - due; if (response.statusCode !== 200) failed++; finish(); });
  });
  request.on('error', () => { latencies[n] = performance.now() - due; failed++; finish(); });
  request.end(body);
};
const tick = () => {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
  while (sent < due) send(sent++);
  if (sent < total) setImmediate(tick);
};
tick();
`;
