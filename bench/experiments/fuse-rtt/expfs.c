/* expfs.c - minimal single-threaded FUSE server on the raw protocol.
 * Every LOOKUP is answered "does not exist".
 *
 * usage: expfs MODE MOUNTPOINT [neg]
 *   MODE = classic   : blocking read()/write() on /dev/fuse
 *          poll      : O_NONBLOCK read() loop, sched_yield() on EAGAIN
 *          uring     : FUSE over io_uring (one ring, entries for every possible CPU queue)
 *          uringdt   : same, ring created with SINGLE_ISSUER|DEFER_TASKRUN
 *   neg  : answer LOOKUP with a negative entry (nodeid=0, entry_valid=0)
 *          instead of -ENOENT.
 * DELAY_NS=N in the environment: spin N ns before answering each LOOKUP, standing in for a
 * daemon's own work per request (what worldfs spends resolving a name).
 * Prints "READY" on stdout when requests can be served. Exits when the
 * mount goes away; statistics go to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <time.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>

/* ---- uapi bits missing from Debian 12's linux/fuse.h (7.38); from 6.14+ uapi ---- */
#ifndef FUSE_OVER_IO_URING
#define FUSE_OVER_IO_URING (1ULL << 41)
#endif
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128
struct x_fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};
struct x_fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];
	char op_in[FUSE_URING_OP_IN_OUT_SZ];
	struct x_fuse_uring_ent_in_out ring_ent_in_out;
};
enum { X_FUSE_IO_URING_CMD_REGISTER = 1, X_FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2 };
struct x_fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

static int fuse_fd;
static int neg_entry;
static int want_uring;
static unsigned long n_lookup, n_other, same_cpu, diff_cpu, nocpu;
static unsigned long dcpu_hist[64];
static unsigned long n_empty_polls;

static void die(const char *what, int err)
{
	fprintf(stderr, "expfs: %s: %s (errno %d)\n", what, strerror(err), err);
	exit(1);
}

/* Build a reply for the request (in header + args). Returns reply payload
 * length (excluding out header) and sets *error. */
static size_t handle(const struct fuse_in_header *ih, const char *arg, size_t arglen,
		     char *out, int *error, int *noreply)
{
	*error = 0;
	*noreply = 0;
	switch (ih->opcode) {
	case FUSE_LOOKUP: {
		__atomic_fetch_add(&n_lookup, 1, __ATOMIC_RELAXED);
		int me = sched_getcpu();
		if (me >= 0 && me < 64) __atomic_fetch_add(&dcpu_hist[me], 1, __ATOMIC_RELAXED);
		/* client encodes its CPU as "..._c<N>" at the end of the name */
		const char *c = memrchr(arg, 'c', arglen);
		if (c && c > arg && c[-1] == '_') {
			int ccpu = atoi(c + 1);
			if (ccpu == me) { __atomic_fetch_add(&same_cpu, 1, __ATOMIC_RELAXED); } else __atomic_fetch_add(&diff_cpu, 1, __ATOMIC_RELAXED);
		} else __atomic_fetch_add(&nocpu, 1, __ATOMIC_RELAXED);
		{ static long d = -1; if (d < 0) { const char *e = getenv("DELAY_NS"); d = e ? atol(e) : 0; }
		  if (d > 0) { struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a); do clock_gettime(CLOCK_MONOTONIC, &b); while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < d); } }
		if (neg_entry) {
			struct fuse_entry_out *eo = (void *)out;
			memset(eo, 0, sizeof(*eo));
			return sizeof(*eo);
		}
		*error = -ENOENT;
		return 0;
	}
	case FUSE_GETATTR: {
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		struct fuse_attr_out *ao = (void *)out;
		memset(ao, 0, sizeof(*ao));
		ao->attr_valid = 86400;
		ao->attr.ino = 1;
		ao->attr.mode = S_IFDIR | 0755;
		ao->attr.nlink = 2;
		ao->attr.blksize = 4096;
		return sizeof(*ao);
	}
	case FUSE_STATFS: {
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		struct fuse_statfs_out *so = (void *)out;
		memset(so, 0, sizeof(*so));
		so->st.bsize = 4096; so->st.frsize = 4096; so->st.namelen = 255;
		return sizeof(*so);
	}
	case FUSE_OPENDIR: case FUSE_RELEASEDIR: case FUSE_ACCESS: case FUSE_FLUSH:
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		if (ih->opcode == FUSE_OPENDIR) {
			struct fuse_open_out *oo = (void *)out;
			memset(oo, 0, sizeof(*oo));
			return sizeof(*oo);
		}
		return 0;
	case FUSE_READDIR:
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		return 0;
	case FUSE_FORGET: case FUSE_BATCH_FORGET:
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		*noreply = 1;
		return 0;
	case FUSE_DESTROY:
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		return 0;
	default:
		__atomic_fetch_add(&n_other, 1, __ATOMIC_RELAXED);
		*error = -ENOSYS;
		return 0;
	}
}

