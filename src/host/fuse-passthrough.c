/*
 * FUSE passthrough (Linux 6.9+, CONFIG_FUSE_PASSTHROUGH): a daemon registers an open host file as
 * the backing file of later opens, and the kernel then serves read, write, splice and mmap of those
 * opens from it without asking the daemon (Documentation/filesystems/fuse-passthrough.rst).
 *   fuseBackingOpen(devFd, fd)  -> backing id (> 0) for the regular file open as `fd`
 *   fuseBackingClose(devFd, id)    forget an id (opens made with it keep their backing file)
 * The build machine's <linux/fuse.h> may predate 6.9, so the ioctls and their struct are spelled out
 * here from the kernel's uapi header. Errors are thrown with `code` set (EPERM without CAP_SYS_ADMIN
 * in the initial user namespace or without FUSE_PASSTHROUGH negotiated, ELOOP for a backing file on
 * a filesystem already stacked as deep as INIT allowed, EINVAL for a non-regular file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "fuse-passthrough.h"
#include "napi-errno.h"

struct worldos_fuse_backing_map {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};

#define WORLDOS_FUSE_DEV_IOC_MAGIC 229
#define WORLDOS_FUSE_DEV_IOC_BACKING_OPEN _IOW(WORLDOS_FUSE_DEV_IOC_MAGIC, 1, struct worldos_fuse_backing_map)
#define WORLDOS_FUSE_DEV_IOC_BACKING_CLOSE _IOW(WORLDOS_FUSE_DEV_IOC_MAGIC, 2, uint32_t)

static napi_value js_backing_open(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int32_t dev, fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &dev) != napi_ok || napi_get_value_int32(env, argv[1], &fd) != napi_ok || dev < 0 || fd < 0) {
    napi_throw_type_error(env, NULL, "fuseBackingOpen(devFd: number, fd: number)");
    return NULL;
  }
  struct worldos_fuse_backing_map map = { .fd = fd, .flags = 0, .padding = 0 };
  int id = ioctl(dev, WORLDOS_FUSE_DEV_IOC_BACKING_OPEN, &map);
  if (id < 0) return throw_errno(env, errno, "FUSE_DEV_IOC_BACKING_OPEN", NULL);
  napi_value result;
  napi_create_int32(env, id, &result);
  return result;
}

static napi_value js_backing_close(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2]; int32_t dev; uint32_t id;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &dev) != napi_ok || napi_get_value_uint32(env, argv[1], &id) != napi_ok || dev < 0) {
    napi_throw_type_error(env, NULL, "fuseBackingClose(devFd: number, id: number)");
    return NULL;
  }
  if (ioctl(dev, WORLDOS_FUSE_DEV_IOC_BACKING_CLOSE, &id) != 0) return throw_errno(env, errno, "FUSE_DEV_IOC_BACKING_CLOSE", NULL);
  return NULL;
}

void fuse_passthrough_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "fuseBackingOpen", NULL, js_backing_open, NULL, NULL, NULL, napi_default, NULL },
    { "fuseBackingClose", NULL, js_backing_close, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
