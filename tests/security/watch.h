/* Shared by swapper.c and rswap.c: the inotify watch for names created in a directory,
   the "ready" line, and the walk over the events one read returned. */
#include <stdio.h>
#include <sys/inotify.h>

/* An inotify fd watching DIR for names created in it, or -1. */
static int watch_creates(const char *dir) {
  int fd = inotify_init1(0);
  if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE) < 0) return -1;
  return fd;
}

/* Line-buffered stdout, and "ready" on it: the watch is in place. */
static void say_ready(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
}

/* Each event in BUF[0..GOT) as E; a continue in the body goes on to the next one. */
#define FOR_EACH_EVENT(e, buf, got)                                   \
  for (struct inotify_event *e = (struct inotify_event *)(buf);       \
       (char *)e < (buf) + (got);                                     \
       e = (struct inotify_event *)((char *)e + sizeof *e + e->len))
