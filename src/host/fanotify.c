/*
 * fanotify for worldfs, the N-API side (linked into syscalls.node; bound by src/host/syscalls.ts):
 * one notification group marking whole filesystems, a reader thread (fanotify-events.c) that turns
 * its events into records of the layers it was given, and the delivery of those records, in the
 * order the kernel queued them, in batches, to a JS callback (napi_threadsafe_function).
 * Threads: the main thread makes, marks and closes a watch; only the reader thread reads the group
 * and owns the handle cache. Events of our own process, outside every root, in a skipped subtree
 * or under a `never` path are dropped there, before any string reaches JS.
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
#include "napi-errno.h"

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
  if (fan < 0) return throw_errno(env, errno, "fanotify_init", NULL);
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
    return throw_errno(env, w->stop < 0 ? errno : ENOMEM, "fanotifyWatch", NULL);
  }
  napi_unref_threadsafe_function(env, w->tsfn); /* like fs.watch with persistent: false */
  if (pthread_create(&w->thread, NULL, fanotify_reader, w) != 0) {
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    stopWatch(w);
    return throw_errno(env, EAGAIN, "fanotifyWatch: pthread_create", NULL);
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