static char rbuf[1 << 20 | 8192];
static __thread char obuf[8192];

static void reply_classic(uint64_t unique, int error, const void *data, size_t len)
{
	struct fuse_out_header oh = { .len = sizeof(oh) + len, .error = error, .unique = unique };
	struct iovec iov[2] = { { &oh, sizeof(oh) }, { (void *)data, len } };
	ssize_t r = writev(fuse_fd, iov, len ? 2 : 1);
	if (r < 0 && errno != ENOENT)
		die("writev /dev/fuse", errno);
}

static void do_init(void)
{
	ssize_t n;
	for (;;) {
		n = read(fuse_fd, rbuf, sizeof(rbuf));
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) die("read INIT", errno);
		break;
	}
	struct fuse_in_header *ih = (void *)rbuf;
	if (ih->opcode != FUSE_INIT) { fprintf(stderr, "first op %u not INIT\n", ih->opcode); exit(1); }
	struct fuse_init_in *ii = (void *)(ih + 1);
	fprintf(stderr, "expfs: kernel proto %u.%u flags=0x%x flags2=0x%x\n", ii->major, ii->minor,
		ii->flags, (ii->flags & FUSE_INIT_EXT) ? ii->flags2 : 0);
	struct fuse_init_out io;
	memset(&io, 0, sizeof(io));
	io.major = FUSE_KERNEL_VERSION;
	io.minor = ii->minor < 42 ? ii->minor : 42;
	io.max_readahead = ii->max_readahead;
	io.flags = FUSE_INIT_EXT;
	io.flags2 = want_uring ? (uint32_t)(FUSE_OVER_IO_URING >> 32) : 0;
	io.max_background = 16;
	io.congestion_threshold = 12;
	io.max_write = 4096;
	io.time_gran = 1;
	reply_classic(ih->unique, 0, &io, sizeof(io));
}

