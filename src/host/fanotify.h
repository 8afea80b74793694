/*
 * fanotify for worldfs, shared by fanotify.c (the N-API side: making, marking, closing a watch and
 * delivering batches) and fanotify-events.c (the reader thread: events to records). Registered
 * into syscalls.node by syscalls.c's init.
 */
#ifndef WORLDFS_FANOTIFY_H
#define WORLDFS_FANOTIFY_H
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include <node_api.h>

/* Record flags, as src/host/syscalls.ts (FAN_R) reads them. */
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

/** The reader thread's body (fanotify-events.c): reads `w->fan` until `w->stop` is readable or the batches' function closes. */
void *fanotify_reader(void *arg);

/** Register fanotifyWatch / fanotifyClose on `exports`. */
void fanotify_register(napi_env env, napi_value exports);
#endif
