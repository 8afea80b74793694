/*
 * worldrun: `worldctl run` without Node, for a world that runs already (built at install by
 * scripts/build-native.mjs). bin/worldctl hands it every `run`:
 *   worldrun WORLDCTL_MJS [--home DIR] run [--cwd DIR] [-e K=V]... NAME [--] CMD [ARG...]
 * and called as `worldctl` (dist/worldctl, a symbolic link to it, is npm's bin) it takes
 * worldctl's whole command line itself, with no shell script in front (as_worldctl).
 * Node's start alone costs ~80 ms here, more than many commands a user runs in a world; this costs
 * a few system calls and one fork before util-linux nsenter.
 *
 * It acts only on a run ticket (src/worlds/run-ticket.ts) that the Node side wrote after it ran a
 * command in the world itself: <home>/tickets/<hex of NAME>. A ticket vouches for what Node checked
 * then, and worldrun checks that nothing of it changed since:
 *   - the registry is the very file Node read (device, inode, mtime in ns, size: every write of the
 *     registry is an atomic rename, so a world created, deleted, merged or renamed since fails this);
 *   - no merge is in progress (<home>/journal/merge.json);
 *   - the world's init and its worldfs daemon are the processes Node saw (pid and start time, not
 *     zombies), and the init's root is the view that daemon serves (its device): a dead or
 *     remounted view fails this.
 * Then it runs the plan of runArgv (src/ns/plan.ts): its child joins the world's cgroup, ignores
 * SIGINT and SIGQUIT, and execs nsenter, which enters the init's namespaces and root and execs
 * dist/worldshim through fd 4, with the relay pipe on fd 3. It fences the daemon as Node does
 * (fenceDaemon in src/worlds/daemon.ts), but while nsenter starts rather than before: the shim
 * waits on a gate (fd 5, --gate) that opens once the fence passed, and only then starts the command.
 * The fence took 0.5-1.4 ms here, about as long as nsenter's start. Like runForeground
 * (src/ns/launcher.ts) it relays SIGINT, SIGQUIT, SIGTERM and SIGHUP as one byte each and exits
 * with the command's status (128+N when it died of signal N); such a signal before the gate opened
 * means the command never starts. The environment is Node's: PATH, HOME, TERM, the caller's locale
 * (LANG, LANGUAGE, LC_*), then each -e.
 *
 * Anything else (no ticket, any check failing, a form of the command line it does not parse, not
 * root, --detach) goes to Node unchanged: execvp node WORLDCTL_MJS run ..., which gives the
 * answer, the advice or the error, and writes a new ticket. So worldrun never answers differently
 * from Node; at worst it is not faster. WORLDCTL_FASTPATH=off always goes to Node;
 * WORLDCTL_FASTPATH=require fails (exit 125, saying why) instead of going to Node (tests).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "relay.h"

#define RELAY_FD 3
#define SHIM_FD 4
#define GATE_FD 5
#define FENCE_BOUND_MS 5000
#define MAX_ENV 256

static char **all_argv;
static const char *script;
static int required; /* WORLDCTL_FASTPATH=require */

/* Hand the whole command line to Node (bin/worldctl.mjs), or with `required`, fail saying why. */
static void to_node(const char *why) {
  if (required) {
    fprintf(stderr, "worldctl: fast path refused: %s\n", why);
    exit(125);
  }
  int argc = 0;
  while (all_argv[argc]) argc++;
  char **argv = calloc((size_t)argc + 3, sizeof *argv);
  if (!argv) { perror("worldctl"); exit(125); }
  argv[0] = "node";
  argv[1] = "--min-semi-space-size=16";
  for (int i = 1; i < argc; i++) argv[i + 1] = all_argv[i]; /* all_argv[1] is the script */
  unsetenv("NODE_EXTRA_CA_CERTS"); /* as bin/worldctl.mjs's shebang: Node reads that bundle at start */
  execvp("node", argv);
  fprintf(stderr, "worldctl: cannot run node: %s\n", strerror(errno));
  exit(127);
}

