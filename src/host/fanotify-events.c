/*
 * The fanotify reader thread (see fanotify.h): reads the group, drops our own events and those
 * outside every layer root, names directories through their handles (cached), and queues records
 * — (flags, layer, dir, name, key), dir relative to the layer root — in the order the kernel
 * queued the events, one batch per read, to the main thread. Only this thread touches the cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fanotify.h"

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

/* How long the reader rests after a read that held nothing to report (see fanotify_reader). */
static const struct timespec IDLE_REST = { 0, 1000 * 1000 };

void *fanotify_reader(void *arg) {
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
    if (b->count == 0) {
      free(b->data); free(b);
      /* Nothing to report: the daemon's own writes (or changes outside every layer). Waking this
         thread once per such event costs the writer a cross-CPU wake-up each time (most of the
         cost of an event on a VM); resting a moment lets a burst of them queue (and merge) for
         one read instead. An event that matters waits at most this long. */
      if (n > 0) nanosleep(&IDLE_REST, NULL);
      continue;
    }
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
