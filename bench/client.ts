// The workload client: a separate process that does measured things inside a view with plain
// syscalls and answers {"seconds": ...} (plus any other figure) as JSON. The suite keeps one running:
//   node dist/bench/client.js serve        (requests as JSON lines on stdin)
//   node dist/bench/client.js OP ARGS...   (one request, by hand)
// It never runs inside a FUSE daemon, and the suite never touches a mount itself.
import {
  appendFileSync, chmodSync, closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

type Result = Record<string, number>;

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A small seeded generator (mulberry32): the same offsets on every peer. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ops: Record<string, (args: string[]) => Result> = {
  /** stat() of `n` names that exist in no layer, spread over the tree's directories d0..d(dirs-1). */
  negative([root, dirs, n]) {
    const d = Number(dirs);
    let found = 0;
    const seconds = timed(() => {
      for (let i = 0; i < Number(n); i++) if (statSync(join(root!, `d${i % d}`, `missing${i}`), { throwIfNoEntry: false })) found++;
    });
    if (found > 0) throw new Error(`${found} names that should not exist were found`);
    return { seconds };
  },
  /** The first write to a lower file: open for writing, write 4 KiB at offset 0, close. */
  'first-write'([file]) {
    const buf = Buffer.alloc(4096, 0x41);
    return { seconds: timed(() => { const fd = openSync(file!, 'r+'); writeSync(fd, buf, 0, buf.length, 0); closeSync(fd); }) };
  },
  /** First write to each of `n` lower files <dir>/<prefix>I. */
  'write-each'([dir, prefix, n]) {
    const buf = Buffer.from('x');
    return {
      seconds: timed(() => {
        for (let i = 0; i < Number(n); i++) {
          const fd = openSync(join(dir!, `${prefix}${i}`), 'r+');
          writeSync(fd, buf, 0, 1, 0);
          closeSync(fd);
        }
      }),
    };
  },
  /**
   * Another process makes the first write to big lower file `file` (a whole-file copy-up) while
   * this one looks up names that exist nowhere in `dir`, one after another: how long the writer took
   * and the longest lookup. A filesystem that serves one request at a time makes a lookup wait for
   * the whole copy. The writer is watched through /proc (it stays a zombie until this loop ends).
   */
  'lookups-during-copy-up'([file, dir]) {
    const t0 = process.hrtime.bigint();
    const writer = spawn('dd', ['if=/dev/zero', `of=${file!}`, 'bs=4096', 'count=1', 'conv=notrunc', 'status=none'], { stdio: 'ignore' });
    const running = () => {
      try {
        return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${writer.pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let longest = 0;
    let lookups = 0;
    while (running()) {
      const t = process.hrtime.bigint();
      if (statSync(join(dir!, `during-copy-up-${lookups++}`), { throwIfNoEntry: false })) throw new Error('a name that should not exist was found');
      longest = Math.max(longest, Number(process.hrtime.bigint() - t) / 1e9);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { seconds, longestLookup: longest, lookups };
  },
  'chmod-each'([dir, prefix, n]) {
    return { seconds: timed(() => { for (let i = 0; i < Number(n); i++) chmodSync(join(dir!, `${prefix}${i}`), 0o600); }) };
  },
  /** Append 4 KiB to a (sparse) lower file; report the KiB its copy in the upper layer occupies. */
  append([file, upperFile]) {
    const seconds = timed(() => appendFileSync(file!, Buffer.alloc(4096, 0x42)));
    return { seconds, upperKiB: statSync(upperFile!).blocks / 2 };
  },
  /** `n` reads of 4 KiB at random aligned offsets. */
  randread([file, n, seed]) {
    const size = statSync(file!).size;
    const blocks = Math.floor(size / 4096);
    const next = prng(Number(seed));
    const buf = Buffer.alloc(4096);
    const seconds = timed(() => {
      const fd = openSync(file!, 'r');
      for (let i = 0; i < Number(n); i++) {
        const got = readSync(fd, buf, 0, 4096, Math.floor(next() * blocks) * 4096);
        if (got !== 4096) throw new Error(`short read: ${got} bytes`);
      }
      closeSync(fd);
    });
    return { seconds };
  },
  /** Create `n` small files in a new directory, then unlink them: two figures. */
  'create-unlink'([dir, n]) {
    const count = Number(n);
    mkdirSync(dir!);
    const body = Buffer.from('0123456789abcdef\n');
    const create = timed(() => { for (let i = 0; i < count; i++) writeFileSync(join(dir!, `c${i}`), body); });
    const unlink = timed(() => { for (let i = 0; i < count; i++) unlinkSync(join(dir!, `c${i}`)); });
    return { seconds: create + unlink, create, unlink };
  },
  /** Write `n` new files of `bytes` bytes under dir (the changes of a world). */
  'write-new'([dir, n, bytes]) {
    const body = Buffer.alloc(Number(bytes), 0x43);
    return {
      seconds: timed(() => {
        mkdirSync(dir!, { recursive: true });
        for (let i = 0; i < Number(n); i++) writeFileSync(join(dir!, `n${i}`), body);
      }),
    };
  },
};

/** Run one request; a failure is an answer too ({"error": ...}), never a crash. */
function answer(op: string | undefined, args: string[]): string {
  const fn = op === undefined ? undefined : ops[op];
  if (!fn) return JSON.stringify({ error: `unknown op ${op}; expected one of ${Object.keys(ops).join(', ')}` });
  try {
    return JSON.stringify(fn(args));
  } catch (e) {
    return JSON.stringify({ error: `${op}: ${(e as Error).message}` });
  }
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'serve') {
  // One request per line on stdin (a JSON array: op, args...), one JSON answer per line on stdout.
  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let req: string[];
      try {
        req = (JSON.parse(line) as unknown[]).map(String);
      } catch {
        process.stdout.write(JSON.stringify({ error: `bad request ${line.slice(0, 80)}` }) + '\n');
        continue;
      }
      process.stdout.write(answer(req[0], req.slice(1)) + '\n');
    }
  });
} else {
  const out = answer(mode, rest);
  process.stdout.write(out + '\n');
  if ('error' in (JSON.parse(out) as object)) process.exitCode = 1;
}
