/* FUSE passthrough's backing-file ioctls on /dev/fuse (fuse-passthrough.c), registered on syscalls.node. */
#ifndef WORLDOS_FUSE_PASSTHROUGH_H
#define WORLDOS_FUSE_PASSTHROUGH_H
#include <node_api.h>

void fuse_passthrough_register(napi_env env, napi_value exports);

#endif
