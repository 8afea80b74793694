/* statbench.c - stat() N distinct missing names under MNT, report µs/lookup.
 * usage: statbench MNT N TAG
 * Each name ends in "_c<cpu>" (client CPU right before the call) so the daemon
 * can count same-CPU vs cross-CPU service.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) { fprintf(stderr, "usage: %s MNT N TAG\n", argv[0]); return 2; }
	const char *mnt = argv[1];
	int n = atoi(argv[2]);
	const char *tag = argv[3];
	char path[512];
	struct stat st;
	/* warm-up (not timed) */
	for (int i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "%s/w%s_%d_c%d", mnt, tag, i, sched_getcpu());
		stat(path, &st);
	}
	double *lat = malloc(sizeof(double) * n);
	unsigned long cpuh[64] = {0};
	int migr = 0, last = -1, bad = 0;
	double t0 = now_us();
	for (int i = 0; i < n; i++) {
		int cpu = sched_getcpu();
		if (cpu >= 0 && cpu < 64) cpuh[cpu]++;
		if (last >= 0 && cpu != last) migr++;
		last = cpu;
		snprintf(path, sizeof(path), "%s/%s_%d_c%d", mnt, tag, i, cpu);
		double a = now_us();
		int r = stat(path, &st);
		lat[i] = now_us() - a;
		if (r == 0 || errno != ENOENT) bad++;
	}
	double tot = now_us() - t0;
	qsort(lat, n, sizeof(double), cmpd);
	printf("avg_us=%.3f p50_us=%.3f p75_us=%.3f p90_us=%.3f p95_us=%.3f p99_us=%.3f n=%d bad=%d client_cpu_switches=%d client_cpu_hist=",
	       tot / n, lat[n / 2], lat[n * 3 / 4], lat[n * 9 / 10], lat[n * 95 / 100], lat[n * 99 / 100], n, bad, migr);
	for (int i = 0; i < 64; i++) if (cpuh[i]) printf("[%d]=%lu ", i, cpuh[i]);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("client_cpu_s=%.3f wall_s=%.3f\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, tot / 1e6);
	return 0;
}