static void fail(int code, const char *what, const char *arg) {
  fprintf(stderr, "worldctl: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
  exit(code);
}

/* HOME/REST into out (PATH_MAX); 0 when it does not fit. */
static int in_home(char *out, const char *home, const char *rest) {
  size_t a = strlen(home), b = strlen(rest);
  if (a + b + 1 >= PATH_MAX) return 0;
  memcpy(out, home, a);
  memcpy(out + a, rest, b + 1);
  return 1;
}

/* ---- the ticket ---------------------------------------------------------------------------- */

struct ticket {
  char registry[128]; /* "<dev> <ino> <mtime ns> <size>" */
  char id[64];
  char init[64];      /* "<pid> <start>" */
  char daemon[64];
  char rootdev[32];   /* the init's root device, as st_dev in decimal */
  char fence[PATH_MAX];
  char cgroup[PATH_MAX];
};

/* Copy the value of line `key VALUE` into out (size n); 0 when the line is missing or too long. */
static int field(const char *text, const char *key, char *out, size_t n) {
  size_t k = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, key, k) != 0 || p[k] != ' ') continue;
    const char *v = p + k + 1, *end = strchrnul(v, '\n');
    if ((size_t)(end - v) >= n) return 0;
    memcpy(out, v, (size_t)(end - v));
    out[end - v] = 0;
    return 1;
  }
  return 0;
}

static int read_small(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t got = read(fd, buf, n - 1);
  close(fd);
  if (got < 0 || (size_t)got == n - 1) return -1;
  buf[got] = 0;
  return 0;
}

static int read_ticket(const char *home, const char *name, struct ticket *t) {
  char path[PATH_MAX], text[3 * PATH_MAX + 512];
  if (!in_home(path, home, "/tickets/")) return 0;
  size_t at = strlen(path);
  for (const unsigned char *c = (const unsigned char *)name; *c; c++, at += 2) {
    if (at + 3 >= sizeof path) return 0;
    sprintf(path + at, "%02x", *c);
  }
  if (read_small(path, text, sizeof text) != 0) return 0;
  return strncmp(text, "worldos-run-ticket 1\n", 21) == 0
    && field(text, "registry", t->registry, sizeof t->registry) && field(text, "id", t->id, sizeof t->id)
    && field(text, "init", t->init, sizeof t->init) && field(text, "daemon", t->daemon, sizeof t->daemon)
    && field(text, "rootdev", t->rootdev, sizeof t->rootdev) && field(text, "fence", t->fence, sizeof t->fence)
    && field(text, "cgroup", t->cgroup, sizeof t->cgroup);
}

/* ---- the checks ---------------------------------------------------------------------------- */

