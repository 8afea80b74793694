// `npm run bench [-- --quick]`: build the layer trees once, run every workload on every peer,
// print the table and write bench/results/<date>-<quick|full>.{md,json,svg}. Needs root (mounts,
// drop_caches). Everything mounted or started is undone on any exit (see cleanup.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup } from './cleanup.js';
import { buildFixtures, type FixtureId } from './fixtures.js';
import { describeMachine, finishMachine } from './machine.js';
import { parseBenchArgs, UsageError, type BenchOptions } from './options.js';
import { makePeers } from './peers/index.js';
import type { Peer } from './peers/peer.js';
import { firstLine } from './proc.js';
import { fmtSeconds } from './report/format.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSvg } from './report/svg.js';
import { renderTable } from './report/table.js';
import type { PeerStatus, ResultDoc } from './results.js';
import { FULL, QUICK } from './sizes.js';
import { ClientProcess } from './client-process.js';
import { SampleBook } from './samples.js';
import { ScratchDirs } from './scratch.js';
import { runSession, type SuiteEnv } from './suite.js';
import { depthScaling, mergeScaling, summarizeFigures } from './summary.js';
import { allSessions, selected } from './workloads/index.js';
import { runWorlds as runWorldsSession } from './workloads/worlds-runner.js';
import { runApt } from './workloads/apt-runner.js';
import { pairDefs } from './workloads/in-world.js';
import { runInWorld, type WorldFiguresEnv } from './workloads/in-world-runner.js';
import { summarizePairs, type Side } from './pairs.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const log = (line: string) => process.stderr.write(`[${fmtSeconds((Date.now() - started) / 1000).padStart(6)}] ${line}\n`);

/** Resolves to the number of alarms (ways the host was changed): the exit code is 1 when there are any. */
async function bench(opts: BenchOptions, cleanup: Cleanup): Promise<number> {
  const root = mkdtempSync(join(opts.tmpdir, 'wb-'));
  cleanup.setRoot(root);
  const machine = describeMachine(root);
  const sizes = opts.quick ? QUICK : FULL;
  const { mounts, worlds, inWorld, apt } = allSessions(sizes);
  const sessions = mounts.filter((s) => selected(opts.only, s));
  const runWorlds = selected(opts.only, worlds);
  const runCommands = selected(opts.only, inWorld);
  const runInstall = selected(opts.only, apt);
  if (sessions.length === 0 && !runWorlds && !runCommands && !runInstall) throw new UsageError(`--only ${opts.only.join(',')} selects nothing`);
  log(`${opts.quick ? 'quick' : 'full'} run, ${opts.runs} runs each, in ${root} (load ${machine.loadStart.toFixed(2)})`);

  // The world figures (in-world, apt) need no peer: none is prepared (nor installed) for them alone.
  const needPeers = sessions.length > 0 || runWorlds;
  const peers = needPeers ? makePeers(opts, cleanup, { repo: REPO, probe: join(root, 'probe'), ext4Cache: join(root, 'ext4') }) : [];
  mkdirSync(join(root, 'probe'));
  mkdirSync(join(root, 'ext4'));
  const statuses: PeerStatus[] = [];
  const ready: Peer[] = [];
  for (const p of peers) {
    const why = await p.prepare();
    statuses.push({ id: p.id, label: p.label, kind: p.kind, description: p.describe(), ...(why ? { unavailable: why } : {}) });
    if (why) log(`peer ${p.id} cannot run: ${why}`);
    else ready.push(p);
  }
  if (needPeers) log(`peers: ${ready.map((p) => p.id).join(', ')}`);

  const wanted = new Set<FixtureId>(sessions.map((s) => s.fixture));
  if (runWorlds) for (const f of worlds.fixtures) wanted.add(f);
  const t0 = Date.now();
  const fixtures = buildFixtures(join(root, 'f'), sizes, wanted);
  const setupSec = (Date.now() - t0) / 1000;
  log(`layer trees built in ${fmtSeconds(setupSec)}`);

  const book = new SampleBook();
  const pairs = new SampleBook<Side>();
  let daemon: string | undefined;
  let alarms: string[] = [];
  const client = new ClientProcess(REPO, opts.timeoutSec);
  const env: SuiteEnv = {
    sizes, runs: opts.runs, timeoutSec: opts.timeoutSec, sessionBudgetSec: opts.sessionBudgetSec, fixtures,
    book, scratch: new ScratchDirs(join(root, 's')), client, log,
  };
  try {
    for (const s of sessions) await runSession(env, s, ready);
    if (runWorlds) {
      if (ready.some((p) => p.id === 'worldfs')) await runWorldsSession(env, REPO, worlds);
      else log('worlds: skipped, worldfs cannot run here (see the peers table)');
    }
    const wenv: WorldFiguresEnv = { ...env, repo: REPO, cleanup, pairs, aptTimeoutSec: opts.aptTimeoutSec };
    if (runCommands) daemon = await runInWorld(wenv, inWorld);
    if (runInstall) alarms = await runApt(wenv, apt);
  } finally {
    client.stop();
  }

  finishMachine(machine);
  const figures = summarizeFigures(book.samples, sessions, runWorlds ? worlds : undefined);
  const date = new Date(started);
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  const doc: ResultDoc = {
    format: 'worldos-bench/1', date: date.toISOString(), mode: opts.quick ? 'quick' : 'full', machine,
    options: {
      runs: opts.runs, only: opts.only, worldfsOpts: opts.worldfsOpts, tmpdir: opts.tmpdir, timeoutSec: opts.timeoutSec,
      sessionBudgetSec: opts.sessionBudgetSec, aptTimeoutSec: opts.aptTimeoutSec,
    },
    sizes, peers: statuses, figures,
    depth: depthScaling(figures, sizes, ready.map((p) => p.id)),
    merge: runWorlds ? mergeScaling(figures, sizes) : [],
    ...(runCommands || runInstall ? {
      world: {
        figures: [
          ...(runCommands ? summarizePairs(pairs.samples, pairDefs(inWorld), 'host') : []),
          ...(runInstall ? summarizePairs(pairs.samples, pairDefs(apt), 'overlayfs chroot') : []),
        ],
        daemon, alarms, commit: checkoutCommit(),
      },
    } : {}),
    durationSec: (Date.now() - started) / 1000, setupSec,
  };
  process.stdout.write(renderTable(doc) + '\n');
  log(`done in ${fmtSeconds(doc.durationSec)}`);
  for (const a of alarms) log(`!!! ${a} !!!`);
  if (opts.noWrite) return alarms.length;
  const outDir = opts.outDir ? resolve(opts.outDir) : join(REPO, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${day}-${doc.mode}`);
  const chart = `${day}-${doc.mode}.svg`;
  writeFileSync(`${base}.json`, JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderMarkdown(doc, chart));
  writeFileSync(`${base}.svg`, renderSvg(doc));
  log(`wrote ${base}.{md,json,svg}`);
  return alarms.length;
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv, process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.message + '\n');
      return 2;
    }
    throw e;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (it mounts filesystems and drops the page cache)\n');
    return 1;
  }
  const cleanup = new Cleanup();
  cleanup.trap();
  try {
    return (await bench(opts, cleanup)) > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.message + '\n');
      return 2;
    }
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
    return 1;
  } finally {
    cleanup.runSync();
  }
}

/** This checkout's commit, marked when the code that serves a world is modified. */
function checkoutCommit(): string {
  const commit = firstLine('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']) ?? '?';
  return commit + (firstLine('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'fs', 'cli']) ? ' (src/fs/cli modified)' : '');
}

main(process.argv.slice(2)).then((code) => process.exit(code));