static void loop_classic(int poll)
{
	if (poll) {
		int fl = fcntl(fuse_fd, F_GETFL);
		if (fcntl(fuse_fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK", errno);
	}
	printf("READY\n"); fflush(stdout);
	for (;;) {
		ssize_t n = read(fuse_fd, rbuf, sizeof(rbuf));
		if (n < 0) {
			if (errno == EAGAIN) { n_empty_polls++; sched_yield(); continue; }
			if (errno == EINTR || errno == ENOENT) continue;
			if (errno == ENODEV) return;
			die("read /dev/fuse", errno);
		}
		struct fuse_in_header *ih = (void *)rbuf;
		int err, noreply;
		size_t len = handle(ih, (char *)(ih + 1), n - sizeof(*ih), obuf, &err, &noreply);
		if (!noreply) reply_classic(ih->unique, err, obuf, len);
		if (ih->opcode == FUSE_DESTROY) return;
	}
}

/* ---------------- io_uring (raw syscalls) ---------------- */
struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	char *sqes;  /* 128-byte SQEs */
	char *cqes;  /* 32-byte CQEs */
	unsigned to_submit;
};

struct ent {
	struct x_fuse_uring_req_header hdr;
	char *payload;
	size_t payload_sz;
	struct iovec iov[2];
	int qid;
};

static __thread struct ring R;
static int n_ready_threads;

static struct io_uring_sqe *get_sqe(void)
{
	unsigned tail = *R.sq_tail;
	unsigned idx = tail & *R.sq_mask;
	struct io_uring_sqe *sqe = (void *)(R.sqes + (size_t)idx * 128);
	memset(sqe, 0, 128);
	R.sq_array[idx] = idx;
	__atomic_store_n(R.sq_tail, tail + 1, __ATOMIC_RELEASE);
	R.to_submit++;
	return sqe;
}

static void prep_cmd(struct ent *e, unsigned idx, unsigned op, uint64_t commit_id)
{
	struct io_uring_sqe *sqe = get_sqe();
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fuse_fd;
	sqe->cmd_op = op;
	sqe->addr = (uint64_t)(uintptr_t)e->iov;
	sqe->len = 2;
	sqe->user_data = idx;
	struct x_fuse_uring_cmd_req *req = (void *)sqe->cmd;
	req->qid = e->qid;
	req->commit_id = commit_id;
}

static int ring_enter(unsigned submit, unsigned wait)
{
	for (;;) {
		int r = syscall(__NR_io_uring_enter, R.fd, submit, wait,
				wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
		if (r < 0 && errno == EINTR) { if (!wait) return 0; continue; }
		if (r < 0) return -errno;
		if ((unsigned)r >= submit) R.to_submit = 0; else R.to_submit -= r;
		return r;
	}
}

static int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	int a = 0, b = 0, n = 1;
	if (f) {
		if (fscanf(f, "%d-%d", &a, &b) == 2) n = b + 1;
		else n = a + 1;
		fclose(f);
	}
	return n;
}

/* Serve queues [q0, q0+nq) from one ring in the calling thread. */
static void loop_uring(int defer, int q0, int nq, int print_ready)
{
	int per_q = 2;
	int nent = nq * per_q;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	if (defer) p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	R.fd = syscall(__NR_io_uring_setup, 64, &p);
	if (R.fd < 0) die("io_uring_setup", errno);
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * 32;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) die("no SINGLE_MMAP", EINVAL);
	size_t sz = sqsz > cqsz ? sqsz : cqsz;
	char *rp = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, R.fd, IORING_OFF_SQ_RING);
	if (rp == MAP_FAILED) die("mmap ring", errno);
	R.sqes = mmap(NULL, p.sq_entries * 128, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, R.fd, IORING_OFF_SQES);
	if (R.sqes == MAP_FAILED) die("mmap sqes", errno);
	R.sq_head = (void *)(rp + p.sq_off.head);
	R.sq_tail = (void *)(rp + p.sq_off.tail);
	R.sq_mask = (void *)(rp + p.sq_off.ring_mask);
	R.sq_array = (void *)(rp + p.sq_off.array);
	R.cq_head = (void *)(rp + p.cq_off.head);
	R.cq_tail = (void *)(rp + p.cq_off.tail);
	R.cq_mask = (void *)(rp + p.cq_off.ring_mask);
	R.cqes = rp + p.cq_off.cqes;

	struct ent *ents = calloc(nent, sizeof(*ents));
	for (int i = 0; i < nent; i++) {
		struct ent *e = &ents[i];
		e->qid = q0 + i / per_q;
		e->payload_sz = 1 << 20;
		e->payload = mmap(NULL, e->payload_sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (e->payload == MAP_FAILED) die("mmap payload", errno);
		e->iov[0].iov_base = &e->hdr;
		e->iov[0].iov_len = sizeof(e->hdr);
		e->iov[1].iov_base = e->payload;
		e->iov[1].iov_len = e->payload_sz;
		prep_cmd(e, i, X_FUSE_IO_URING_CMD_REGISTER, 0);
	}
	int r = ring_enter(R.to_submit, 0);
	if (r < 0) die("io_uring_enter(REGISTER)", -r);
	fprintf(stderr, "expfs: submitted %d REGISTER sqes (%d queues x %d)\n", r, nq, per_q);
	/* Registration errors complete immediately; give them a moment to show up. */
	usleep(20000);
	if (defer) ring_enter(0, 0);
	unsigned head = *R.cq_head;
	if (head != __atomic_load_n(R.cq_tail, __ATOMIC_ACQUIRE)) {
		struct io_uring_cqe *cqe = (void *)(R.cqes + (size_t)(head & *R.cq_mask) * 32);
		fprintf(stderr, "expfs: REGISTER of entry %llu failed: res=%d (%s)\n",
			(unsigned long long)cqe->user_data, cqe->res, strerror(-cqe->res));
		exit(1);
	}
	if (print_ready) { printf("READY\n"); fflush(stdout); }
	__atomic_fetch_add(&n_ready_threads, 1, __ATOMIC_RELEASE);

	for (;;) {
		head = *R.cq_head;
		if (head == __atomic_load_n(R.cq_tail, __ATOMIC_ACQUIRE)) {
			r = ring_enter(R.to_submit, 1);
			if (r < 0) die("io_uring_enter", -r);
			continue;
		}
		struct io_uring_cqe *cqe = (void *)(R.cqes + (size_t)(head & *R.cq_mask) * 32);
		unsigned idx = cqe->user_data;
		int res = cqe->res;
		__atomic_store_n(R.cq_head, head + 1, __ATOMIC_RELEASE);
		if (res < 0) {
			fprintf(stderr, "expfs: cqe entry %u res=%d (%s) -> exiting\n", idx, res, strerror(-res));
			return;
		}
		struct ent *e = &ents[idx];
		struct fuse_in_header ih;
		memcpy(&ih, e->hdr.in_out, sizeof(ih));
		uint64_t commit_id = e->hdr.ring_ent_in_out.commit_id;
		uint32_t psz = e->hdr.ring_ent_in_out.payload_sz;
		int err, noreply;
		size_t len = handle(&ih, e->payload, psz, obuf, &err, &noreply);
		struct fuse_out_header oh = { .len = sizeof(oh) + len, .error = err, .unique = ih.unique };
		memcpy(e->hdr.in_out, &oh, sizeof(oh));
		if (len) memcpy(e->payload, obuf, len);
		e->hdr.ring_ent_in_out.payload_sz = len;
		prep_cmd(e, idx, X_FUSE_IO_URING_CMD_COMMIT_AND_FETCH, commit_id);
		/* submission happens together with the next wait in ring_enter() */
	}
}