static int same_registry(const char *home, const char *want) {
  char path[PATH_MAX], have[128];
  struct stat st;
  if (!in_home(path, home, "/worlds.xml") || stat(path, &st) != 0) return 0;
  snprintf(have, sizeof have, "%llu %llu %lld%09ld %lld", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
  return strcmp(have, want) == 0;
}

/* Whether "<pid> <start>" names a live process (start: field 22 of /proc/PID/stat), not a zombie. */
static int alive(const char *ref, long *pid_out) {
  long pid;
  char start[32], path[64], stat[1024];
  if (sscanf(ref, "%ld %31s", &pid, start) != 2 || pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (read_small(path, stat, sizeof stat) != 0) return 0;
  char *p = strrchr(stat, ')');
  if (!p || p[1] != ' ' || p[2] == 'Z') return 0;
  p += 2; /* field 3, the state */
  for (int f = 3; f < 22; f++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  size_t n = strcspn(p, " ");
  if (pid_out) *pid_out = pid;
  return n == strlen(start) && strncmp(p, start, n) == 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * As fenceDaemon: a file created in the daemon's fence directory, which the daemon removes once
 * every change reported before it has reached the kernel. Started before the command's nsenter and
 * waited for while nsenter enters the world (run): the command itself starts only after it passed.
 */
struct fence {
  char path[PATH_MAX];
  int in;       /* an inotify watch of the directory (its removal wakes us), or -1: poll */
  int pending;  /* 0: no fence file (on unfenced, as Node does) */
};

static void fence_start(struct fence *f, const char *dir) {
  char name[64];
  struct timespec ts;
  f->in = -1;
  f->pending = 0;
  if (strcmp(dir, "-") == 0) return;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(name, sizeof name, "%d.%lld.%ld", getpid(), (long long)ts.tv_sec, ts.tv_nsec);
  if (snprintf(f->path, sizeof f->path, "%s/%s", dir, name) >= (int)sizeof f->path) return;
  f->in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (f->in >= 0 && inotify_add_watch(f->in, dir, IN_DELETE | IN_MOVED_FROM) < 0) { close(f->in); f->in = -1; }
  int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) { if (f->in >= 0) close(f->in); f->in = -1; return; }
  close(fd);
  f->pending = 1;
}

/* Whether the daemon removed the fence file (or there is none). */
static int fence_passed(const struct fence *f) {
  struct stat st;
  return !f->pending || stat(f->path, &st) != 0;
}

static void fence_end(struct fence *f) {
  if (f->pending) unlink(f->path);
  if (f->in >= 0) close(f->in);
  f->pending = 0;
  f->in = -1;
}

/* ---- running ------------------------------------------------------------------------------- */

/* A close-on-exec copy of fd at 10 or above: fds 3 and 4 are the child's to fill (dup2 clears the flag). */
static int high(int fd) {
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (h < 0) fail(125, "cannot move a descriptor", NULL);
  close(fd);
  return h;
}

/* The shim next to this program (dist/worldshim). */
static int open_shim(void) {
  char self[PATH_MAX], shim[PATH_MAX + 16];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) to_node("cannot read /proc/self/exe");
  self[n] = 0;
  *strrchr(self, '/') = 0;
  snprintf(shim, sizeof shim, "%s/worldshim", self);
  int fd = open(shim, O_RDONLY | O_CLOEXEC);
  if (fd < 0) to_node("dist/worldshim is missing");
  return high(fd);
}

/*
 * fork, the child a member of the world's cgroup (cgroup.procs path, or "-" for none). In a v2
 * hierarchy the child is born there (clone3 with CLONE_INTO_CGROUP). Writing cgroup.procs instead
 * moves a process, which takes the kernel's global cgroup_threadgroup_rwsem for writing and so
 * waits for an RCU grace period: 7-30 ms measured on every run here, most of this program's time.
 * v1 (or a kernel without clone3) still moves the child.
 */
static pid_t fork_into(const char *procs) {
  if (strcmp(procs, "-") == 0) return fork();
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", procs);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct statfs sf;
  if (cg >= 0 && fstatfs(cg, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_INTO_CGROUP;
    a.exit_signal = SIGCHLD;
    a.cgroup = (unsigned long long)cg;
    long pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid >= 0) {
      if (pid > 0) close(cg);
      return (pid_t)pid;
    }
  }
  if (cg >= 0) close(cg);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    char me[24];
    int len = snprintf(me, sizeof me, "%d\n", getpid());
    if (fd < 0 || write(fd, me, (size_t)len) != len) fail(125, "cannot join the world's cgroup", procs);
    close(fd);
  }
  return pid;
}

/*
 * Wait (bounded, FENCE_BOUND_MS) for fence `f` while nsenter enters the world, then open the shim's
 * gate (one byte on `gate`): the command starts only then. A signal for the command that comes
 * before (Ctrl-C at the terminal), or nsenter's end, closes the gate instead: the shim exits
 * without running the command, and this program at once. Returns -1 once the gate is open, else
 * this program's exit status (128+N for signal N, or nsenter's).
 */
static int open_gate(struct fence *f, int gate, int sfd, pid_t child) {
  long long deadline = now_ms() + FENCE_BOUND_MS;
  int early = -1;
  while (early < 0 && !fence_passed(f)) {
    long long left = deadline - now_ms();
    if (left <= 0) break;
    struct pollfd p[2] = {{sfd, POLLIN, 0}, {f->in, POLLIN, 0}};
    int n = poll(p, f->in >= 0 ? 2 : 1, f->in >= 0 ? (int)left : 2);
    if (n < 0 && errno != EINTR) break;
    if (f->in >= 0 && p[1].revents & POLLIN) {
      char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
      while (read(f->in, buf, sizeof buf) > 0) { /* drained: stat tells */ }
    }
    if (!(p[0].revents & POLLIN)) continue;
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si) continue;
    int status;
    if (si.ssi_signo != SIGCHLD) early = 128 + (int)si.ssi_signo;
    else if (waitpid(child, &status, WNOHANG) == child) { fence_end(f); close(gate); return status_of(status); }
  }
  fence_end(f);
  if (early < 0) {
    char go = 1;
    if (write(gate, &go, 1) != 1) { /* the shim is gone: its exit comes as SIGCHLD */ }
    close(gate);
    return -1;
  }
  close(gate); /* nsenter is not waited for: it may wait on the daemon still; its shim exits at the EOF */
  return early;
}

