/*
 * inotify with the caller's event mask (Node's fs.watch asks for every event and hands each one to
 * JavaScript on its own; a daemon watching its top layer got five per file it wrote itself):
 *   inotifyInit()                     -> a non-blocking, close-on-exec inotify descriptor
 *   inotifyAddWatch(fd, path, mask)   -> the watch descriptor (IN_* bits as in <sys/inotify.h>)
 *   inotifyRmWatch(fd, wd)            remove a watch (EINVAL when the kernel already dropped it)
 * Events are read by the caller from the descriptor (src/host/inotify.ts), many per read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/inotify.h>
#include "inotify.h"
#include "napi-errno.h"

#define MAXPATH 4096

static napi_value int_value(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value js_init(napi_env env, napi_callback_info info) {
  (void) info;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "inotify_init1", NULL);
  return int_value(env, fd);
}

static napi_value js_add_watch(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3]; int32_t fd; uint32_t mask; char path[MAXPATH]; size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_uint32(env, argv[2], &mask) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], path, sizeof path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "inotifyAddWatch(fd: number, path: string, mask: number)");
    return NULL;
  }
  if (len >= sizeof path - 1) return throw_errno(env, ENAMETOOLONG, "inotify_add_watch", NULL);
  int wd = inotify_add_watch(fd, path, mask);
  if (wd < 0) return throw_errno(env, errno, "inotify_add_watch", path);
  return int_value(env, wd);
}

static napi_value js_rm_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int32_t fd, wd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &wd) != napi_ok) {
    napi_throw_type_error(env, NULL, "inotifyRmWatch(fd: number, wd: number)");
    return NULL;
  }
  if (inotify_rm_watch(fd, wd) != 0) return throw_errno(env, errno, "inotify_rm_watch", NULL);
  return NULL;
}

void inotify_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "inotifyInit", NULL, js_init, NULL, NULL, NULL, napi_default, NULL },
    { "inotifyAddWatch", NULL, js_add_watch, NULL, NULL, NULL, napi_default, NULL },
    { "inotifyRmWatch", NULL, js_rm_watch, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
