/*
 * fanotify for worldfs (linked into syscalls.node; bound by src/host/fanotify.ts): one notification
 * group marking whole filesystems, and a reader thread that turns its events into records of the
 * layers it was given — (flags, layer, dir, name, key), dir relative to the layer root — and hands
 * them, in the order the kernel queued them, in batches, to a JS callback (napi_threadsafe_function).
 * Threads: the main thread makes, marks and closes a watch; only the reader thread reads the group
 * and owns the handle cache. Events of our own process, outside every root, in a skipped subtree
 * or under a `never` path are dropped here, before any string reaches JS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <node_api.h>
#include "fanotify.h"

/* Record flags, as src/host/fanotify.ts reads them. */
#define R_NAME 1     /* entry `name` of `dir` was created, removed or moved: the name may be another object now */
#define R_DIR 2      /* the entry is a directory */
#define R_GONE 4     /* a directory was removed or moved away: what was below it is gone */
#define R_ADDED 8    /* a directory was created or moved in */
#define R_CONTENT 16 /* only the object's data or attributes changed */
#define R_FENCE 32   /* a fence file appeared: name is its path */
#define R_DEGRADED 64 /* events were lost, or the watch failed: name is why */

#define MAXP 4096
#define CACHE_SLOTS 16384 /* directory handles -> paths; cleared when half full or a directory moves */

typedef struct { char *root; char *mountpoint; size_t rootLen, mpLen; } Mount;
typedef struct { __kernel_fsid_t fsid; int mountFd; Mount *mounts; int nMounts; } Fs;
typedef struct { int layer; char *root; size_t rootLen; char **skips; int nSkips; } Root;
typedef struct { uint32_t hash; uint16_t keyLen; unsigned char *blob; /* key bytes, then the path */ } Slot;

typedef struct {
  char *data; size_t len, cap; /* records: u32 flags, i32 layer, then dir\0 name\0 key\0 */
  int count;
} Batch;

typedef struct Watch {
  int fan, stop;
  pid_t ownPid;
  Fs *fss; int nFss;
  Root *roots; int nRoots;
  char **never; int nNever;
  char *fence;
  Slot *cache; int cacheUsed;
  pthread_t thread; int running;
  napi_threadsafe_function tsfn;
  napi_env env;
  int closed, hooked;
} Watch;

/* ---- small helpers ---- */

