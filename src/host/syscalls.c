/*
 * syscalls.node: the few system calls Node lacks and worldfs needs, as N-API functions
 * (built at install by scripts/build-native.mjs; loaded by src/host/syscalls.ts):
 *   utimensat(path, atimeNs, mtimeNs)  nanosecond times, never following symlinks; null = UTIME_OMIT,
 *                                     "now" = UTIME_NOW
 *   mknod(path, mode, major, minor)   fifos, devices, whiteouts (character device 0/0)
 *   renameat2(from, to, flags)        RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT
 *   linkFd(fd, path)                  a first name for an O_TMPFILE file: linkat(fd, "", AT_EMPTY_PATH),
 *                                     or through /proc/self/fd/N where that is not allowed
 *   lstatNoSymlinks(path, out)        lstat that follows no symlink anywhere in `path` (openat2
 *                                     RESOLVE_NO_SYMLINKS + fstat): out[0] = st_mode, out[1] = st_rdev;
 *                                     returns 0 or the errno (no exception: absence is common)
 *   openDirAt(dirfd, path)            a directory descriptor (O_PATH) for `path` relative to `dirfd`
 *                                     (-100: AT_FDCWD) that follows no symlink on the way (openat2
 *                                     RESOLVE_NO_SYMLINKS): how long host paths are walked in chunks
 *   openNoSymlinks(path, flags, mode) open(2) following no symlink anywhere in `path` (openat2
 *                                     RESOLVE_NO_SYMLINKS): ELOOP where one was swapped in
 *   watchReadable(fd, cb) / unwatch(w) call cb() on the main thread whenever `fd` is readable: a
 *                                     uv_poll handle on Node's own event loop (libuv's epoll), so a
 *                                     request on /dev/fuse reaches JavaScript with no thread-pool hop
 *   fanotifyWatch / fanotifyClose     whole-filesystem change reports (fanotify.c)
 *   fallocate(fd, mode, offset, len)  FALLOC_FL_* on an open file; offset and len are bigints (exact)
 *   futimens(fd, atimeNs, mtimeNs)    utimensat's times on an open file (one unlinked, say)
 *   lseek(fd, offset, whence)          lseek(2) with a bigint offset (SEEK_DATA / SEEK_HOLE); the new offset, a bigint
 *   fuseBackingOpen / fuseBackingClose FUSE passthrough's backing files (fuse-passthrough.c)
 *   inotifyInit / inotifyAddWatch / inotifyRmWatch  inotify with a chosen event mask (inotify.c)
 * Errors are thrown as Error objects with `code` set to the errno name, like Node's own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <linux/limits.h>
#include <unistd.h>
#include <time.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <node_api.h>
#include <stdlib.h>
#include <uv.h>
#include "fanotify.h"
#include "fuse-passthrough.h"
#include "inotify.h"
#include "napi-errno.h"

#define MAXPATH 4096

static int get_path(napi_env env, napi_value v, char *buf) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, MAXPATH, &len) != napi_ok || len >= MAXPATH - 1) return -1;
  return 0;
}

static int get_time(napi_env env, napi_value v, struct timespec *ts) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) { ts->tv_sec = 0; ts->tv_nsec = UTIME_OMIT; return 0; }
  if (t == napi_string) { ts->tv_sec = 0; ts->tv_nsec = UTIME_NOW; return 0; } /* "now" */
  /* Nanoseconds since the epoch need more than 64 bits past 2262-04-11 (and before 1677): read
   * up to 128. */
  int sign = 0; size_t count = 2; uint64_t words[2] = { 0, 0 };
  if (napi_get_value_bigint_words(env, v, &sign, &count, words) != napi_ok || count > 2) return -1;
  __int128 ns = ((__int128)words[1] << 64) | words[0];
  if (sign) ns = -ns;
  __int128 sec = ns / 1000000000, nsec = ns % 1000000000;
  if (nsec < 0) { nsec += 1000000000; sec -= 1; }
  if (sec > INT64_MAX || sec < INT64_MIN) return -1;
  ts->tv_sec = (time_t)sec; ts->tv_nsec = (long)nsec;
  return 0;
}

