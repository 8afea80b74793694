/* Throwing an errno as Node does (an Error with `code` and `errno` set), for the addon's C files.
   Include it after defining _GNU_SOURCE (strerrorname_np). */
#ifndef WORLDOS_NAPI_ERRNO_H
#define WORLDOS_NAPI_ERRNO_H
#include <stdio.h>
#include <string.h>
#include <node_api.h>

/* Throw errno `err` from `call` (on `path`, when not NULL); returns NULL for the caller to return. */
static inline napi_value throw_errno(napi_env env, int err, const char *call, const char *path) {
  const char *name = strerrorname_np(err) ? strerrorname_np(err) : "EIO";
  char msg[4096 + 128];
  if (path != NULL) snprintf(msg, sizeof msg, "%s, %s '%s'", name, call, path);
  else snprintf(msg, sizeof msg, "%s, %s", name, call);
  napi_value code, message, error, errnoValue;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnoValue);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_throw(env, error);
  return NULL;
}

#endif
