/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stand-in for Firecracker in the launch/signal tests: it accepts the
 * arguments the helper's template passes, creates the --api-sock socket (so
 * the test can see it started as the owner in its run dir), then waits for a
 * signal.  No GLib: it runs as an unprivileged uid from the build dir.
 *
 * In a jail (there is a /disk-rootfs, as only a jail root has) it does what
 * Firecracker does with the files staged there: it writes a marker at the
 * start of /disk-rootfs and reports, on stdout (the VM's log), that file's
 * inode and whether /kernel could be opened for writing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  const char *sock = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--api-sock") == 0 && i + 1 < argc)
        sock = argv[++i];
      else if (strncmp (argv[i], "--api-sock=", 11) == 0)
        sock = argv[i] + 11;
    }
  if (sock != NULL)
    {
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

      if (strlen (sock) >= sizeof addr.sun_path)
        return 2;
      strcpy (addr.sun_path, sock);
      /* A socket that cannot be made is reported, not fatal: the
       * authorisation tests run impostors that share one path. */
      if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 1) < 0)
        perror ("fake-vmm: api socket");
    }
  {
    static const char marker[] = "written by the jailed fake-vmm";
    struct stat st;
    int disk = open ("/disk-rootfs", O_RDWR | O_CLOEXEC | O_NOFOLLOW);

    if (disk >= 0)
      {
        int k = open ("/kernel", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        int ok = fstat (disk, &st) == 0
                 && pwrite (disk, marker, sizeof marker - 1, 0) == (ssize_t)(sizeof marker - 1)
                 && fsync (disk) == 0;
        printf ("fake-vmm disk-rootfs ino=%lu dev=%lu write=%s kernel-rw=%s\n",
                (unsigned long)st.st_ino, (unsigned long)st.st_dev, ok ? "ok" : strerror (errno),
                k >= 0 ? "opened" : strerror (errno));
        if (k >= 0)
          close (k);
        close (disk);
      }
  }
  printf ("fake-vmm ready\n");
  fflush (stdout);
  for (;;)
    pause ();
}