static char *dupStr(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static napi_value prop(napi_env env, napi_value o, const char *name) {
  napi_value v = NULL;
  napi_get_named_property(env, o, name, &v);
  return v;
}

static uint32_t arrayLen(napi_env env, napi_value a) {
  uint32_t n = 0;
  if (napi_get_array_length(env, a, &n) != napi_ok) return 0;
  return n;
}

static napi_value elem(napi_env env, napi_value a, uint32_t i) {
  napi_value v = NULL;
  napi_get_element(env, a, i, &v);
  return v;
}

static uint32_t fnv(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h ? h : 1;
}

/** `path` is `base` or below it. */
static int under(const char *path, const char *base, size_t baseLen) {
  if (baseLen == 1 && base[0] == '/') return 1;
  return strncmp(path, base, baseLen) == 0 && (path[baseLen] == '\0' || path[baseLen] == '/');
}

/* ---- the handle cache (reader thread only) ---- */

static void cacheClear(Watch *w) {
  for (int i = 0; i < CACHE_SLOTS; i++) { free(w->cache[i].blob); w->cache[i].blob = NULL; w->cache[i].hash = 0; }
  w->cacheUsed = 0;
}

static const char *cacheGet(Watch *w, const unsigned char *key, size_t keyLen, uint32_t h) {
  for (uint32_t i = h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
    Slot *s = &w->cache[i];
    if (!s->blob) return NULL;
    if (s->hash == h && s->keyLen == keyLen && memcmp(s->blob, key, keyLen) == 0) return (char *)s->blob + keyLen;
  }
}

static void cachePut(Watch *w, const unsigned char *key, size_t keyLen, uint32_t h, const char *path) {
  if (w->cacheUsed >= CACHE_SLOTS / 2) cacheClear(w);
  size_t pl = strlen(path) + 1;
  unsigned char *blob = malloc(keyLen + pl);
  memcpy(blob, key, keyLen);
  memcpy(blob + keyLen, path, pl);
  uint32_t i = h & (CACHE_SLOTS - 1);
  while (w->cache[i].blob) i = (i + 1) & (CACHE_SLOTS - 1);
  w->cache[i] = (Slot){ h, (uint16_t)keyLen, blob };
  w->cacheUsed++;
}

/* ---- batches ---- */

static void put(Batch *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 4096;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void record(Batch *b, uint32_t flags, int32_t layer, const char *dir, const char *name, const char *key) {
  put(b, &flags, 4);
  put(b, &layer, 4);
  put(b, dir, strlen(dir) + 1);
  put(b, name, strlen(name) + 1);
  put(b, key ? key : "", key ? strlen(key) + 1 : 1);
  b->count++;
}

/* ---- resolving a directory handle to a path ---- */

/** The path (through fs->mounts[0]) of the object `fh` names: 0, -1 (gone, or too long to serve: skip), or an errno. */
static int resolve(Watch *w, Fs *fs, struct file_handle *fh, char *out, int cacheable) {
  size_t keyLen = sizeof(fh->handle_type) + fh->handle_bytes;
  unsigned char key[sizeof(int) + MAX_HANDLE_SZ + sizeof(void *)];
  memcpy(key, &fs, sizeof fs);
  memcpy(key + sizeof fs, &fh->handle_type, sizeof(fh->handle_type));
  memcpy(key + sizeof fs + sizeof(fh->handle_type), fh->f_handle, fh->handle_bytes);
  keyLen += sizeof fs;
  uint32_t h = fnv(key, keyLen);
  if (cacheable) {
    const char *hit = cacheGet(w, key, keyLen, h);
    if (hit) { strcpy(out, hit); return 0; }
  }
  int fd = open_by_handle_at(fs->mountFd, fh, O_PATH);
  if (fd < 0) return errno == ESTALE || errno == ENOENT ? -1 : errno;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, out, MAXP - 1);
  int err = n < 0 ? errno : 0;
  close(fd);
  /* A path past PATH_MAX: nothing the daemon serves (its calls take paths) lies there. */
  if (n < 0) return err == ENAMETOOLONG ? -1 : err;
  if (n >= MAXP - 1) return -1;
  out[n] = '\0';
  if (n > 10 && strcmp(out + n - 10, " (deleted)") == 0) return -1;
  if (out[0] != '/') return -1; /* not reachable from our root */
  if (cacheable) cachePut(w, key, keyLen, h, out);
  return 0;
}

/** "dev:ino" of a non-directory with more than one name (its other names show a change too). */
static void keyOf(Fs *fs, struct file_handle *fh, char *out) {
  out[0] = '\0';
  int fd = open_by_handle_at(fs->mountFd, fh, O_PATH);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
    snprintf(out, 64, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  }
  close(fd);
}

/* ---- one event ---- */

/** The key of a content change, computed on its first report only (most events match no root). */
typedef struct { Fs *fs; struct file_handle *fh; char key[64]; int done; } LazyKey;

static const char *keyNow(LazyKey *k) {
  if (k == NULL || k->fh == NULL) return NULL;
  if (!k->done) keyOf(k->fs, k->fh, k->key);
  k->done = 1;
  return k->key[0] ? k->key : NULL;
}

static void emitFor(Watch *w, Batch *b, const char *dir, const char *name, uint32_t flags, LazyKey *key) {
  for (int i = 0; i < w->nNever; i++) if (under(dir, w->never[i], strlen(w->never[i]))) return;
  for (int i = 0; i < w->nRoots; i++) {
    Root *r = &w->roots[i];
    if (!under(dir, r->root, r->rootLen)) continue;
    const char *rel = r->rootLen == 1 ? dir + 1 : dir[r->rootLen] == '/' ? dir + r->rootLen + 1 : "";
    int skipped = 0;
    for (int k = 0; k < r->nSkips && !skipped; k++) skipped = under(rel, r->skips[k], strlen(r->skips[k]));
    if (!skipped) record(b, flags, r->layer, rel, name, keyNow(key));
  }
}

static void handleEvent(Watch *w, Batch *b, struct fanotify_event_metadata *m) {
  if (m->mask & FAN_Q_OVERFLOW) {
    record(b, R_DEGRADED, -1, "", "the fanotify queue overflowed (events were lost)", NULL);
    return;
  }
  if (m->pid == w->ownPid) return;
  struct fanotify_event_info_fid *dfid = NULL, *fid = NULL;
  const char *name = NULL;
  for (size_t off = m->metadata_len; off + sizeof(struct fanotify_event_info_header) <= m->event_len;) {
    struct fanotify_event_info_header *h = (void *)((char *)m + off);
    if (h->len == 0) break;
    struct fanotify_event_info_fid *f = (void *)h;
    if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
      dfid = f;
      struct file_handle *fh = (void *)f->handle;
      name = (const char *)fh->f_handle + fh->handle_bytes;
    } else if (h->info_type == FAN_EVENT_INFO_TYPE_DFID) {
      dfid = f;
    } else if (h->info_type == FAN_EVENT_INFO_TYPE_FID) {
      fid = f;
    }
    off += h->len;
  }
  if (!dfid) return;
  Fs *fs = NULL;
  for (int i = 0; i < w->nFss && !fs; i++) {
    if (memcmp(&w->fss[i].fsid, &dfid->fsid, sizeof dfid->fsid) == 0) fs = &w->fss[i];
  }
  if (!fs) return;
  int ondir = (m->mask & FAN_ONDIR) != 0;
  int dirent = (m->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)) != 0;
  char path[MAXP];
  int err = resolve(w, fs, (struct file_handle *)dfid->handle, path, 1);
  if (err > 0) {
    char why[160];
    snprintf(why, sizeof why, "fanotify: cannot name a changed directory (%s)", strerrorname_np(err) ? strerrorname_np(err) : "?");
    record(b, R_DEGRADED, -1, "", why, NULL);
    return;
  }
  /* A directory moved: every cached path below it is stale now. */
  if (ondir && (m->mask & FAN_MOVED_FROM)) cacheClear(w);
  if (err < 0) return;
  char parent[MAXP];
  if (name == NULL) {
    /* An event on a directory itself (its attributes): report it as its parent's entry. */
    if (!ondir) return;
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path) return; /* a filesystem's root: no entry to name */
    *slash = '\0';
    strcpy(parent, path);
    name = slash + 1;
  } else {
    strcpy(parent, path);
  }
  if (strcmp(name, ".") == 0) return;
  uint32_t flags = dirent ? R_NAME : R_CONTENT;
  if (ondir) flags |= R_DIR;
  if (ondir && (m->mask & (FAN_DELETE | FAN_MOVED_FROM))) flags |= R_GONE;
  if (ondir && (m->mask & (FAN_CREATE | FAN_MOVED_TO))) flags |= R_ADDED;
  LazyKey key = { fs, !dirent && !ondir && fid ? (struct file_handle *)fid->handle : NULL, "", 0 };
  if (w->fence && !ondir && (m->mask & FAN_CREATE) && strcmp(parent, w->fence) == 0) {
    char f[MAXP];
    snprintf(f, sizeof f, "%s/%s", parent, name);
    record(b, R_FENCE, -1, "", f, NULL);
  }
  emitFor(w, b, parent, name, flags, &key);
  /* The same filesystem mounted again elsewhere (a bind mount): the same change under each. */
  Mount *first = &fs->mounts[0];
  for (int i = 1; i < fs->nMounts; i++) {
    Mount *mt = &fs->mounts[i];
    if (!under(parent, first->mountpoint, first->mpLen)) break;
    char fsPath[MAXP], other[MAXP];
    const char *rest = first->mpLen == 1 ? parent : parent + first->mpLen;
    snprintf(fsPath, sizeof fsPath, "%s%s", first->rootLen == 1 ? "" : first->root, rest);
    if (fsPath[0] == '\0') strcpy(fsPath, "/");
    if (!under(fsPath, mt->root, mt->rootLen)) continue;
    snprintf(other, sizeof other, "%s%s", mt->mpLen == 1 ? "" : mt->mountpoint, mt->rootLen == 1 ? fsPath : fsPath + mt->rootLen);
    if (other[0] == '\0') strcpy(other, "/");
    emitFor(w, b, other, name, flags, &key);
  }
}

