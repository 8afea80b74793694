// Spike (issue 13 point 5): can a FUSE connection outlive its daemon? A "keeper" (this process)
// opens /dev/fuse, mounts it, and hands the fd to a server child. The first server answers INIT,
// LOOKUP, OPEN, then reads a READ and is killed (SIGKILL) before answering it. A second server
// started on the same fd writes FUSE_NOTIFY_RESEND: the kernel hands it the unanswered READ again
// (unique with bit 63 set), it answers, and the client's `cat`, started before the kill, prints the
// data. Node ids and the fh are hard-wired here (a real daemon would restore them from a journal).
// Run as root: node scripts/spikes/keeper-takeover.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, rmSync, writeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [, self, role, gen] = process.argv;
const DATA = Buffer.from('hello from server 2\n');
const NOTIFY_RESEND = 7;

function reply(fd, unique, body = Buffer.alloc(0), error = 0) {
  const b = Buffer.alloc(16 + body.length);
  b.writeUInt32LE(b.length, 0); b.writeInt32LE(error, 4); b.writeBigUInt64LE(unique, 8); body.copy(b, 16);
  writeSync(fd, b);
}
function attr(ino, mode, size) {
  const a = Buffer.alloc(88);
  a.writeBigUInt64LE(BigInt(ino), 0); a.writeBigUInt64LE(BigInt(size), 8); a.writeUInt32LE(mode, 60); a.writeUInt32LE(1, 64); a.writeUInt32LE(4096, 80);
  return a;
}
const rootAttr = () => attr(1, 0o40755, 0);
const fileAttr = () => attr(2, 0o100644, DATA.length);

function serve() {
  const fd = 3;
  const buf = Buffer.alloc(1 << 20 + 8192);
  if (gen === '2') {
    const n = Buffer.alloc(16); n.writeUInt32LE(16, 0); n.writeInt32LE(NOTIFY_RESEND, 4);
    writeSync(fd, n);
    process.stderr.write('server 2: wrote FUSE_NOTIFY_RESEND\n');
  }
  for (;;) {
    let n;
    try { n = readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code === 'ENODEV') return; if (e.code === 'EAGAIN' || e.code === 'EINTR') continue; throw e; }
    const opcode = buf.readUInt32LE(4), unique = buf.readBigUInt64LE(8), nodeid = buf.readBigUInt64LE(16);
    const resent = (unique >> 63n) === 1n;
    process.stderr.write(`server ${gen}: opcode ${opcode} node ${nodeid} unique ${unique.toString(16)}${resent ? ' (resent)' : ''}\n`);
    const body = buf.subarray(40, n);
    switch (opcode) {
      case 26: { // INIT
        const flags = body.readUInt32LE(12), flags2 = n >= 40 + 16 + 4 ? body.readUInt32LE(16) : 0;
        process.stderr.write(`server ${gen}: INIT 7.${body.readUInt32LE(4)} flags ${flags.toString(16)} flags2 ${flags2.toString(16)} HAS_RESEND=${(flags2 >> 7) & 1}\n`);
        const o = Buffer.alloc(64); o.writeUInt32LE(7, 0); o.writeUInt32LE(38, 4); o.writeUInt32LE(0, 8); o.writeUInt32LE(0, 12);
        o.writeUInt16LE(16, 16); o.writeUInt16LE(12, 18); o.writeUInt32LE(128 * 1024, 20); o.writeUInt32LE(1, 24);
        reply(fd, unique, o); break;
      }
      case 3: { const o = Buffer.alloc(16 + 88); o.writeBigUInt64LE(1n, 0); (nodeid === 1n ? rootAttr() : fileAttr()).copy(o, 16); reply(fd, unique, o); break; } // GETATTR
      case 1: { // LOOKUP
        const name = body.subarray(0, body.indexOf(0)).toString();
        if (name !== 'a') { reply(fd, unique, undefined, -2); break; }
        const o = Buffer.alloc(40 + 88); o.writeBigUInt64LE(2n, 0); o.writeBigUInt64LE(1n, 16); o.writeBigUInt64LE(1n, 24); fileAttr().copy(o, 40);
        reply(fd, unique, o); break;
      }
      case 14: { const o = Buffer.alloc(16); o.writeBigUInt64LE(7n, 0); o.writeUInt32LE(1, 8); reply(fd, unique, o); break; } // OPEN: fh 7, DIRECT_IO
      case 15: { // READ
        const fh = body.readBigUInt64LE(0), off = Number(body.readBigUInt64LE(8)), size = body.readUInt32LE(16);
        if (gen === '1') { process.stdout.write('stuck\n'); setInterval(() => {}, 1000); return; } // never answers
        process.stderr.write(`server 2: READ fh ${fh} (the dead server's handle) off ${off}\n`);
        reply(fd, unique, DATA.subarray(off, off + size)); break;
      }
      case 2: case 42: break; // FORGET, BATCH_FORGET: no reply
      default: reply(fd, unique, undefined, opcode === 25 || opcode === 18 ? 0 : -38); // FLUSH, RELEASE: ok
    }
  }
}

async function keep() {
  const mnt = mkdtempSync(join(tmpdir(), 'worldos-keeper-spike-'));
  const dev = openSync('/dev/fuse', constants.O_RDWR);
  const m = spawnSync('mount', ['-i', '-t', 'fuse.spike', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'spike', mnt], { stdio: ['ignore', 'inherit', 'inherit', dev] });
  if (m.status !== 0) throw new Error('mount failed');
  const start = (g) => spawn(process.execPath, [self, 'serve', g], { stdio: ['ignore', 'pipe', 'inherit', dev] });
  const s1 = start('1');
  const t0 = Date.now();
  const cat = spawn('cat', [join(mnt, 'a')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cat.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => s1.stdout.once('data', r));
  s1.kill('SIGKILL');
  await new Promise((r) => s1.once('exit', r));
  const killedAt = Date.now();
  process.stderr.write(`keeper: server 1 killed with the READ unanswered; cat still waiting: ${cat.exitCode === null}\n`);
  const s2 = start('2');
  const code = await new Promise((r) => cat.once('exit', r));
  const stat = spawnSync('stat', ['-c', '%s %F', join(mnt, 'a')], { encoding: 'utf8' });
  console.log(JSON.stringify({ catExit: code, catOut: out, takeoverMs: Date.now() - killedAt, totalMs: Date.now() - t0, statAfter: stat.stdout.trim() || stat.stderr.trim() }));
  spawnSync('umount', ['-l', mnt]);
  s2.kill('SIGKILL');
  rmSync(mnt, { recursive: true, force: true });
}

if (role === 'serve') serve(); else keep().catch((e) => { console.error(e); process.exit(1); });
