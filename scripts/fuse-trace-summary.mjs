#!/usr/bin/env node
// Requests a FUSE workload made, by opcode, with their latencies (send to end), from the kernel's
// fuse tracepoints. As root:
//   cd /sys/kernel/tracing && echo > trace && echo 1 > events/fuse/enable && echo 1 > tracing_on
//   ... the workload (e.g. worldctl run w -- apt-get install -y ./hello_*.deb) ...
//   echo 0 > tracing_on && cp trace /tmp/fuse.trace && echo 0 > events/fuse/enable
//   node scripts/fuse-trace-summary.mjs /tmp/fuse.trace
// Every FUSE connection's requests are counted (a bare mount's or a world's: the machine's others
// too, if any ran meanwhile). A latency includes waiting behind requests queued before it.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/fuse-trace-summary.mjs TRACE_FILE (a copy of /sys/kernel/tracing/trace)\n');
  process.exit(2);
}
const LINE = /\s(\d+\.\d+): fuse_request_(send|end): connection (\d+) req (\d+)(?: opcode \d+ \((\w+)\))?/;
const sent = new Map();
const byOp = new Map();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const m = LINE.exec(line);
  if (!m) continue;
  const [, t, kind, conn, unique, op] = m;
  const key = `${conn}:${unique}`;
  if (kind === 'send') {
    sent.set(key, { t: Number(t), op });
    continue;
  }
  const s = sent.get(key);
  if (!s) continue;
  sent.delete(key);
  const o = byOp.get(s.op) ?? { n: 0, seconds: 0 };
  o.n++;
  o.seconds += Number(t) - s.t;
  byOp.set(s.op, o);
}
const rows = [...byOp].sort((a, b) => b[1].n - a[1].n);
let n = 0;
let seconds = 0;
const out = [];
for (const [op, o] of rows) {
  n += o.n;
  seconds += o.seconds;
  out.push(`${op.padEnd(20)} ${String(o.n).padStart(8)}  total ${o.seconds.toFixed(3).padStart(8)} s  mean ${(o.seconds / o.n * 1e6).toFixed(1).padStart(8)} µs`);
}
out.push(`${'all'.padEnd(20)} ${String(n).padStart(8)}  total ${seconds.toFixed(3).padStart(8)} s`);
process.stdout.on('error', () => {}); // a reader that stops early (head) is no error
process.stdout.write(out.join('\n') + '\n');
