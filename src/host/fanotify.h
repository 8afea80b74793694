/* fanotify.c's exports, registered into syscalls.node by syscalls.c's init. */
#include <node_api.h>
void fanotify_register(napi_env env, napi_value exports);
