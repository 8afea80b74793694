// worldkeep: keeps a worldfs FUSE connection alive across its daemon's death, and starts a new
// daemon on it (docs/processes.md, "When a daemon dies").
//
//   worldkeep PROGRAM [ARG...]
//
// It opens /dev/fuse (non-blocking: the daemon reads it so) and runs PROGRAM with that descriptor
// inherited, named by WORLDFS_DEVICE_FD; the daemon mounts it. The kernel ends a FUSE connection
// only when its last descriptor closes, so while this process holds its copy, a daemon killed
// mid-request leaves the mount waiting instead of answering ENOTCONN. Then PROGRAM is started
// again with WORLDFS_TAKEOVER=1: it serves the same connection, restores its node table from its
// journal and has the kernel resend what the dead daemon had read but not answered.
//
// When the daemon is started again: it died of a signal other than SIGTERM, SIGINT or SIGHUP (a
// stop), or exited non-zero, and the connection still lives (poll on the descriptor reports no
// POLLERR: it is mounted and not aborted). At most MAX_RESTARTS within WINDOW_S seconds, then
// this process gives up and exits 1, closing its descriptor: the mount then answers ENOTCONN, as
// without a keeper. It exits with the daemon's status otherwise (0 after an unmount).
//
// WORLDFS_READY_FD (the mount's readiness pipe) goes to the first daemon only: this process
// closes its copy, so whoever waits for the line sees the pipe's end when that daemon exits.
// SIGTERM, SIGINT and SIGHUP are passed on to the daemon, which stops; this process follows.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESTARTS 5
#define WINDOW_S 60

static volatile sig_atomic_t child = 0;
static volatile sig_atomic_t stopping = 0;

static void pass_on(int sig) {
  stopping = 1;
  if (child > 0) kill(child, sig);
}

static pid_t start(char **argv, int dev, int takeover) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int flags = fcntl(dev, F_GETFD);
  if (flags < 0 || fcntl(dev, F_SETFD, flags & ~FD_CLOEXEC) < 0) _exit(126);
  char fd[16];
  snprintf(fd, sizeof fd, "%d", dev);
  setenv("WORLDFS_DEVICE_FD", fd, 1);
  if (takeover) {
    setenv("WORLDFS_TAKEOVER", "1", 1);
    unsetenv("WORLDFS_READY_FD");
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(argv[0], argv);
  fprintf(stderr, "worldkeep: cannot run %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/** The connection is mounted and not ended: a new daemon can serve it. */
static int connection_lives(int dev) {
  struct pollfd p = {.fd = dev, .events = POLLIN};
  if (poll(&p, 1, 0) < 0) return 0;
  return !(p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

static int stop_signal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: worldkeep PROGRAM [ARG...]\n");
    return 2;
  }
  int dev = open("/dev/fuse", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (dev < 0) {
    fprintf(stderr, "worldkeep: cannot open /dev/fuse: %s\n", strerror(errno));
    return 1;
  }
  struct sigaction sa = {.sa_handler = pass_on};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  const char *ready = getenv("WORLDFS_READY_FD");
  child = start(argv + 1, dev, 0);
  if (child < 0) {
    fprintf(stderr, "worldkeep: fork: %s\n", strerror(errno));
    return 1;
  }
  if (ready) close(atoi(ready));

  time_t restarts[MAX_RESTARTS] = {0};
  int next = 0;
  for (;;) {
    int status;
    pid_t got = waitpid(child, &status, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    int died_of = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + died_of;
    if (stopping || code == 0 || stop_signal(died_of) || !connection_lives(dev)) return code;
    time_t now = time(NULL);
    if (restarts[next] != 0 && now - restarts[next] < WINDOW_S) {
      fprintf(stderr, "worldkeep: the daemon died %d times within %d s; giving up (the mount now answers ENOTCONN)\n",
              MAX_RESTARTS + 1, WINDOW_S);
      return 1;
    }
    restarts[next] = now;
    next = (next + 1) % MAX_RESTARTS;
    if (died_of) fprintf(stderr, "worldkeep: the daemon (pid %d) died of signal %d; starting a new one on its connection\n", (int)got, died_of);
    else fprintf(stderr, "worldkeep: the daemon (pid %d) exited %d; starting a new one on its connection\n", (int)got, code);
    child = start(argv + 1, dev, 1);
    if (child < 0) {
      fprintf(stderr, "worldkeep: fork: %s\n", strerror(errno));
      return 1;
    }
  }
}
