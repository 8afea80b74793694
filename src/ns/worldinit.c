/*
 * worldinit: PID 1 of a world's PID namespace (built at install by scripts/build-native.mjs).
 *   unshare --pid --mount --uts --ipc --fork --propagation private -- worldinit ROOT HOSTNAME
 * Sets the hostname, mounts a fresh /proc, /sys (or the host's, bound, where a fresh one is not
 * allowed: rootless) and the host's /dev under ROOT (never served through the
 * view: they are mounts in this mount namespace), chroots into ROOT, reports "ready" on fd 3,
 * then reaps every child (orphans of the world are re-parented here) until told to stop.
 * SIGTERM: forwards SIGTERM to every process of the world and exits once none is left — none in
 * the namespace, not only none of its children: processes that entered with nsenter are children
 * of their launcher, and our exit would SIGKILL them all before they could finish.
 * SIGKILL from outside kills the namespace (the kernel kills all of it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void note(const char *what, const char *path) {
  fprintf(stderr, "worldinit: %s %s: %s\n", what, path, strerror(errno));
}

static int mount_at(const char *root, const char *dir, const char *src, const char *type,
                    unsigned long flags, int soft) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, dir);
  mkdir(path, 0755); /* exists in most roots; created in the world's own layer otherwise */
  if (mount(src, path, type, flags, NULL) != 0) {
    if (soft) return -1;
    note("cannot mount", path);
    _exit(111);
  }
  return 0;
}

/* Whether any process other than us (PID 1) is left in our PID namespace (/proc is ours). */
static int others_left(void) {
  DIR *d = opendir("/proc");
  if (!d) return 0;
  int left = 0;
  struct dirent *e;
  while (!left && (e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end == '\0' && pid > 1) left = 1;
  }
  closedir(d);
  return left;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: worldinit ROOT HOSTNAME\n");
    return 2;
  }
  const char *root = argv[1];
  if (sethostname(argv[2], strlen(argv[2])) != 0) note("cannot set hostname", argv[2]);
  mount_at(root, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
  /* A fresh sysfs needs a network namespace owned by our user namespace; rootless worlds share the
   * host's network, so they get the host's /sys bound instead (read-only where the kernel lets us). */
  if (mount_at(root, "sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 1) != 0)
    mount_at(root, "sys", "/sys", NULL, MS_BIND | MS_REC, 1);
  mount_at(root, "dev", "/dev", NULL, MS_BIND | MS_REC, 0);
  if (chdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) {
    note("cannot enter", root);
    return 111;
  }
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  if (write(3, "ready\n", 6) < 0) { /* nobody waits for us: fine */ }
  close(3);
  int stopping = 0;
  for (;;) {
    int sig;
    struct timespec tick = {stopping ? 0 : 1, stopping ? 50000000 : 0};
    siginfo_t info;
    sig = sigtimedwait(&all, &info, &tick);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      stopping = 1;
      kill(-1, SIGTERM);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    if (stopping && !others_left()) return 0;
  }
}
