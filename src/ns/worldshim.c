/*
 * worldshim: the command's parent inside a world (as containerd's shim is a container's), exec'd by
 * util-linux nsenter once it entered the world's namespaces and root. Built static at install by
 * scripts/build-native.mjs, and run through /proc/self/fd/N (worldctl passes its own open copy as
 * fd N), so exec'ing it costs no lookup through the world's view and no dynamic loader.
 *   worldshim [--self FD] [--cwd DIR] [--world NAME] [--relay FD] [--gate FD] -- CMD [ARG...]
 * It changes to DIR (inside the world), restores SIGINT and SIGQUIT (ignored on the host so that
 * nsenter's waiting half outlives a terminal's Ctrl-C), runs CMD as its child and:
 *   - exits with CMD's status, or 128+N when CMD died of signal N: nsenter's outer half re-raises a
 *     child's death signal on itself, which an ignored SIGINT would turn into exit 1;
 *   - forwards SIGINT, SIGQUIT, SIGTERM and SIGHUP to CMD, never dying of them itself. worldctl
 *     relays each such signal it gets as one byte (the signal's number) on --relay FD. A signal the
 *     terminal sent to its whole foreground group (si_code SI_KERNEL: Ctrl-C, Ctrl-\, hangup)
 *     reached CMD, us and worldctl at once: CMD has it, so it is counted, and worldctl's relay of
 *     it is dropped instead of sent twice. The kernel's signal is pending here before worldctl can
 *     relay it, and the signalfd is read before the relay pipe, so the count is exact. A signal
 *     sent to this process alone is forwarded.
 * With --gate FD it starts CMD only after one byte came on FD (dist/worldrun sends it once its fence
 * passed); FD closed without one (worldctl got a signal first, or died): exit 125, CMD never ran.
 * CMD gets descriptors 0, 1 and 2 only: every other one it inherited is closed at its exec.
 * A CMD that cannot be found says which world and which command (exit 127; 126 when it cannot be
 * executed; 125 when the shim itself fails, e.g. DIR is missing, as env(1) and docker do).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "relay.h"

static const char *world = "?";

static void fail(int code, const char *what, const char *arg) {
  fprintf(stderr, "worldctl: world \"%s\": %s%s%s: %s\n", world, what, arg ? " " : "", arg ? arg : "", strerror(errno));
  _exit(code);
}

static int slot(int sig) {
  for (unsigned i = 0; i < NFORWARDED; i++) if (forwarded[i] == sig) return (int)i;
  return -1;
}

/* Wait for CMD, forwarding signals (see the header); returns its status. */
static int wait_forwarding(pid_t child, int sfd, int relay) {
  int fromTerminal[NFORWARDED] = {0};
  for (;;) {
    struct pollfd fds[2] = {{sfd, POLLIN, 0}, {relay, POLLIN, 0}};
    if (poll(fds, relay >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      fail(125, "cannot wait for the command", NULL);
    }
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) {
      int i = slot((int)si.ssi_signo);
      if (i < 0) continue; /* SIGCHLD: reaped below */
      if (si.ssi_code == SI_KERNEL) fromTerminal[i]++;
      else kill(child, (int)si.ssi_signo);
    }
    int status;
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) return status_of(status);
    if (relay < 0 || !(fds[1].revents & (POLLIN | POLLHUP))) continue;
    unsigned char sigs[64];
    ssize_t n = read(relay, sigs, sizeof sigs);
    if (n <= 0) { close(relay); relay = -1; continue; } /* worldctl is gone: nothing more to relay */
    for (ssize_t k = 0; k < n; k++) {
      int i = slot(sigs[k]);
      if (i < 0) continue;
      if (fromTerminal[i] > 0) fromTerminal[i]--;
      else kill(child, sigs[k]);
    }
  }
}

int main(int argc, char **argv) {
  const char *cwd = NULL;
  int self = -1, relay = -1, gate = -1, i = 1;
  for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
    if (strcmp(argv[i], "--self") == 0) self = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--cwd") == 0) cwd = argv[i + 1];
    else if (strcmp(argv[i], "--world") == 0) world = argv[i + 1];
    else if (strcmp(argv[i], "--relay") == 0) relay = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--gate") == 0) gate = atoi(argv[i + 1]);
    else break;
  }
  if (i + 1 >= argc || strcmp(argv[i], "--") != 0) {
    fprintf(stderr, "usage: worldshim [--self FD] [--cwd DIR] [--world NAME] [--relay FD] [--gate FD] -- CMD [ARG...]\n");
    return 125;
  }
  char **cmd = argv + i + 1;
  /* CMD must hold neither worldctl's pipe nor our own binary, nor any descriptor worldctl's caller
     left open (Node's spawn hands those on; dist/worldrun does not): CMD gets stdin, stdout and
     stderr only, as with docker run. */
  if (self >= 0) close(self);
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (cwd && chdir(cwd) != 0) fail(125, "cannot change directory to", cwd);
  if (gate >= 0) {
    char go;
    ssize_t n;
    while ((n = read(gate, &go, 1)) < 0 && errno == EINTR) {}
    if (n != 1) _exit(125); /* worldctl gave up before the command started (it says why, or died) */
    close(gate);
  }

  /* Taken through a signalfd from before the fork on, so none is lost or acted on by default. */
  sigset_t these, old;
  sigemptyset(&these);
  for (unsigned k = 0; k < NFORWARDED; k++) {
    sigaddset(&these, forwarded[k]);
    signal(forwarded[k], SIG_DFL); /* ignored on the host (see the header): CMD gets them back */
  }
  sigaddset(&these, SIGCHLD);
  sigprocmask(SIG_BLOCK, &these, &old);
  int sfd = signalfd(-1, &these, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) fail(125, "cannot make a signalfd", NULL);

  pid_t child = fork();
  if (child < 0) fail(125, "cannot fork", NULL);
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL); /* a blocked mask would survive exec */
    execvp(cmd[0], cmd);
    if (errno == ENOENT) {
      fprintf(stderr, "worldctl: world \"%s\": command not found: %s\n", world, cmd[0]);
      _exit(127);
    }
    fail(126, "cannot run", cmd[0]);
  }
  return wait_forwarding(child, sfd, relay);
}
