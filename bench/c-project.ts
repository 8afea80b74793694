// A small C project for the "real job" workload: `modules` translation units that include a few
// system headers, a main that calls them all, and a Makefile with one object per unit. Pure: it
// returns file names and contents.

export function cProject(modules: number): Map<string, string> {
  const files = new Map<string, string>();
  const names = Array.from({ length: modules }, (_, i) => `m${i}`);
  for (const [i, m] of names.entries()) {
    files.set(`${m}.h`, `#ifndef ${m.toUpperCase()}_H\n#define ${m.toUpperCase()}_H\nlong ${m}_run(int n);\n#endif\n`);
    files.set(`${m}.c`, `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "${m}.h"

struct entry { char key[32]; long value; struct entry *next; };

static unsigned hash(const char *s) {
  unsigned h = ${2166136261 + i}u;
  while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; }
  return h;
}

static int cmp(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

long ${m}_run(int n) {
  struct entry *table[64] = {0};
  long *values = malloc(sizeof(long) * (size_t)n);
  long sum = 0;
  for (int i = 0; i < n; i++) {
    struct entry *e = malloc(sizeof *e);
    snprintf(e->key, sizeof e->key, "k%d-%d", ${i}, i);
    e->value = (long)(sqrt((double)i) * ${i + 1}) ^ hash(e->key);
    unsigned b = hash(e->key) % 64;
    e->next = table[b];
    table[b] = e;
    values[i] = e->value;
  }
  qsort(values, (size_t)n, sizeof(long), cmp);
  for (int b = 0; b < 64; b++) {
    while (table[b]) { struct entry *e = table[b]; table[b] = e->next; sum += e->value % 1000; free(e); }
  }
  sum += values[n / 2] % 1000;
  free(values);
  return sum + (long)strlen("${m}");
}
`);
  }
  files.set('main.c', `#include <stdio.h>
${names.map((m) => `#include "${m}.h"`).join('\n')}

int main(void) {
  long total = 0;
${names.map((m) => `  total += ${m}_run(1000);`).join('\n')}
  printf("%ld\\n", total);
  return 0;
}
`);
  const objs = [...names, 'main'].map((m) => `${m}.o`).join(' ');
  files.set('Makefile', `CFLAGS ?= -O2 -Wall
OBJS = ${objs}

prog: $(OBJS)
\t$(CC) -o $@ $(OBJS) -lm

%.o: %.c
\t$(CC) $(CFLAGS) -c $< -o $@
`);
  return files;
}