static napi_value js_utimensat(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; char path[MAXPATH]; struct timespec ts[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || get_path(env, argv[0], path) || get_time(env, argv[1], &ts[0]) || get_time(env, argv[2], &ts[1])) {
    napi_throw_type_error(env, NULL, "utimensat(path: string, atimeNs: bigint | null, mtimeNs: bigint | null)");
    return NULL;
  }
  if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0) return throw_errno(env, errno, "utimensat", path);
  return NULL;
}

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4]; char path[MAXPATH]; uint32_t mode, major, minor;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || get_path(env, argv[0], path) || napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &major) != napi_ok || napi_get_value_uint32(env, argv[3], &minor) != napi_ok) {
    napi_throw_type_error(env, NULL, "mknod(path: string, mode: number, major: number, minor: number)");
    return NULL;
  }
  if (mknod(path, mode, makedev(major, minor)) != 0) return throw_errno(env, errno, "mknod", path);
  return NULL;
}

static napi_value js_renameat2(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; char from[MAXPATH], to[MAXPATH]; uint32_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || get_path(env, argv[0], from) || get_path(env, argv[1], to) || napi_get_value_uint32(env, argv[2], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "renameat2(from: string, to: string, flags: number)");
    return NULL;
  }
  if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags) != 0) return throw_errno(env, errno, "renameat2", from);
  return NULL;
}

/* A name for the file open as `fd` (an O_TMPFILE one): linkat with AT_EMPTY_PATH, which wants
   CAP_DAC_READ_SEARCH; without it, the /proc/self/fd link followed (what linkat(2) suggests). */
static napi_value js_link_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; char path[MAXPATH]; int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || get_path(env, argv[1], path)) {
    napi_throw_type_error(env, NULL, "linkFd(fd: number, path: string)");
    return NULL;
  }
  if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) return NULL;
  if (errno != ENOENT && errno != EPERM) return throw_errno(env, errno, "linkat", path);
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0) return throw_errno(env, errno, "linkat", path);
  return NULL;
}

/* openat2 of `path` (relative to `dirfd`) following no symlink anywhere in it: a descriptor, or -1 with errno. */
static int openat_no_symlinks(int dirfd, const char *path, uint64_t flags, uint64_t mode) {
  struct open_how how = { .flags = flags | O_CLOEXEC, .mode = mode, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static napi_value js_lstat_no_symlinks(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; char path[MAXPATH];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_typedarray_type type; size_t length = 0; void *data = NULL;
  if (argc < 2 || get_path(env, argv[0], path) ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < 2) {
    napi_throw_type_error(env, NULL, "lstatNoSymlinks(path: string, out: Float64Array(2))");
    return NULL;
  }
  int err = 0;
  int fd = openat_no_symlinks(AT_FDCWD, path, O_PATH | O_NOFOLLOW, 0);
  if (fd < 0) {
    err = errno;
  } else {
    struct stat st;
    if (fstat(fd, &st) != 0) err = errno;
    else { ((double *)data)[0] = st.st_mode; ((double *)data)[1] = (double)st.st_rdev; }
    close(fd);
  }
  napi_value result;
  napi_create_int32(env, err, &result);
  return result;
}

/* open(2) of `path` following no symlink anywhere in it (openat2 RESOLVE_NO_SYMLINKS): ELOOP where one is. */
static napi_value js_open_no_symlinks(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; char path[MAXPATH]; uint32_t flags, mode;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || get_path(env, argv[0], path) || napi_get_value_uint32(env, argv[1], &flags) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &mode) != napi_ok) {
    napi_throw_type_error(env, NULL, "openNoSymlinks(path: string, flags: number, mode: number)");
    return NULL;
  }
  /* open(2) drops bits it does not know (a FUSE OPEN's flags carry FMODE_EXEC, say); openat2
     refuses them (EINVAL): keep only open(2)'s own. */
  flags &= O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | FASYNC | O_DIRECT |
           O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_PATH | O_SYNC | __O_TMPFILE;
  /* A mode only with O_CREAT or O_TMPFILE (which includes O_DIRECTORY): openat2 refuses one otherwise. */
  int fd = openat_no_symlinks(AT_FDCWD, path, flags, (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0);
  if (fd < 0) return throw_errno(env, errno, "openat2", path);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value js_open_dir_at(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int32_t dirfd; char path[MAXPATH];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &dirfd) != napi_ok || get_path(env, argv[1], path)) {
    napi_throw_type_error(env, NULL, "openDirAt(dirfd: number, path: string)");
    return NULL;
  }
  int fd = openat_no_symlinks(dirfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
  if (fd < 0) return throw_errno(env, errno, "openat2", path);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/* readdirNoAtime(path): the names in directory `path` and their d_type, flat ([name, type, ...],
   "." and ".." left out), read through a descriptor opened O_NOATIME: the daemon's own reads of a
   layer (its watches walking new directories) are not a user's, and must not move a directory's
   atime (relatime would, once a day or after a utimes). Without the right to O_NOATIME (neither
   owner nor CAP_FOWNER) the directory is read as any reader would. */
static napi_value js_readdir_no_atime(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; char path[MAXPATH];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || get_path(env, argv[0], path)) {
    napi_throw_type_error(env, NULL, "readdirNoAtime(path: string)");
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  napi_value result;
  napi_create_array(env, &result);
  uint32_t n = 0;
  char buf[32768];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, err, "getdents64", path);
    }
    if (got == 0) break;
    for (long off = 0; off < got;) {
      struct dirent64 *d = (void *)(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] == '.' && (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0'))) continue;
      napi_value name, type;
      napi_create_string_utf8(env, d->d_name, NAPI_AUTO_LENGTH, &name);
      napi_create_uint32(env, d->d_type, &type);
      napi_set_element(env, result, n++, name);
      napi_set_element(env, result, n++, type);
    }
  }
  close(fd);
  return result;
}

