/*
 * Lost-fsync shim for FAULTS D8 (LD_PRELOAD). Models what a power cut keeps: for every file under
 * $STIXGATE_SHIM_DIR, the content it had at its last successful fsync/fdatasync. On each such call
 * the real sync runs, then the file is copied to $STIXGATE_SHIM_IMAGES (its relative path with '/'
 * written as '%'). After kill -9, a test replaces the data directory with these images: writes
 * that were never synced are lost, as the page cache would be.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void snapshot(int fd) {
  const char *dir = getenv("STIXGATE_SHIM_DIR"), *img = getenv("STIXGATE_SHIM_IMAGES");
  if (!dir || !img) return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = 0;
  size_t dl = strlen(dir);
  if (strncmp(path, dir, dl) != 0 || path[dl] != '/') return;
  char rel[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX];
  snprintf(rel, sizeof rel, "%s", path + dl + 1);
  for (char *p = rel; *p; p++) if (*p == '/') *p = '%';
  snprintf(dst, sizeof dst, "%s/%s", img, rel);
  snprintf(tmp, sizeof tmp, "%s/.tmp.%d", img, (int)getpid());
  int in = open(path, O_RDONLY), out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in >= 0 && out >= 0) {
    char buf[1 << 16];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0) if (write(out, buf, (size_t)r) != r) break;
    close(out);
    out = -1;
    rename(tmp, dst);
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int r = real(fd);
  if (r == 0) snapshot(fd);
  return r;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int r = real(fd);
  if (r == 0) snapshot(fd);
  return r;
}
