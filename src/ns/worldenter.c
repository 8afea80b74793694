/*
 * worldenter: runs one command inside a running world (built at install by scripts/build-native.mjs).
 *   worldenter [--cgroup FILE] [--user] [--cwd DIR] [--world NAME] [--relay FD] INITPID -- CMD [ARG...]
 * What `nsenter --target=INITPID [--user --preserve-credentials] --pid --mount --uts --ipc --root
 * --wd -- CMD` did, in one small process and without a shell or env(1) in front of the command
 * (each exec inside a world over / costs lookups through its view): join the world's cgroup
 * (--cgroup: before anything, so every descendant is a member), enter the init's namespaces and
 * root, change to DIR (resolved inside the world), fork (a PID namespace applies to children) and
 * exec CMD on the PATH of the environment given. The waiting half:
 *   - exits with CMD's status, or 128+N when CMD died of signal N (as a shell reports it);
 *   - forwards SIGINT, SIGQUIT, SIGTERM and SIGHUP to CMD, never dying of them itself (so it
 *     outlives a CMD that handles them). worldctl relays each such signal it gets as one byte (the
 *     signal's number) on --relay FD. A signal the terminal sent to its whole foreground group
 *     (si_code SI_KERNEL: Ctrl-C, Ctrl-\, hangup) reached CMD, us and worldctl at once: CMD has it,
 *     so it is counted, and worldctl's relay of it is dropped instead of sent twice. The kernel's
 *     signal is pending here before worldctl can relay it, and the signalfd is read before the
 *     relay pipe, so the count is exact. A signal sent to this process alone is forwarded.
 * A CMD that cannot be found says which world and which command (exit 127; 126 when it cannot be
 * executed; 125 when the world cannot be entered, as env(1) and docker do).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *world = "?";
static const int forwarded[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
#define NFORWARDED (sizeof forwarded / sizeof forwarded[0])

static void fail(int code, const char *what, const char *arg) {
  fprintf(stderr, "worldctl: world \"%s\": %s%s%s: %s\n", world, what, arg ? " " : "", arg ? arg : "", strerror(errno));
  _exit(code);
}

static int slot(int sig) {
  for (unsigned i = 0; i < NFORWARDED; i++) if (forwarded[i] == sig) return (int)i;
  return -1;
}

/* setns into /proc/PID/ns/NAME. */
static void enter(const char *pid, const char *name, int type) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, type) != 0) fail(125, "cannot enter namespace", path);
  close(fd);
}

static void join_cgroup(const char *file) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  char buf[24];
  int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
  if (fd < 0 || write(fd, buf, (size_t)n) != n) fail(125, "cannot join cgroup", file);
  close(fd);
}

/* The exit status worldctl reports for CMD's wait status. */
static int status_of(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
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
  const char *cgroup = NULL, *cwd = "/";
  int user = 0, relay = -1, i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0'; i++) {
    if (strcmp(argv[i], "--user") == 0) user = 1;
    else if (i + 1 < argc && strcmp(argv[i], "--cgroup") == 0) cgroup = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--cwd") == 0) cwd = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--world") == 0) world = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--relay") == 0) relay = atoi(argv[++i]);
    else break;
  }
  if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
    fprintf(stderr, "usage: worldenter [--cgroup FILE] [--user] [--cwd DIR] [--world NAME] [--relay FD] INITPID -- CMD [ARG...]\n");
    return 125;
  }
  const char *pid = argv[i];
  char **cmd = argv + i + 2;
  if (relay >= 0) fcntl(relay, F_SETFD, FD_CLOEXEC); /* CMD must not hold worldctl's pipe */
  if (cgroup) join_cgroup(cgroup);
  char rootPath[64];
  snprintf(rootPath, sizeof rootPath, "/proc/%s/root", pid);
  int root = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(125, "cannot open the root of the world's init", rootPath);
  /* The user namespace first: it grants the capabilities the other setns calls need (rootless). */
  if (user) enter(pid, "user", CLONE_NEWUSER);
  enter(pid, "ipc", CLONE_NEWIPC);
  enter(pid, "uts", CLONE_NEWUTS);
  enter(pid, "pid", CLONE_NEWPID);
  enter(pid, "mnt", CLONE_NEWNS);
  if (fchdir(root) != 0 || chroot(".") != 0) fail(125, "cannot enter the root of the world's init", rootPath);
  close(root);
  if (chdir(cwd) != 0) fail(125, "cannot change directory to", cwd);

  /* Taken through a signalfd from before the fork on, so none is lost or acted on by default. */
  sigset_t these, old;
  sigemptyset(&these);
  for (unsigned k = 0; k < NFORWARDED; k++) sigaddset(&these, forwarded[k]);
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
