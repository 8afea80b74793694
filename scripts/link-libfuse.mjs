// Post-install step: make fuse-native loadable and correct on a machine without Debian's libfuse2.
// 1. fuse.node wants `libfuse.so.2` (NEEDED, no RPATH); the package ships `libfuse.so` beside it,
//    so we add the `libfuse.so.2` name there. Our launchers put that folder on LD_LIBRARY_PATH.
// 2. fuse-native 2.2.6 passes atime twice to utimens (mtime is lost) and cannot express
//    UTIME_NOW/UTIME_OMIT; we patch those lines and rebuild the addon once.
// 3. fuse-native binds no fallocate (libfuse 2.9 has it): we add it as operation 34, its handler
//    receives (path, handle, mode, offset as two uint32 halves, length as two halves).
import { existsSync, readFileSync, writeFileSync, symlinkSync, lstatSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('fuse-native/package.json'));
const releaseDir = join(pkgDir, 'build', 'Release');
const source = join(pkgDir, 'fuse-native.c');
const MARK = '/* worldos: patch v4 (signed ns times, utimens) */';

function patchSource() {
  const text = readFileSync(source, 'utf8');
  if (text.includes(MARK)) return false;
  if (text.includes('/* worldos: utimens patch')) {
    throw new Error(`${source} carries an older worldos patch; reinstall fuse-native (rm -rf node_modules && npm ci)`);
  }
  // Times cross the boundary as nanoseconds since the epoch (fuse-native used milliseconds).
  const helper = `${MARK}
static uint64_t worldos_utime_to_uint64 (const struct timespec* ts) {
  if (ts->tv_nsec == UTIME_NOW) return ((uint64_t) 0xFFFFFFFFu) << 32;
  if (ts->tv_nsec == UTIME_OMIT) return ((uint64_t) 0xFFFFFFFEu) << 32;
  return (uint64_t) ((int64_t) ts->tv_sec * 1000000000 + (int64_t) ts->tv_nsec);
}
`;
  let out = text.replace('static void populate_stat (', `${helper}\nstatic void populate_stat (`);
  out = out.replace('l->atime = timespec_to_uint64(&tv[0]);', 'l->atime = worldos_utime_to_uint64(&tv[0]);');
  out = out.replace('l->mtime = timespec_to_uint64(&tv[1]);', 'l->mtime = worldos_utime_to_uint64(&tv[1]);');
  out = out.replace('FUSE_UINT64_TO_INTS_ARGV(l->atime, 5)', 'FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)');
  out = out.replace(
    '  uint64_t ms = uint32s_to_uint64(ints);\n  ts->tv_sec = ms / 1000;\n  ts->tv_nsec = (ms % 1000) * 1000000;',
    '  int64_t ns = (int64_t) uint32s_to_uint64(ints);\n  ts->tv_sec = ns / 1000000000;\n  ts->tv_nsec = ns % 1000000000;\n' +
    '  if (ts->tv_nsec < 0) { ts->tv_nsec += 1000000000; ts->tv_sec -= 1; }');
  // libfuse 2.9 hands a one-sided time change (touch -m, tar) to utimens only with this flag.
  out = out.replace('struct fuse_operations ops = { };', 'struct fuse_operations ops = { };\n  ops.flag_utime_omit_ok = 1;');
  if (!out.includes('worldos_utime_to_uint64(&tv[1])') || !out.includes('FUSE_UINT64_TO_INTS_ARGV(l->mtime, 5)') || !out.includes('ops.flag_utime_omit_ok = 1;') || !out.includes('ts->tv_nsec = ns % 1000000000;')) {
    throw new Error(`fuse-native source at ${source} does not have the expected utimens code; refusing to patch`);
  }
  writeFileSync(source, out);
  return true;
}

const FALLOCATE_MARK = '/* worldos: fallocate v1 */';

/** Add a fallocate operation to fuse-native's C source and JavaScript op table; false if already there. */
function patchFallocate() {
  const c = readFileSync(source, 'utf8');
  const js = readFileSync(join(pkgDir, 'index.js'), 'utf8');
  if (c.includes(FALLOCATE_MARK) && js.includes(FALLOCATE_MARK)) return false;
  const method = `${FALLOCATE_MARK}
static const uint32_t op_fallocate = 34;
FUSE_METHOD_VOID(fallocate, 7, 0, (const char *path, int mode, off_t offset, off_t length, struct fuse_file_info *info), {
  l->path = path;
  l->mode = mode;
  l->offset = offset;
  l->len = length;
  l->info = info;
}, {
  napi_create_string_utf8(env, l->path, NAPI_AUTO_LENGTH, &(argv[2]));
  napi_create_uint32(env, l->info != NULL ? l->info->fh : 0, &(argv[3]));
  napi_create_uint32(env, l->mode, &(argv[4]));
  FUSE_UINT64_TO_INTS_ARGV(l->offset, 5)
  FUSE_UINT64_TO_INTS_ARGV(l->len, 7)
})

static void fuse_native_dispatch_init (`;
  const anchors = [
    ['static void fuse_native_dispatch_init (', method],
    ['  if (implemented[op_rmdir]) ops.rmdir = fuse_native_rmdir;',
      '  if (implemented[op_rmdir]) ops.rmdir = fuse_native_rmdir;\n  if (implemented[op_fallocate]) ops.fallocate = fuse_native_fallocate;'],
    ['  NAPI_EXPORT_FUNCTION(fuse_native_signal_rmdir)', '  NAPI_EXPORT_FUNCTION(fuse_native_signal_rmdir)\n  NAPI_EXPORT_FUNCTION(fuse_native_signal_fallocate)'],
    ['  NAPI_EXPORT_UINT32(op_rmdir)', '  NAPI_EXPORT_UINT32(op_rmdir)\n  NAPI_EXPORT_UINT32(op_fallocate)'],
  ];
  const jsFrom = "  ['rmdir', {\n    op: binding.op_rmdir\n  }]\n])";
  const jsTo = `  ['rmdir', {\n    op: binding.op_rmdir\n  }],\n  ${FALLOCATE_MARK}\n  ['fallocate', {\n    op: binding.op_fallocate\n  }]\n])`;
  if (anchors.some(([from]) => c.split(from).length !== 2) || !js.includes(jsFrom)) {
    throw new Error(`fuse-native at ${pkgDir} does not have the expected code for the fallocate patch; refusing to patch`);
  }
  let out = c;
  for (const [from, to] of anchors) out = out.replace(from, to);
  writeFileSync(source, out);
  writeFileSync(join(pkgDir, 'index.js'), js.replace(jsFrom, jsTo));
  return true;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error('node-gyp not found: it ships with npm; set npm_config_node_gyp to its node-gyp.js');
}

const patched = patchSource();
if (patchFallocate() || patched || !existsSync(join(releaseDir, 'fuse.node'))) {
  // No network here: build against the headers Node ships (npm sets nodedir; /usr/include/node otherwise).
  const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
  const args = [nodeGyp(), 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  execFileSync(process.execPath, args, { cwd: pkgDir, stdio: ['ignore', 'ignore', 'inherit'] });
}
const link = join(releaseDir, 'libfuse.so.2');
try { if (lstatSync(link)) unlinkSync(link); } catch { /* absent */ }
symlinkSync('libfuse.so', link);
if (!existsSync(join(releaseDir, 'libfuse.so'))) throw new Error(`${releaseDir}/libfuse.so is missing after build`);