/* A readable-fd watch: a uv_poll handle and the JavaScript function it calls. */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
} fd_watch;

static void on_readable(uv_poll_t *handle, int status, int events) {
  fd_watch *w = handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, recv, arg, result;
  napi_get_reference_value(env, w->callback, &callback);
  napi_get_global(env, &recv); /* make_callback needs an object as `this` */
  napi_create_int32(env, status < 0 ? status : events, &arg);
  /* make_callback runs the microtasks the handler queued, as any Node I/O callback does. */
  if (napi_make_callback(env, w->context, recv, callback, 1, &arg, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error); /* process 'uncaughtException', as for any callback */
  }
  napi_close_handle_scope(env, scope);
}

static void free_watch(uv_handle_t *handle) {
  free(handle->data);
}

static napi_value js_watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int32_t fd; napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watchReadable(fd: number, callback: (events: number) => void)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, EINVAL, "uv_default_loop", "");
  fd_watch *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "watchReadable", "");
  w->env = env;
  w->poll.data = w;
  int err = uv_poll_init(loop, &w->poll, fd);
  if (err != 0) { free(w); return throw_errno(env, -err, "uv_poll_init", ""); }
  napi_value name;
  napi_create_string_utf8(env, "worldfs:fd-readable", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_async_init(env, NULL, name, &w->context);
  err = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (err != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    uv_close((uv_handle_t *)&w->poll, free_watch);
    return throw_errno(env, -err, "uv_poll_start", "");
  }
  napi_value external;
  napi_create_external(env, w, NULL, NULL, &external);
  return external;
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "unwatch(watch: the value watchReadable returned)");
    return NULL;
  }
  /* Called once per watch (src/host/fd-watch.ts guards it): libuv frees the handle after closing it. */
  fd_watch *w = data;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->context);
  uv_close((uv_handle_t *)&w->poll, free_watch);
  return NULL;
}

/* Calls on open files: fallocate(2) and futimens(3). */
static int get_fd(napi_env env, napi_value v, int *fd) {
  return napi_get_value_int32(env, v, fd) == napi_ok && *fd >= 0 ? 0 : -1;
}

static int get_off(napi_env env, napi_value v, off_t *off) {
  int64_t n; bool lossless;
  if (napi_get_value_bigint_int64(env, v, &n, &lossless) != napi_ok || !lossless) return -1;
  *off = (off_t) n;
  return 0;
}

static napi_value js_fallocate(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4]; int fd; uint32_t mode; off_t offset, len; char what[32];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || get_fd(env, argv[0], &fd) || napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      get_off(env, argv[2], &offset) || get_off(env, argv[3], &len)) {
    napi_throw_type_error(env, NULL, "fallocate(fd: number, mode: number, offset: bigint, len: bigint)");
    return NULL;
  }
  if (fallocate(fd, (int) mode, offset, len) != 0) {
    snprintf(what, sizeof what, "fd %d", fd);
    return throw_errno(env, errno, "fallocate", what);
  }
  return NULL;
}

static napi_value js_lseek(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; int fd; uint32_t whence; off_t offset; char what[32]; napi_value out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || get_fd(env, argv[0], &fd) || get_off(env, argv[1], &offset) || napi_get_value_uint32(env, argv[2], &whence) != napi_ok) {
    napi_throw_type_error(env, NULL, "lseek(fd: number, offset: bigint, whence: number)");
    return NULL;
  }
  off_t at = lseek(fd, offset, (int) whence);
  if (at < 0) {
    snprintf(what, sizeof what, "fd %d", fd);
    return throw_errno(env, errno, "lseek", what);
  }
  napi_create_bigint_int64(env, (int64_t) at, &out);
  return out;
}