static int run(const struct ticket *t, long init, const char *name, const char *cwd, char **envp, char **cmd) {
  int argc = 0;
  while (cmd[argc]) argc++;
  char target[32];
  snprintf(target, sizeof target, "--target=%ld", init);
  char self[16];
  snprintf(self, sizeof self, "%d", SHIM_FD);
  char relay[16];
  snprintf(relay, sizeof relay, "%d", RELAY_FD);
  char gatefd[16];
  snprintf(gatefd, sizeof gatefd, "%d", GATE_FD);
  char shim[32];
  snprintf(shim, sizeof shim, "/proc/self/fd/%d", SHIM_FD);
  const char *plan[24];
  int n = 0;
  const char *head[] = {"nsenter", target, "--pid", "--mount", "--uts", "--ipc", "--root", "--wd", "--", shim, "--self", self};
  for (size_t i = 0; i < sizeof head / sizeof *head; i++) plan[n++] = head[i];
  if (strcmp(cwd, "/") != 0) { plan[n++] = "--cwd"; plan[n++] = cwd; }
  plan[n++] = "--world"; plan[n++] = name;
  plan[n++] = "--relay"; plan[n++] = relay;
  plan[n++] = "--gate"; plan[n++] = gatefd;
  plan[n++] = "--";
  char **argv = calloc((size_t)(n + argc + 1), sizeof *argv);
  if (!argv) fail(125, "out of memory", NULL);
  for (int i = 0; i < n; i++) argv[i] = (char *)plan[i];
  for (int i = 0; i < argc; i++) argv[n + i] = cmd[i];

  int shimfd = open_shim(), pipefd[2], gate[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0 || pipe2(gate, O_CLOEXEC) != 0) fail(125, "cannot make a pipe", NULL);
  pipefd[0] = high(pipefd[0]);
  pipefd[1] = high(pipefd[1]);
  gate[0] = high(gate[0]);
  gate[1] = high(gate[1]);
  sigset_t these, old;
  sigemptyset(&these);
  for (size_t i = 0; i < NFORWARDED; i++) sigaddset(&these, forwarded[i]);
  sigaddset(&these, SIGCHLD);
  sigprocmask(SIG_BLOCK, &these, &old);
  int sfd = signalfd(-1, &these, SFD_CLOEXEC);
  if (sfd < 0) fail(125, "cannot make a signalfd", NULL);
  signal(SIGPIPE, SIG_IGN); /* the shim gone: its exit is reported below */
  struct fence fence; /* made with the signals above held: they all come to open_gate from here */
  fence_start(&fence, t->fence);

  pid_t child = fork_into(t->cgroup);
  if (child == 0) {
    /* As runArgv's shell: nsenter's waiting half outlives a Ctrl-C the command handles (worldshim.c). */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* As execa hands the plan only its stdio: the relay pipe at 3, the shim at 4, the gate at 5. */
    if (dup2(pipefd[0], RELAY_FD) < 0 || dup2(shimfd, SHIM_FD) < 0 || dup2(gate[0], GATE_FD) < 0) fail(125, "cannot place the relay pipe, the shim and the gate", NULL);
    close_range(GATE_FD + 1, ~0U, CLOSE_RANGE_CLOEXEC);
    for (char **e = envp; *e; e++) if (strncmp(*e, "PATH=", 5) == 0) setenv("PATH", *e + 5, 1); /* as Node's spawn: found on the command's PATH */
    execvpe("nsenter", argv, envp);
    fail(errno == ENOENT ? 127 : 126, "cannot run", "nsenter");
  }
  if (child < 0) {
    fence_end(&fence);
    fail(125, "cannot fork", NULL);
  }
  close(pipefd[0]);
  close(shimfd);
  close(gate[0]);
  int early = open_gate(&fence, gate[1], sfd, child);
  if (early >= 0) return early;
  for (;;) {
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si) {
      if (errno == EINTR) continue;
      fail(125, "cannot read signals", NULL);
    }
    if (si.ssi_signo == SIGCHLD) {
      int status;
      if (waitpid(child, &status, WNOHANG) != child) continue;
      return status_of(status);
    }
    unsigned char b = (unsigned char)si.ssi_signo;
    if (write(pipefd[1], &b, 1) < 0) { /* the shim is gone: its exit comes as SIGCHLD */ }
  }
}

/* ---- the command line ---------------------------------------------------------------------- */

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/*
 * Invoked as `worldctl` (dist/worldctl, a symbolic link to this program, is what npm's bin names):
 * the command line of worldctl itself, with no shell in front (bin/worldctl costs one more exec).
 * The script is bin/worldctl.mjs of the checkout this program was built in.
 */
static char **as_worldctl(int *argc, char **argv) {
  const char *base = strrchr(argv[0], '/');
  if (strcmp(base ? base + 1 : argv[0], "worldctl") != 0) return argv;
  static char mjs[PATH_MAX];
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) { fprintf(stderr, "worldctl: cannot find this program's directory: %s\n", strerror(errno)); exit(127); }
  exe[n] = 0;
  *strrchr(exe, '/') = 0; /* dist */
  if (snprintf(mjs, sizeof mjs, "%s/../bin/worldctl.mjs", exe) >= (int)sizeof mjs) { fprintf(stderr, "worldctl: path too long\n"); exit(127); }
  char **out = calloc((size_t)*argc + 2, sizeof *out);
  if (!out) { perror("worldctl"); exit(125); }
  out[0] = argv[0];
  out[1] = mjs;
  for (int i = 1; i < *argc; i++) out[i + 1] = argv[i];
  (*argc)++;
  return out;
}