/* ---- the reader thread ---- */

static void *reader(void *arg) {
  Watch *w = arg;
  char *buf = malloc(64 * 1024);
  struct pollfd p[2] = { { w->fan, POLLIN, 0 }, { w->stop, POLLIN, 0 } };
  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) break;
    ssize_t n = read(w->fan, buf, 64 * 1024);
    Batch *b = calloc(1, sizeof *b);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) { free(b); continue; }
      char why[128];
      snprintf(why, sizeof why, "reading the fanotify group failed (%s)", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
      record(b, R_DEGRADED, -1, "", why, NULL);
    } else {
      struct fanotify_event_metadata *m = (void *)buf;
      size_t len = (size_t)n;
      for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
        if (m->vers != FANOTIFY_METADATA_VERSION) {
          record(b, R_DEGRADED, -1, "", "fanotify: unknown event format", NULL);
          break;
        }
        handleEvent(w, b, m);
      }
    }
    if (b->count == 0) { free(b->data); free(b); continue; }
    if (napi_call_threadsafe_function(w->tsfn, b, napi_tsfn_blocking) != napi_ok) {
      free(b->data); free(b);
      break; /* closing */
    }
    if (n < 0) break;
  }
  free(buf);
  cacheClear(w);
  return NULL;
}

/** On the main thread: a batch becomes a flat array [flags, layer, dir, name, key, ...] for onBatch. */
static void deliver(napi_env env, napi_value cb, void *ctx, void *data) {
  Batch *b = data;
  if (env != NULL && cb != NULL) {
    napi_value arr, v, undef;
    napi_get_undefined(env, &undef);
    napi_create_array_with_length(env, (size_t)b->count * 5, &arr);
    size_t off = 0;
    for (int i = 0; i < b->count; i++) {
      uint32_t flags; int32_t layer;
      memcpy(&flags, b->data + off, 4); off += 4;
      memcpy(&layer, b->data + off, 4); off += 4;
      napi_create_uint32(env, flags, &v); napi_set_element(env, arr, i * 5, v);
      napi_create_int32(env, layer, &v); napi_set_element(env, arr, i * 5 + 1, v);
      for (int k = 2; k < 5; k++) {
        size_t l = strlen(b->data + off);
        if (k == 4 && l == 0) v = undef;
        else napi_create_string_utf8(env, b->data + off, l, &v);
        napi_set_element(env, arr, i * 5 + k, v);
        off += l + 1;
      }
    }
    napi_value global;
    napi_get_global(env, &global);
    napi_call_function(env, global, cb, 1, &arr, NULL);
  }
  free(b->data);
  free(b);
}