static napi_value js_futimens(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; int fd; struct timespec ts[2]; char what[32];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || get_fd(env, argv[0], &fd) || get_time(env, argv[1], &ts[0]) || get_time(env, argv[2], &ts[1])) {
    napi_throw_type_error(env, NULL, "futimens(fd: number, atimeNs: bigint | null, mtimeNs: bigint | null)");
    return NULL;
  }
  if (futimens(fd, ts) != 0) {
    snprintf(what, sizeof what, "fd %d", fd);
    return throw_errno(env, errno, "futimens", what);
  }
  return NULL;
}

/* fgetxattr(fd, name): the value as a Buffer, or null where the attribute is not set (ENODATA). */
static napi_value js_fgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int fd; char name[XATTR_NAME_MAX + 2], what[32]; size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || get_fd(env, argv[0], &fd) ||
      napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok || len > XATTR_NAME_MAX) {
    napi_throw_type_error(env, NULL, "fgetxattr(fd: number, name: string)");
    return NULL;
  }
  char small[256];
  ssize_t n = fgetxattr(fd, name, small, sizeof small);
  char *big = NULL;
  while (n < 0 && errno == ERANGE) { /* larger than the first try: ask for the size, then read it */
    ssize_t want = fgetxattr(fd, name, NULL, 0);
    if (want < 0) { n = want; break; }
    free(big);
    big = malloc((size_t)want + 1);
    if (!big) { errno = ENOMEM; n = -1; break; }
    n = fgetxattr(fd, name, big, (size_t)want + 1);
  }
  napi_value result;
  if (n < 0) {
    int err = errno;
    free(big);
    if (err == ENODATA) { napi_get_null(env, &result); return result; }
    snprintf(what, sizeof what, "fd %d", fd);
    return throw_errno(env, err, "fgetxattr", what);
  }
  napi_create_buffer_copy(env, (size_t)n, big ? big : small, NULL, &result);
  free(big);
  return result;
}

static int64_t monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* readSome(fd, buf[, spinNs]): read(2) into the whole buffer; the byte count, or -errno. It never
   throws: a drained non-blocking descriptor (EAGAIN) is the normal end of every turn of a read loop,
   and Node's readSync throws there, capturing a stack through optimised frames: in a profile of a
   daemon serving `tar -x`, 8% of its main thread went to building those exceptions.
   With spinNs > 0, an EAGAIN is retried until something is read or spinNs nanoseconds have passed
   (busy polling: fs/transport/kernel/busy-poll.ts says when and why), yielding the CPU before each
   retry: a client the scheduler woke on this CPU would otherwise wait for the spin to end. */
static napi_value js_read_some(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; int fd; void *data; size_t len; int64_t spin = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || get_fd(env, argv[0], &fd) || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok
      || (argc > 2 && napi_get_value_int64(env, argv[2], &spin) != napi_ok)) {
    napi_throw_type_error(env, NULL, "readSome(fd: number, buf: Buffer, spinNs?: number)");
    return NULL;
  }
  ssize_t n = read(fd, data, len);
  if (n < 0 && errno == EAGAIN && spin > 0) {
    int64_t end = monotonic_ns() + spin;
    do {
      sched_yield(); /* whatever else is runnable here (the client we just answered) goes first */
      n = read(fd, data, len);
      if (n >= 0 || errno != EAGAIN) break;
    } while (monotonic_ns() < end);
  }
  napi_value result;
  napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &result);
  return result;
}

/* A mapping made by mapShared: its length, and whether unmapShared unmapped it already. */
struct shared_map {
  size_t length;
  int unmapped;
};

static void unmap_shared(napi_env env, void *data, void *hint) {
  (void)env;
  struct shared_map *m = hint;
  if (!m->unmapped) munmap(data, m->length);
  free(m);
}

/* mapShared(fd, length): a Buffer over the first `length` bytes of the file (MAP_SHARED, read and
   write), unmapped when the Buffer is collected. Stores into it are in the page cache at once: a
   process killed right after leaves them in the file, with no write(2) per record (the node
   journal of fs/transport/kernel/takeover-journal.ts). */
