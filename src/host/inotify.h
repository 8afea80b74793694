/* inotify with a chosen event mask (inotify.c), registered on syscalls.node. */
#ifndef WORLDOS_INOTIFY_H
#define WORLDOS_INOTIFY_H
#include <node_api.h>

void inotify_register(napi_env env, napi_value exports);

#endif
