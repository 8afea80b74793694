/*
 * What `worldctl run` and the shim in the world agree on (worldrun.c on one side, worldshim.c on
 * the other; src/ns/launcher.ts keeps the same list, RELAYED): the signals relayed to the command, one
 * byte each on the relay pipe, and the exit status reported for the command's wait status.
 */
#ifndef WORLDOS_RELAY_H
#define WORLDOS_RELAY_H
#include <signal.h>
#include <sys/wait.h>

static const int forwarded[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

/* 128+N for a command that died of signal N, else its exit code (as a shell reports it). */
static inline int status_of(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

#endif