static napi_value js_map_shared(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int fd; int64_t length; char what[32];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || get_fd(env, argv[0], &fd) || napi_get_value_int64(env, argv[1], &length) != napi_ok || length <= 0) {
    napi_throw_type_error(env, NULL, "mapShared(fd: number, length: number > 0)");
    return NULL;
  }
  snprintf(what, sizeof what, "fd %d", fd);
  void *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return throw_errno(env, errno, "mmap", what);
  struct shared_map *m = malloc(sizeof *m);
  napi_value result;
  if (!m) {
    munmap(p, (size_t)length);
    return throw_errno(env, ENOMEM, "mapShared", what);
  }
  m->length = (size_t)length;
  m->unmapped = 0;
  if (napi_create_external_buffer(env, (size_t)length, p, unmap_shared, m, &result) != napi_ok) {
    munmap(p, (size_t)length);
    free(m);
    napi_throw_error(env, NULL, "mapShared: external buffers are not allowed here");
    return NULL;
  }
  napi_wrap(env, result, m, NULL, NULL, NULL);
  return result;
}

/* The shared_map behind a Buffer of mapShared, or NULL (with a TypeError thrown). */
static struct shared_map *shared_map_of(napi_env env, napi_value buf, void **data, size_t *len) {
  void *m = NULL;
  if (napi_get_buffer_info(env, buf, data, len) != napi_ok || napi_unwrap(env, buf, &m) != napi_ok || !m) {
    napi_throw_type_error(env, NULL, "expected a Buffer of mapShared");
    return NULL;
  }
  return m;
}

/* unmapShared(buf): unmap now rather than when the Buffer is collected; the Buffer must not be
   touched afterwards (its memory is gone). */
static napi_value js_unmap_shared(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; void *data; size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct shared_map *m = argc < 1 ? NULL : shared_map_of(env, argv[0], &data, &len);
  if (!m) return NULL;
  if (!m->unmapped) {
    munmap(data, m->length);
    m->unmapped = 1;
  }
  return NULL;
}

/* dropSharedPages(buf, end): the whole pages of [0, end) leave this process's resident set
   (madvise MADV_DONTNEED); what was stored there stays in the file (the page cache), and a later
   access maps it back. Keeps a journal that is only appended to from counting in the daemon's RSS. */
static napi_value js_drop_shared_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; void *data; size_t len; int64_t end;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct shared_map *m = argc < 2 ? NULL : shared_map_of(env, argv[0], &data, &len);
  if (!m) return NULL;
  if (napi_get_value_int64(env, argv[1], &end) != napi_ok || end < 0 || (size_t)end > len) {
    napi_throw_type_error(env, NULL, "dropSharedPages(buf: Buffer, end: number within it)");
    return NULL;
  }
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t whole = (size_t)end / page * page;
  if (!m->unmapped && whole > 0 && madvise(data, whole, MADV_DONTNEED) != 0) return throw_errno(env, errno, "madvise", "a shared mapping");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "utimensat", NULL, js_utimensat, NULL, NULL, NULL, napi_default, NULL },
    { "mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL },
    { "renameat2", NULL, js_renameat2, NULL, NULL, NULL, napi_default, NULL },
    { "linkFd", NULL, js_link_fd, NULL, NULL, NULL, napi_default, NULL },
    { "lstatNoSymlinks", NULL, js_lstat_no_symlinks, NULL, NULL, NULL, napi_default, NULL },
    { "openDirAt", NULL, js_open_dir_at, NULL, NULL, NULL, napi_default, NULL },
    { "readdirNoAtime", NULL, js_readdir_no_atime, NULL, NULL, NULL, napi_default, NULL },
    { "openNoSymlinks", NULL, js_open_no_symlinks, NULL, NULL, NULL, napi_default, NULL },
    { "watchReadable", NULL, js_watch_readable, NULL, NULL, NULL, napi_default, NULL },
    { "unwatch", NULL, js_unwatch, NULL, NULL, NULL, napi_default, NULL },
    { "fallocate", NULL, js_fallocate, NULL, NULL, NULL, napi_default, NULL },
    { "futimens", NULL, js_futimens, NULL, NULL, NULL, napi_default, NULL },
    { "lseek", NULL, js_lseek, NULL, NULL, NULL, napi_default, NULL },
    { "fgetxattr", NULL, js_fgetxattr, NULL, NULL, NULL, napi_default, NULL },
    { "readSome", NULL, js_read_some, NULL, NULL, NULL, napi_default, NULL },
    { "mapShared", NULL, js_map_shared, NULL, NULL, NULL, napi_default, NULL },
    { "unmapShared", NULL, js_unmap_shared, NULL, NULL, NULL, napi_default, NULL },
    { "dropSharedPages", NULL, js_drop_shared_pages, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  fanotify_register(env, exports);
  fuse_passthrough_register(env, exports);
  inotify_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