/* ---- making and closing a watch ---- */

static void cleanupHook(void *arg);

static void stopWatch(Watch *w) {
  if (w->closed) return;
  w->closed = 1;
  if (w->running) {
    uint64_t one = 1;
    if (write(w->stop, &one, sizeof one) < 0) { /* the thread also stops on napi_closing */ }
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    pthread_join(w->thread, NULL);
    w->running = 0;
  }
  if (w->hooked) napi_remove_env_cleanup_hook(w->env, cleanupHook, w);
  w->hooked = 0;
  if (w->fan >= 0) close(w->fan);
  if (w->stop >= 0) close(w->stop);
  for (int i = 0; i < w->nFss; i++) {
    if (w->fss[i].mountFd >= 0) close(w->fss[i].mountFd);
    for (int k = 0; k < w->fss[i].nMounts; k++) { free(w->fss[i].mounts[k].root); free(w->fss[i].mounts[k].mountpoint); }
    free(w->fss[i].mounts);
  }
  free(w->fss);
  for (int i = 0; i < w->nRoots; i++) {
    free(w->roots[i].root);
    for (int k = 0; k < w->roots[i].nSkips; k++) free(w->roots[i].skips[k]);
    free(w->roots[i].skips);
  }
  free(w->roots);
  for (int i = 0; i < w->nNever; i++) free(w->never[i]);
  free(w->never);
  free(w->fence);
  free(w->cache);
}

