/*
 * check.h -- the verdict lines of the programs the netns tests run: one
 * line per check ("ok  " or "FAIL" and what was checked), counted, so that
 * main() can print the totals and exit 1 when any failed.
 */
#ifndef PT_NETNS_CHECK_H
#define PT_NETNS_CHECK_H
#include <stdio.h>

static int failed, passed;

static void check(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
  fflush(stdout);
  if (ok)
    passed++;
  else
    failed++;
}
#endif /* PT_NETNS_CHECK_H */
