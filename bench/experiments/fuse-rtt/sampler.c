/* sampler.c - sample field 39 (last CPU) of /proc/PID/stat for two pids.
 * usage: sampler DAEMON_PID CLIENT_PID INTERVAL_MS ; runs until CLIENT_PID is gone. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int lastcpu(int pid)
{
	char p[64], b[1024];
	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	if (!f) return -1;
	if (!fgets(b, sizeof b, f)) { fclose(f); return -1; }
	fclose(f);
	char *s = strrchr(b, ')');
	if (!s) return -1;
	int field = 2; /* s points at end of field 2 */
	char *tok = strtok(s + 1, " ");
	while (tok) { field++; if (field == 39) return atoi(tok); tok = strtok(NULL, " "); }
	return -1;
}
int main(int argc, char **argv)
{
	int d = atoi(argv[1]), c = atoi(argv[2]), ms = atoi(argv[3]);
	long same = 0, diff = 0, dh[4] = {0}, ch[4] = {0};
	for (;;) {
		int cc = lastcpu(c), dc = lastcpu(d);
		if (cc < 0 || dc < 0) break;
		if (cc == dc) same++; else diff++;
		if (dc < 4) dh[dc]++;
		if (cc < 4) ch[cc]++;
		usleep(ms * 1000);
	}
	printf("samples=%ld same=%ld diff=%ld daemon_cpu0/1=%ld/%ld client_cpu0/1=%ld/%ld\n",
	       same + diff, same, diff, dh[0], dh[1], ch[0], ch[1]);
	return 0;
}