/* NOT single-threaded: one thread per CPU, pinned, serving that CPU's queue.
 * Only for comparison (what the io_uring design is meant for). */
static void *percpu_thread(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	cpu_set_t set;
	CPU_ZERO(&set); CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	loop_uring(0, cpu, 1, 0);
	return NULL;
}

static void run_percpu(void)
{
	int nq = possible_cpus();
	pthread_t th[64];
	for (int i = 0; i < nq; i++) pthread_create(&th[i], NULL, percpu_thread, (void *)(intptr_t)i);
	while (__atomic_load_n(&n_ready_threads, __ATOMIC_ACQUIRE) < nq) usleep(1000);
	printf("READY\n"); fflush(stdout);
	for (int i = 0; i < nq; i++) pthread_join(th[i], NULL);
}

static void print_stats(void)
{
	fprintf(stderr, "expfs: lookups=%lu other=%lu same_cpu=%lu diff_cpu=%lu nocpu=%lu empty_polls=%lu daemon_cpu_hist=",
		n_lookup, n_other, same_cpu, diff_cpu, nocpu, n_empty_polls);
	for (int i = 0; i < 64; i++) if (dcpu_hist[i]) fprintf(stderr, "[%d]=%lu ", i, dcpu_hist[i]);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, " daemon_cpu_s=%.3f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

static void on_term(int s) { (void)s; print_stats(); _exit(0); }

int main(int argc, char **argv)
{
	if (argc < 3) { fprintf(stderr, "usage: %s classic|poll|uring|uringdt MNT [neg]\n", argv[0]); return 2; }
	const char *mode = argv[1], *mnt = argv[2];
	neg_entry = argc > 3 && !strcmp(argv[3], "neg");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0) die("open /dev/fuse", errno);
	char opts[256];
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,default_permissions", fuse_fd);
	if (mount("worldexp", mnt, "fuse.exp", MS_NOSUID | MS_NODEV, opts) < 0) die("mount", errno);
	want_uring = !strncmp(mode, "uring", 5);
	do_init();
	if (!strcmp(mode, "classic")) loop_classic(0);
	else if (!strcmp(mode, "poll")) loop_classic(1);
	else if (!strcmp(mode, "uring")) loop_uring(0, 0, possible_cpus(), 1);
	else if (!strcmp(mode, "uringdt")) loop_uring(1, 0, possible_cpus(), 1);
	else if (!strcmp(mode, "uringpercpu")) run_percpu();
	else { fprintf(stderr, "bad mode\n"); return 2; }
	print_stats();
	return 0;
}