/** Node is tearing the environment down: stop the thread before it goes. */
static void cleanupHook(void *arg) {
  Watch *w = arg;
  w->hooked = 0;
  stopWatch(w);
}

static void finalizeWatch(napi_env env, void *data, void *hint) {
  stopWatch(data);
  free(data);
}

static napi_value throwErrno(napi_env env, int err, const char *what) {
  char msg[256];
  const char *code = strerrorname_np(err) ? strerrorname_np(err) : "EIO";
  snprintf(msg, sizeof msg, "%s, %s", code, what);
  napi_value c, m, e;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &e);
  napi_throw(env, e);
  return NULL;
}

#define MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ONDIR)

/*
 * fanotifyWatch({ ownPid, filesystems: [{ mark: 'filesystem' | 'dir', path, mounts: [[root, mountpoint]...] }],
 *                 roots: [{ layer, root, skips }], never: [path...], fence?: path }, onBatch)
 *   -> { handle, errors: [code or '' per filesystem] }
 */
static napi_value js_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) { napi_throw_type_error(env, NULL, "fanotifyWatch(config, onBatch)"); return NULL; }
  napi_value cfg = argv[0];
  int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME | FAN_REPORT_FID, O_RDONLY | O_LARGEFILE);
  if (fan < 0) return throwErrno(env, errno, "fanotify_init");
  Watch *w = calloc(1, sizeof *w);
  w->fan = fan;
  w->env = env;
  w->stop = eventfd(0, EFD_CLOEXEC);
  w->cache = calloc(CACHE_SLOTS, sizeof(Slot));
  int32_t pid = 0;
  napi_get_value_int32(env, prop(env, cfg, "ownPid"), &pid);
  w->ownPid = pid;

  napi_value errors;
  napi_value fss = prop(env, cfg, "filesystems");
  w->nFss = (int)arrayLen(env, fss);
  w->fss = calloc(w->nFss ? w->nFss : 1, sizeof(Fs));
  napi_create_array_with_length(env, w->nFss, &errors);
  for (int i = 0; i < w->nFss; i++) {
    napi_value f = elem(env, fss, i);
    Fs *fs = &w->fss[i];
    fs->mountFd = -1;
    char *path = dupStr(env, prop(env, f, "path"));
    char *mark = dupStr(env, prop(env, f, "mark"));
    napi_value mounts = prop(env, f, "mounts");
    fs->nMounts = (int)arrayLen(env, mounts);
    fs->mounts = calloc(fs->nMounts ? fs->nMounts : 1, sizeof(Mount));
    for (int k = 0; k < fs->nMounts; k++) {
      napi_value pair = elem(env, mounts, k);
      Mount *mt = &fs->mounts[k];
      mt->root = dupStr(env, elem(env, pair, 0));
      mt->mountpoint = dupStr(env, elem(env, pair, 1));
      mt->rootLen = strlen(mt->root);
      mt->mpLen = strlen(mt->mountpoint);
    }
    int err = 0;
    struct statfs sfs;
    if (!path || !mark || fs->nMounts == 0) err = EINVAL;
    else if ((fs->mountFd = open(fs->mounts[0].mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) err = errno;
    else if (fstatfs(fs->mountFd, &sfs) != 0) err = errno;
    else {
      memcpy(&fs->fsid, &sfs.f_fsid, sizeof fs->fsid);
      unsigned flags = FAN_MARK_ADD | (strcmp(mark, "filesystem") == 0 ? FAN_MARK_FILESYSTEM : FAN_MARK_ONLYDIR);
      uint64_t mask = strcmp(mark, "filesystem") == 0 ? MASK : FAN_CREATE;
      if (fanotify_mark(fan, flags, mask, AT_FDCWD, path) != 0) err = errno;
    }
    napi_value code;
    napi_create_string_utf8(env, err ? (strerrorname_np(err) ? strerrorname_np(err) : "EIO") : "", NAPI_AUTO_LENGTH, &code);
    napi_set_element(env, errors, i, code);
    free(path);
    free(mark);
  }

  napi_value roots = prop(env, cfg, "roots");
  w->nRoots = (int)arrayLen(env, roots);
  w->roots = calloc(w->nRoots ? w->nRoots : 1, sizeof(Root));
  for (int i = 0; i < w->nRoots; i++) {
    napi_value r = elem(env, roots, i);
    Root *root = &w->roots[i];
    int32_t layer = 0;
    napi_get_value_int32(env, prop(env, r, "layer"), &layer);
    root->layer = layer;
    root->root = dupStr(env, prop(env, r, "root"));
    root->rootLen = strlen(root->root);
    napi_value skips = prop(env, r, "skips");
    root->nSkips = (int)arrayLen(env, skips);
    root->skips = calloc(root->nSkips ? root->nSkips : 1, sizeof(char *));
    for (int k = 0; k < root->nSkips; k++) root->skips[k] = dupStr(env, elem(env, skips, k));
  }
  napi_value never = prop(env, cfg, "never");
  w->nNever = (int)arrayLen(env, never);
  w->never = calloc(w->nNever ? w->nNever : 1, sizeof(char *));
  for (int i = 0; i < w->nNever; i++) w->never[i] = dupStr(env, elem(env, never, i));
  napi_value fence = prop(env, cfg, "fence");
  napi_valuetype t;
  napi_typeof(env, fence, &t);
  if (t == napi_string) w->fence = dupStr(env, fence);

  napi_value handle, result, name;
  napi_create_external(env, w, finalizeWatch, NULL, &handle);
  napi_create_string_utf8(env, "worldfs-fanotify", NAPI_AUTO_LENGTH, &name);
  if (w->stop < 0 || napi_create_threadsafe_function(env, argv[1], NULL, name, 64, 1, NULL, NULL, NULL, deliver, &w->tsfn) != napi_ok) {
    stopWatch(w);
    return throwErrno(env, w->stop < 0 ? errno : ENOMEM, "fanotifyWatch");
  }
  napi_unref_threadsafe_function(env, w->tsfn); /* like fs.watch with persistent: false */
  if (pthread_create(&w->thread, NULL, reader, w) != 0) {
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    stopWatch(w);
    return throwErrno(env, EAGAIN, "fanotifyWatch: pthread_create");
  }
  w->running = 1;
  napi_add_env_cleanup_hook(env, cleanupHook, w);
  w->hooked = 1;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "errors", errors);
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; void *w = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &w) != napi_ok) {
    napi_throw_type_error(env, NULL, "fanotifyClose(handle)");
    return NULL;
  }
  stopWatch(w);
  return NULL;
}

void fanotify_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "fanotifyWatch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL },
    { "fanotifyClose", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
