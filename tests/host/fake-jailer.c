/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A stand-in for Firecracker's jailer in the launch tests, doing for real
 * what the helper relies on: it accepts exactly the argv of banger's template
 * (anything else is an error), checks that it was started as root inside the
 * cgroup named by --parent-cgroup (so CLONE_INTO_CGROUP really happened),
 * builds <chroot-base>/<exec name>/<id>/root owned by --uid/--gid, copies
 * the exec file in, then, as the real jailer (src/jailer/src/chroot.rs),
 * enters a mount namespace of its own (every mount a slave of the host's),
 * bind-mounts the jail root onto itself with MS_BIND|MS_REC -- so whatever
 * was mounted beneath it (the VM's files, by the helper) comes along --,
 * chroots there, drops to --uid/--gid and execs it as
 * `/<exec name> --id <id> <args after -->`.  The exec file must be static
 * (fake-vmm-static): nothing else is inside the chroot.  No GLib. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static void
die (const char *msg)
{
  fprintf (stderr, "fake-jailer: %s (%s)\n", msg, strerror (errno));
  exit (1);
}

static void
mkdirs (char *path, mode_t mode)
{
  for (char *p = path + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (path, mode) < 0 && errno != EEXIST)
          die (path);
        *p = '/';
      }
  if (mkdir (path, mode) < 0 && errno != EEXIST)
    die (path);
}

int
main (int argc, char **argv)
{
  const char *id = NULL, *exec_file = NULL, *uid_s = NULL, *gid_s = NULL, *cgv = NULL;
  const char *parent = NULL, *base = NULL;
  char **extra = NULL;
  int n_extra = 0;
  char root[4096], copy[8192], line[4096], want[4096];
  const char *exec_name;
  uid_t uid;
  gid_t gid;
  FILE *f;
  int in, out;
  struct stat st;

  for (int i = 1; i < argc; i++)
    {
      const char **slot = NULL;
      if (strcmp (argv[i], "--") == 0)
        {
          extra = argv + i + 1;
          n_extra = argc - i - 1;
          break;
        }
      if (strcmp (argv[i], "--id") == 0) slot = &id;
      else if (strcmp (argv[i], "--exec-file") == 0) slot = &exec_file;
      else if (strcmp (argv[i], "--uid") == 0) slot = &uid_s;
      else if (strcmp (argv[i], "--gid") == 0) slot = &gid_s;
      else if (strcmp (argv[i], "--cgroup-version") == 0) slot = &cgv;
      else if (strcmp (argv[i], "--parent-cgroup") == 0) slot = &parent;
      else if (strcmp (argv[i], "--chroot-base-dir") == 0) slot = &base;
      if (slot == NULL || *slot != NULL || i + 1 >= argc)
        {
          errno = EINVAL;
          die (argv[i]);
        }
      *slot = argv[++i];
    }
  if (!id || !exec_file || !uid_s || !gid_s || !cgv || !parent || !base || strcmp (cgv, "2") != 0
      || exec_file[0] != '/' || base[0] != '/')
    {
      errno = EINVAL;
      die ("incomplete or unexpected arguments");
    }
  if (geteuid () != 0)
    {
      errno = EPERM;
      die ("the jailer must start as root");
    }
  /* started inside the VM's scope, before exec: the parent cgroup is ours */
  snprintf (want, sizeof want, "0::/%s\n", parent);
  f = fopen ("/proc/self/cgroup", "re");
  if (f == NULL)
    die ("/proc/self/cgroup");
  while (fgets (line, sizeof line, f) && strncmp (line, "0::", 3) != 0)
    ;
  fclose (f);
  if (strcmp (line, want) != 0)
    {
      errno = EINVAL;
      die ("not started in the --parent-cgroup");
    }
  uid = (uid_t) strtoul (uid_s, NULL, 10);
  gid = (gid_t) strtoul (gid_s, NULL, 10);
  exec_name = strrchr (exec_file, '/') + 1;

  if (snprintf (root, sizeof root, "%s/%s/%s/root", base, exec_name, id) >= (int) sizeof root)
    die ("path too long");
  mkdirs (root, 0755);
  if (chown (root, uid, gid) < 0)
    die ("chown root");
  snprintf (copy, sizeof copy, "%s/%s", root, exec_name);
  in = open (exec_file, O_RDONLY | O_CLOEXEC);
  out = open (copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (in < 0 || out < 0 || fstat (in, &st) < 0 || sendfile (out, in, NULL, st.st_size) != st.st_size)
    die ("copy the exec file (a stale jail?)");
  /* the permission bits of the source, whatever the umask (as fs::copy) */
  if (fchmod (out, st.st_mode & 07777) < 0)
    die ("chmod the exec file");
  close (in);
  close (out);

  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0
      || mount (root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
    die ("mount namespace");
  if (chroot (root) < 0 || chdir ("/") < 0)
    die ("chroot");
  if (setgroups (0, NULL) < 0 || setresgid (gid, gid, gid) < 0 || setresuid (uid, uid, uid) < 0)
    die ("drop privileges");
  {
    char **nargv = calloc ((size_t) n_extra + 4, sizeof (char *));
    char path[4096];
    if (snprintf (path, sizeof path, "/%s", exec_name) >= (int) sizeof path)
      die ("path too long");
    nargv[0] = (char *) exec_name;
    nargv[1] = (char *) "--id";
    nargv[2] = (char *) id;
    for (int i = 0; i < n_extra; i++)
      nargv[3 + i] = extra[i];
    execv (path, nargv);
  }
  die ("exec");
  return 1;
}