int main(int argc, char **argv) {
  argv = as_worldctl(&argc, argv);
  all_argv = argv;
  if (argc < 2) { fprintf(stderr, "usage: worldrun WORLDCTL_MJS run ...\n"); return 125; }
  if (argc < 3) to_node("no command");
  script = argv[1];
  const char *mode = getenv("WORLDCTL_FASTPATH");
  required = mode && strcmp(mode, "require") == 0;
  if (mode && strcmp(mode, "off") == 0) to_node("WORLDCTL_FASTPATH=off");
  /* worldctl [--home DIR] run ...: the store's home as Node finds it (src/worlds/layout.ts). */
  const char *h = getenv("WORLDOS_HOME");
  int i = 2;
  if (strcmp(argv[i], "--home") == 0 && i + 2 < argc) { h = argv[i + 1]; i += 2; }
  else if (has_prefix(argv[i], "--home=")) { h = argv[i] + 7; i++; }
  if (i >= argc || strcmp(argv[i], "run") != 0) to_node("not a run");
  if (h && !*h && i > 3) to_node("an empty --home");
  i++;
  if (geteuid() != 0) to_node("not root (rootless worlds: the Node side runs every command)");

  /* The environment runInWorld gives a command; -e K=V adds or replaces, last wins. */
  char *envp[MAX_ENV + 4];
  int envc = 0;
  static char term[4096];
  const char *t0 = getenv("TERM");
  snprintf(term, sizeof term, "TERM=%s", t0 ? t0 : "xterm");
  envp[envc++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  envp[envc++] = "HOME=/root";
  envp[envc++] = term;
  /* The caller's locale, as localeOf (src/worlds/processes.ts) gives it. */
  for (char **e = environ; *e && envc < MAX_ENV; e++)
    if (has_prefix(*e, "LANG=") || has_prefix(*e, "LANGUAGE=") || has_prefix(*e, "LC_")) envp[envc++] = *e;
  const char *cwd = "/";
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *kv = NULL;
    if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc && argv[i + 1][0] != '-') cwd = argv[++i];
    else if (has_prefix(argv[i], "--cwd=")) cwd = argv[i] + 6;
    else if ((strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "--env") == 0) && i + 1 < argc && argv[i + 1][0] != '-') kv = argv[++i];
    else if (has_prefix(argv[i], "--env=")) kv = argv[i] + 6;
    else to_node("an option the fast path does not take");
    if (!kv) continue;
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) to_node("a bad --env");
    size_t k = (size_t)(eq - kv) + 1;
    int j = 0;
    while (j < envc && strncmp(envp[j], kv, k) != 0) j++;
    if (j == envc && envc == MAX_ENV) to_node("too many --env");
    envp[j] = (char *)kv;
    if (j == envc) envc++;
  }
  envp[envc] = NULL;
  if (i >= argc) to_node("no world name");
  const char *name = argv[i++];
  if (i < argc && strcmp(argv[i], "--") == 0) i++;
  else for (int j = i; j < argc; j++) if (argv[j][0] == '-') to_node("options after the world's name");
  if (i >= argc) to_node("no command");
  if (cwd[0] != '/') to_node("a relative --cwd");

  char home[PATH_MAX];
  if (h && *h) {
    if (!realpath(h, home)) to_node("WORLDOS_HOME does not resolve");
  } else {
    snprintf(home, sizeof home, "/var/lib/worldos");
  }
  struct ticket t;
  if (!read_ticket(home, name, &t)) to_node("no run ticket for this world");
  if (!same_registry(home, t.registry)) to_node("the registry changed since the ticket");
  char journal[PATH_MAX];
  if (!in_home(journal, home, "/journal/merge.json") || access(journal, F_OK) == 0) to_node("a merge is in progress");
  long init;
  if (!alive(t.init, &init)) to_node("the world's init is not the ticket's");
  if (!alive(t.daemon, NULL)) to_node("the world's daemon is not the ticket's");
  char root[64];
  struct stat st;
  snprintf(root, sizeof root, "/proc/%ld/root/", init);
  char dev[32];
  if (stat(root, &st) != 0) to_node("the init's root cannot be read (a dead view?)");
  snprintf(dev, sizeof dev, "%llu", (unsigned long long)st.st_dev);
  if (strcmp(dev, t.rootdev) != 0) to_node("the init's root is not the ticket's view");
  return run(&t, init, name, cwd, envp, argv + i);
}
