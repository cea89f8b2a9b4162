/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stand-in for Firecracker in the launch/signal tests: it accepts the
 * arguments the helper's template passes, creates the --api-sock socket (so
 * the test can see it started as the owner in its run dir), then waits for a
 * signal.  No GLib: it runs as an unprivileged uid from the build dir. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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
  printf ("fake-vmm ready\n");
  fflush (stdout);
  for (;;)
    pause ();
}
