/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The QEMU driver without a real guest:
 *  - argv building and option escaping;
 *  - the QMP client against an in-thread fake QMP server (handshake,
 *    commands, events and late replies skipped, error desc propagation,
 *    protocol errors, timeouts);
 *  - the whole driver against a fake QEMU: this very executable, run with
 *    QEMU's argv, listens on the -qmp socket and answers like QEMU
 *    (behaviour chosen by $BANGER_FAKE_QEMU, commands logged to
 *    $BANGER_FAKE_QEMU_LOG): launch/configure/start/pause/resume/refresh,
 *    the stop ladder (power button honoured, or ignored -> TERM), a refusal
 *    reaching the caller with QEMU's desc, a process dying mid-launch;
 *  - the direct launcher giving the child a clean signal mask. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "banger-proc-identity.h"
#include "banger-qmp.h"
#include "banger-test.h"
#include "banger-vmm-helper-launcher.h"
#include "banger-vmm-qemu.h"
#include "banger-vmm-stop-ladder.h"

static char *self_exe;

/* ------------------------------------------------------------ fake QEMU */

/* The fake's migration: the file QEMU was handed by getfd (SCM_RIGHTS),
 * whether -incoming defer was given, the status query-migrate reports. */
static int fake_snap_fd = -1;
static int fake_received_fd = -1; /* with the latest bytes read */
static gboolean fake_incoming;
static const char *fake_mig_status; /* NULL: no migration yet */
static int fake_mig_polls;

#define FAKE_STATE_MAGIC "QEVM-fake-state\n"

static const char *
fake_snapshot_reply (const char *behaviour, const char *command, char **state,
                     gboolean *exit_after)
{
  if (strcmp (command, "getfd") == 0)
    {
      if (fake_received_fd < 0)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file descriptor "
               "supplied via SCM_RIGHTS\"}";
      if (fake_snap_fd >= 0)
        close (fake_snap_fd);
      fake_snap_fd = fake_received_fd;
      fake_received_fd = -1;
      return "{\"return\": {}";
    }
  if (strcmp (command, "migrate") == 0)
    {
      if (fake_snap_fd < 0)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor "
               "named 'banger-snapshot' not found\"}";
      if (strcmp (behaviour, "migrate-fails") == 0)
        fake_mig_status = "failed";
      else
        {
          g_autofree char *body = g_strdup_printf (FAKE_STATE_MAGIC "state=%s\n", *state);
          if (write (fake_snap_fd, body, strlen (body)) != (ssize_t) strlen (body))
            fake_mig_status = "failed";
          else
            fake_mig_status = "active";
        }
      fake_mig_polls = 0;
      close (fake_snap_fd);
      fake_snap_fd = -1;
      g_free (*state);
      *state = g_strdup ("finish-migrate");
      return "{\"return\": {}";
    }
  if (strcmp (command, "migrate-incoming") == 0)
    {
      char buf[64] = { 0 };

      if (!fake_incoming)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"'-incoming' was not "
               "specified on the command line\"}";
      if (fake_snap_fd < 0)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor "
               "named 'banger-snapshot' not found\"}";
      if (read (fake_snap_fd, buf, sizeof buf - 1) < (ssize_t) strlen (FAKE_STATE_MAGIC)
          || !g_str_has_prefix (buf, FAKE_STATE_MAGIC))
        {
          /* as QEMU: a failed incoming migration ends the process */
          fprintf (stderr, "qemu-system-x86_64: load of migration failed: Invalid argument\n");
          *exit_after = TRUE;
          return "{\"return\": {}";
        }
      close (fake_snap_fd);
      fake_snap_fd = -1;
      fake_mig_status = "active";
      fake_mig_polls = 0;
      return "{\"return\": {}";
    }
  if (strcmp (command, "migrate_cancel") == 0)
    {
      fake_mig_status = "cancelled";
      return "{\"return\": {}";
    }
  return NULL;
}

static const char *
fake_reply (const char *behaviour, const char *command, char **state, gboolean *exit_after)
{
  const char *snap;

  *exit_after = FALSE;
  snap = fake_snapshot_reply (behaviour, command, state, exit_after);
  if (snap != NULL)
    return snap;
  if (strcmp (command, "qmp_capabilities") == 0)
    return "{\"return\": {}";
  if (strcmp (command, "query-status") == 0 || strcmp (command, "query-migrate") == 0)
    return NULL; /* built by the caller from *state */
  if (strcmp (command, "query-blockstats") == 0)
    return "{\"return\": [{\"device\": \"\", \"qdev\": \"/machine/peripheral-anon/device[0]\", "
           "\"stats\": {\"rd_bytes\": 4096, \"wr_bytes\": 512, \"rd_operations\": 1}}, "
           "{\"device\": \"\", \"stats\": {\"rd_bytes\": 1000, \"wr_bytes\": 24}}]";
  if (strcmp (command, "cont") == 0)
    {
      if (strcmp (behaviour, "refuse-cont") == 0)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Resetting the Virtual "
               "Machine is required, with a long explanation that is longer than sixty-four "
               "characters\"}";
      g_free (*state);
      *state = g_strdup ("running");
      return "{\"return\": {}";
    }
  if (strcmp (command, "stop") == 0)
    {
      g_free (*state);
      *state = g_strdup ("paused");
      return "{\"return\": {}";
    }
  if (strcmp (command, "system_powerdown") == 0)
    {
      if (strcmp (behaviour, "refuse-powerdown") == 0)
        return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No power button here\"}";
      *exit_after = !g_str_has_prefix (behaviour, "ignore-powerdown");
      return "{\"return\": {}";
    }
  if (strcmp (command, "quit") == 0)
    {
      *exit_after = TRUE;
      return "{\"return\": {}";
    }
  return "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command is not found\"}";
}

/* One line from the QMP client, with recvmsg so that a file passed with
 * the bytes (SCM_RIGHTS) is kept in fake_received_fd.  FALSE at EOF. */
static gboolean
fake_read_line (int cfd, GString *inbuf, char *line, gsize size)
{
  for (;;)
    {
      const char *nl = memchr (inbuf->str, '\n', inbuf->len);
      char data[4096];
      union
      {
        char buf[CMSG_SPACE (sizeof (int) * 4)];
        struct cmsghdr align;
      } control;
      struct iovec iov = { data, sizeof data };
      struct msghdr msg = { 0 };
      ssize_t n;

      if (nl != NULL)
        {
          gsize len = MIN ((gsize) (nl - inbuf->str) + 1, size - 1);
          memcpy (line, inbuf->str, len);
          line[len] = '\0';
          g_string_erase (inbuf, 0, (gssize) (nl - inbuf->str) + 1);
          return TRUE;
        }
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      n = recvmsg (cfd, &msg, MSG_CMSG_CLOEXEC);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
          {
            int fd;
            memcpy (&fd, CMSG_DATA (c), sizeof fd);
            if (fake_received_fd >= 0)
              close (fake_received_fd);
            fake_received_fd = fd;
          }
      g_string_append_len (inbuf, data, n);
    }
}

static int
fake_qemu_main (int argc, char **argv)
{
  const char *behaviour = g_getenv ("BANGER_FAKE_QEMU");
  const char *log_path = g_getenv ("BANGER_FAKE_QEMU_LOG");
  g_autofree char *qmp_path = NULL;
  g_autofree char *state = g_strdup ("prelaunch");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  FILE *log = NULL;
  int lfd;

  if (g_strcmp0 (behaviour, "sigblk") == 0)
    {
      /* the launcher test: show the signal mask we were started with */
      g_autofree char *status = NULL;
      g_auto (GStrv) lines = NULL;
      if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
        {
          lines = g_strsplit (status, "\n", -1);
          for (guint i = 0; lines[i] != NULL; i++)
            if (g_str_has_prefix (lines[i], "SigBlk:"))
              printf ("%s\n", lines[i]);
        }
      return 0;
    }
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "-qmp") == 0 && g_str_has_prefix (argv[i + 1], "unix:"))
      {
        /* unix:PATH,server=on,wait=off with ',' doubled inside PATH */
        GString *p = g_string_new (NULL);
        for (const char *c = argv[i + 1] + 5; *c != '\0'; c++)
          {
            if (*c == ',' && c[1] == ',')
              c++;
            else if (*c == ',')
              break;
            g_string_append_c (p, *c);
          }
        qmp_path = g_string_free (p, FALSE);
      }
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "-incoming") == 0 && strcmp (argv[i + 1], "defer") == 0)
      fake_incoming = TRUE;
  if (qmp_path == NULL)
    {
      /* (the KVM boot probe has its own fake: tests/unit/test-kvm-probe.c) */
      return 1;
    }
  if (behaviour == NULL)
    {
      fprintf (stderr, "fake qemu: no behaviour or no -qmp\n");
      return 2;
    }
  if (strcmp (behaviour, "die-early") == 0)
    {
      fprintf (stderr, "qemu-system-x86_64: -drive if=none,id=rootfs,file=/nonexistent: Could "
                       "not open '/nonexistent': No such file or directory\n");
      return 1;
    }
  if (log_path != NULL)
    log = fopen (log_path, "ae");
  if (strcmp (behaviour, "ignore-powerdown-and-term") == 0)
    signal (SIGTERM, SIG_IGN);
  if (strcmp (behaviour, "slow-socket") == 0)
    g_usleep (300 * 1000);

  lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (addr.sun_path, qmp_path, sizeof addr.sun_path);
  unlink (qmp_path);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (lfd, 4) < 0)
    {
      fprintf (stderr, "fake qemu: cannot listen on %s: %s\n", qmp_path, g_strerror (errno));
      return 3;
    }
  for (;;)
    {
      int cfd = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      FILE *out;
      char line[4096];
      g_autoptr (GString) inbuf = g_string_new (NULL);

      if (cfd < 0)
        continue;
      out = fdopen (dup (cfd), "w");
      fprintf (out, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
                    "\"major\": 7}, \"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n");
      fflush (out);
      if (strcmp (behaviour, "die-after-greeting") == 0)
        {
          fprintf (stderr, "qemu-system-x86_64: fake fatal error after the greeting\n");
          _exit (4);
        }
      while (fake_read_line (cfd, inbuf, line, sizeof line))
        {
          g_autoptr (JsonParser) parser = json_parser_new ();
          JsonObject *obj;
          const char *command;
          const char *id;
          const char *reply;
          gboolean exit_after;

          if (!json_parser_load_from_data (parser, line, -1, NULL))
            continue;
          obj = json_node_get_object (json_parser_get_root (parser));
          command = json_object_get_string_member_with_default (obj, "execute", "");
          id = json_object_get_string_member_with_default (obj, "id", "");
          if (log != NULL)
            {
              fprintf (log, "%s\n", command);
              fflush (log);
            }
          /* an event first, as QEMU sends them at any time */
          fprintf (out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
                        "\"FAKE\"}\r\n");
          reply = fake_reply (behaviour, command, &state, &exit_after);
          if (reply == NULL && strcmp (command, "query-migrate") == 0)
            {
              /* "migrate-slow": active for a few polls */
              if (fake_mig_status != NULL && strcmp (fake_mig_status, "active") == 0
                  && (strcmp (behaviour, "migrate-slow") != 0 || ++fake_mig_polls > 3))
                {
                  fake_mig_status = "completed";
                  g_free (state);
                  state = g_strdup (fake_incoming ? "paused" : "postmigrate");
                }
              if (fake_mig_status == NULL)
                fprintf (out, "{\"return\": {}, \"id\": \"%s\"}\r\n", id);
              else if (strcmp (fake_mig_status, "failed") == 0)
                fprintf (out, "{\"return\": {\"status\": \"failed\", \"error-desc\": "
                              "\"Unable to write to file: No space left on device\"}, "
                              "\"id\": \"%s\"}\r\n", id);
              else
                fprintf (out, "{\"return\": {\"status\": \"%s\"}, \"id\": \"%s\"}\r\n",
                         fake_mig_status, id);
            }
          else if (reply == NULL)
            fprintf (out, "{\"return\": {\"status\": \"%s\", \"running\": %s}, \"id\": \"%s\"}\r\n",
                     state, strcmp (state, "running") == 0 ? "true" : "false", id);
          else
            fprintf (out, "%s, \"id\": \"%s\"}\r\n", reply, id);
          fflush (out);
          if (strcmp (behaviour, "stop-after-cont") == 0 && strcmp (command, "cont") == 0)
            {
              /* the guest stops by itself a moment later (an I/O error,
               * another QMP client): QEMU says so with an event */
              g_usleep (50 * 1000);
              g_free (state);
              state = g_strdup ("paused");
              fprintf (out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, "
                            "\"event\": \"STOP\"}\r\n");
              fflush (out);
            }
          if (exit_after)
            {
              unlink (qmp_path);
              _exit (0);
            }
        }
      close (cfd);
      fclose (out);
    }
}

/* ---------------------------------------------------------------- helpers */

static BangerVmmConfig *
make_config (const char *run_dir)
{
  BangerVmmConfig *c = banger_vmm_config_new ("qemu-test", run_dir);

  c->kernel_path = g_strdup ("/boot/vmlinuz-test");
  c->initrd_path = g_strdup ("/boot/initrd-test");
  c->vcpus = 2;
  c->mem_mib = 192;
  c->guest_ip = g_strdup ("172.30.0.2");
  c->gateway_ip = g_strdup ("172.30.0.1");
  c->netmask = g_strdup ("255.255.255.252");
  /* the work disk first: the driver must still make the root disk vda */
  banger_vmm_config_add_drive (c, "work", "/var/lib/x,y/work.ext4", FALSE, TRUE);
  banger_vmm_config_add_drive (c, "rootfs", "/var/lib/root.ext4", TRUE, FALSE);
  banger_vmm_config_add_nic (c, "eth0", "bngtap7", NULL);
  return c;
}

static int
argv_index (const char *const *argv, const char *arg)
{
  for (int i = 0; argv[i] != NULL; i++)
    if (strcmp (argv[i], arg) == 0)
      return i;
  return -1;
}

/* The value following @opt, the @nth time @opt appears. */
static const char *
argv_value (const char *const *argv, const char *opt, int nth)
{
  for (int i = 0; argv[i] != NULL; i++)
    if (strcmp (argv[i], opt) == 0 && nth-- == 0)
      return argv[i + 1];
  return NULL;
}

static char *
make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("bq-XXXXXX", &error);
  ck_assert_msg (dir != NULL, "%s", error ? error->message : "?");
  return dir;
}

static void
rm_rf (const char *dir)
{
  const char *argv[] = { "rm", "-rf", "--one-file-system", dir, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
}

/* ------------------------------------------------------------------ argv */

/* The driver's command line: the request the driver hands its launcher,
 * through the one builder (launch/banger-qemu-cmdline.c). */
static GStrv
build_argv (const BangerVmmConfig *c, const char *binary, const char *accel, const char *qmp,
            const char *console, GError **error)
{
  BangerVmmLaunchRequest r = { 0 };

  r.config = c;
  r.driver = "qemu";
  r.binary = binary;
  r.accel = accel;
  r.qmp_socket = qmp;
  r.console_log = console;
  return banger_vmm_launch_request_argv (&r, error);
}

START_TEST (test_opt_escape)
{
  g_autofree char *a = banger_qemu_opt_escape ("/a,b,,c");
  g_autofree char *b = banger_qemu_opt_escape ("plain");
  ck_assert_str_eq (a, "/a,,b,,,,c");
  ck_assert_str_eq (b, "plain");
}
END_TEST

START_TEST (test_build_argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerVmmConfig) c = make_config ("/run/banger/vms/qemu-test");
  g_auto (GStrv) argv = build_argv (c, "/usr/bin/qemu-system-x86_64", "tcg", "/run/x,y/qmp.sock",
                                    "/run/x/console.log", &error);
  const char *const *a = (const char *const *) argv;
  g_autofree char *mac = banger_vmm_mac_for_vm ("qemu-test", 0);
  g_autofree char *nic = g_strdup_printf ("virtio-net-device,netdev=net0,mac=%s", mac);
  const char *append;

  ck_assert_msg (argv != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (a[0], "/usr/bin/qemu-system-x86_64");
  ck_assert_str_eq (argv_value (a, "-M", 0), "microvm");
  ck_assert_str_eq (argv_value (a, "-accel", 0), "tcg");
  ck_assert_int_lt (argv_index (a, "-cpu"), 0); /* "host" only with kvm */
  ck_assert_str_eq (argv_value (a, "-m", 0), "192");
  ck_assert_str_eq (argv_value (a, "-smp", 0), "2");
  ck_assert_int_gt (argv_index (a, "-nodefaults"), 0);
  ck_assert_int_gt (argv_index (a, "-no-user-config"), 0);
  ck_assert_str_eq (argv_value (a, "-display", 0), "none");
  ck_assert_int_lt (argv_index (a, "-nographic"), 0);
  ck_assert_int_gt (argv_index (a, "-no-reboot"), 0);
  ck_assert_int_gt (argv_index (a, "-S"), 0);
  ck_assert_str_eq (argv_value (a, "-serial", 0), "file:/run/x/console.log");
  ck_assert_str_eq (argv_value (a, "-qmp", 0), "unix:/run/x,,y/qmp.sock,server=on,wait=off");
  ck_assert_str_eq (argv_value (a, "-kernel", 0), "/boot/vmlinuz-test");
  ck_assert_str_eq (argv_value (a, "-initrd", 0), "/boot/initrd-test");

  /* root first (vda), then work, escaped and read-only */
  ck_assert_str_eq (argv_value (a, "-drive", 0),
                    "if=none,id=rootfs,file=/var/lib/root.ext4,format=raw");
  ck_assert_str_eq (argv_value (a, "-device", 0), "virtio-blk-device,drive=rootfs");
  ck_assert_str_eq (argv_value (a, "-drive", 1),
                    "if=none,id=work,file=/var/lib/x,,y/work.ext4,format=raw,readonly=on");
  ck_assert_str_eq (argv_value (a, "-device", 1), "virtio-blk-device,drive=work");
  /* the tap comes in as fd 3: QEMU never opens /dev/net/tun */
  ck_assert_str_eq (argv_value (a, "-netdev", 0), "tap,id=net0,fd=3");
  ck_assert_str_eq (argv_value (a, "-device", 2), nic);
  /* a balloon on every VM (vm set --balloon) */
  ck_assert_str_eq (argv_value (a, "-device", 3), "virtio-balloon-device,deflate-on-oom=on");

  append = argv_value (a, "-append", 0);
  ck_assert (strstr (append, "console=ttyS0") != NULL);
  ck_assert (strstr (append, "ip=172.30.0.2::172.30.0.1:255.255.255.252:qemu-test:eth0:off")
             != NULL);
  if (banger_qemu_host_tsc_khz () > 0)
    ck_assert (strstr (append, " tsc_early_khz=") != NULL);
}
END_TEST

START_TEST (test_build_argv_kvm_and_bad_accel)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerVmmConfig) c = make_config ("/run/q");
  g_auto (GStrv) kvm = build_argv (c, "/usr/bin/qemu", "kvm", "/q.sock", "/c.log", &error);
  g_auto (GStrv) bad = NULL;

  ck_assert (kvm != NULL);
  ck_assert_str_eq (argv_value ((const char *const *) kvm, "-accel", 0), "kvm");
  ck_assert_str_eq (argv_value ((const char *const *) kvm, "-cpu", 0), "host");
  ck_assert (strstr (argv_value ((const char *const *) kvm, "-append", 0), "tsc_early_khz")
             == NULL);
  bad = build_argv (c, "/usr/bin/qemu", "hvf", "/q.sock", "/c.log", &error);
  ck_assert (bad == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* ------------------------------------------------------- fake QMP server */

typedef struct
{
  char *path;
  int listen_fd;
  GPtrArray *script; /* lines to send after each command (NULL: close) */
  GPtrArray *received;
  char *greeting;
  GThread *thread;
} FakeQmp;

static gpointer
fake_qmp_thread (gpointer data)
{
  FakeQmp *f = data;
  int fd = accept4 (f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  FILE *in, *out;
  char line[4096];
  guint step = 0;

  if (fd < 0)
    return NULL;
  in = fdopen (fd, "r");
  out = fdopen (dup (fd), "w");
  fputs (f->greeting, out);
  fflush (out);
  while (step < f->script->len && fgets (line, sizeof line, in) != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      const char *reply = f->script->pdata[step++];
      const char *id = "";
      g_autofree char *filled = NULL;

      if (json_parser_load_from_data (parser, line, -1, NULL))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          id = json_object_get_string_member_with_default (o, "id", "");
          g_ptr_array_add (f->received,
                           g_strdup (json_object_get_string_member_with_default (o, "execute",
                                                                                 "")));
        }
      if (reply == NULL)
        break;
      if (strcmp (reply, "SILENT") == 0)
        continue;
      /* @ID@ in the scripted reply is the command's id */
      {
        g_auto (GStrv) parts = g_strsplit (reply, "@ID@", -1);
        filled = g_strjoinv (id, parts);
      }
      fputs (filled, out);
      fflush (out);
    }
  fclose (in);
  fclose (out);
  return NULL;
}

static FakeQmp *
fake_qmp_new (const char *dir, const char *greeting, ...)
{
  FakeQmp *f = g_new0 (FakeQmp, 1);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  va_list ap;
  const char *s;

  f->path = g_build_filename (dir, "qmp.sock", NULL);
  f->greeting = g_strdup (greeting);
  f->script = g_ptr_array_new_with_free_func (g_free);
  f->received = g_ptr_array_new_with_free_func (g_free);
  va_start (ap, greeting);
  while ((s = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (f->script, strcmp (s, "CLOSE") == 0 ? NULL : g_strdup (s));
  va_end (ap);

  f->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (addr.sun_path, f->path, sizeof addr.sun_path);
  ck_assert (f->listen_fd >= 0);
  ck_assert (bind (f->listen_fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  ck_assert (listen (f->listen_fd, 1) == 0);
  f->thread = g_thread_new ("fake-qmp", fake_qmp_thread, f);
  return f;
}

static void
fake_qmp_free (FakeQmp *f)
{
  if (f->thread != NULL)
    g_thread_join (f->thread);
  close (f->listen_fd);
  g_unlink (f->path);
  g_free (f->path);
  g_free (f->greeting);
  g_ptr_array_unref (f->script);
  g_ptr_array_unref (f->received);
  g_free (f);
}

#define GREETING                                                                               \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, "           \
  "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define OK_REPLY "{\"return\": {}, \"id\": \"@ID@\"}\r\n"

START_TEST (test_qmp_handshake_and_commands)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (BangerQmp) qmp = banger_qmp_new ();
  g_autoptr (JsonNode) status = NULL;
  g_autoptr (JsonNode) stop = NULL;
  FakeQmp *f = fake_qmp_new (
      dir, GREETING, OK_REPLY,
      /* query-status: an event and a stale reply come first */
      "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
      "{\"return\": {\"status\": \"stale\"}, \"id\": \"banger-0\"}\r\n"
      "{\"return\": {\"status\": \"prelaunch\", \"running\": false}, \"id\": \"@ID@\"}\r\n",
      /* stop: the reply split over two writes is still one line */
      "{\"return\": {}, \"id\": \"@ID@\"}\n", NULL);

  ck_assert_msg (banger_qmp_connect (qmp, f->path, 2000, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert (banger_qmp_is_connected (qmp));
  ck_assert_str_eq (banger_qmp_get_qemu_version (qmp), "7.2.22");
  status = banger_qmp_execute (qmp, "query-status", NULL, 2000, NULL, &error);
  ck_assert_msg (status != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (status), "status"),
                    "prelaunch");
  stop = banger_qmp_execute (qmp, "stop", NULL, 2000, NULL, &error);
  ck_assert (stop != NULL);
  banger_qmp_close (qmp);
  ck_assert (!banger_qmp_is_connected (qmp));

  g_thread_join (g_steal_pointer (&f->thread));
  ck_assert_int_eq (f->received->len, 3);
  ck_assert_str_eq (g_ptr_array_index (f->received, 0), "qmp_capabilities");
  ck_assert_str_eq (g_ptr_array_index (f->received, 1), "query-status");
  ck_assert_str_eq (g_ptr_array_index (f->received, 2), "stop");
  fake_qmp_free (f);
  rm_rf (dir);
}
END_TEST

static void
on_event (BangerQmp *qmp, const char *name, JsonObject *data, gpointer user_data)
{
  GString *seen = user_data;
  g_string_append_printf (seen, "%s(%s);", name,
                          data ? json_object_get_string_member_with_default (data, "reason", "")
                               : "-");
}

static void
got_async_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

/* Commands queue up and replies are matched by id, in whatever order they
 * come; events are emitted as they arrive, with their data. */
START_TEST (test_qmp_queue_and_events)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (BangerQmp) qmp = banger_qmp_new ();
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autoptr (JsonNode) r1 = NULL;
  g_autoptr (JsonNode) r2 = NULL;
  GAsyncResult *res1 = NULL, *res2 = NULL;
  FakeQmp *f = fake_qmp_new (dir, GREETING, OK_REPLY,
                             /* first command: no answer yet */
                             "SILENT",
                             /* second: its answer, an event, then the first one's (banger-2) */
                             "{\"return\": {\"n\": 2}, \"id\": \"@ID@\"}\r\n"
                             "{\"event\": \"STOP\", \"data\": {\"reason\": \"io-error\"}, "
                             "\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}\r\n"
                             "{\"return\": {\"n\": 1}, \"id\": \"banger-2\"}\r\n",
                             NULL);

  g_signal_connect (qmp, "event", G_CALLBACK (on_event), seen);
  ck_assert_msg (banger_qmp_connect (qmp, f->path, 2000, NULL, &error), "%s",
                 error ? error->message : "?");
  g_main_context_push_thread_default (ctx);
  banger_qmp_execute_async (qmp, "first", NULL, 2000, NULL, got_async_result, &res1);
  banger_qmp_execute_async (qmp, "second", NULL, 2000, NULL, got_async_result, &res2);
  while (res1 == NULL || res2 == NULL)
    g_main_context_iteration (ctx, TRUE);
  g_main_context_pop_thread_default (ctx);
  r1 = banger_qmp_execute_finish (qmp, res1, &error);
  ck_assert_msg (r1 != NULL, "%s", error ? error->message : "?");
  r2 = banger_qmp_execute_finish (qmp, res2, &error);
  ck_assert_msg (r2 != NULL, "%s", error ? error->message : "?");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (r1), "n"), 1);
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (r2), "n"), 2);
  ck_assert_str_eq (seen->str, "STOP(io-error);");
  g_object_unref (res1);
  g_object_unref (res2);
  banger_qmp_close (qmp);
  fake_qmp_free (f);
  rm_rf (dir);
}
END_TEST

/* The socket watch follows the context of the latest call.  Lines already
 * read when it moves are not stranded: here the reply to "first" arrives in
 * the same write as the reply to "second", whose callback moves the
 * connection to another context by issuing "third" from there. */
typedef struct
{
  BangerQmp *qmp;
  GMainContext *other;
  GAsyncResult *second, *third;
} Mover;

static void
on_second_then_move (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Mover *m = user_data;

  m->second = g_object_ref (result);
  g_main_context_push_thread_default (m->other);
  banger_qmp_execute_async (m->qmp, "third", NULL, 2000, NULL, got_async_result, &m->third);
  g_main_context_pop_thread_default (m->other);
}

START_TEST (test_qmp_follows_context)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (BangerQmp) qmp = banger_qmp_new ();
  g_autoptr (GMainContext) a = g_main_context_new ();
  g_autoptr (GMainContext) b = g_main_context_new ();
  g_autoptr (JsonNode) r1 = NULL;
  GAsyncResult *first = NULL;
  Mover m = { qmp, a, NULL, NULL };
  gint64 t0;
  FakeQmp *f = fake_qmp_new (dir, GREETING, OK_REPLY, "SILENT",
                             "{\"return\": {\"n\": 2}, \"id\": \"@ID@\"}\r\n"
                             "{\"return\": {\"n\": 1}, \"id\": \"banger-2\"}\r\n",
                             /* "third" gets no answer: nothing new arrives to wake the watch
                              * (and the fake keeps the connection open, waiting for more) */
                             "SILENT", "SILENT", NULL);

  ck_assert (banger_qmp_connect (qmp, f->path, 2000, NULL, &error));
  g_main_context_push_thread_default (a);
  banger_qmp_execute_async (qmp, "first", NULL, 2000, NULL, got_async_result, &first);
  g_main_context_push_thread_default (b);
  banger_qmp_execute_async (qmp, "second", NULL, 2000, NULL, on_second_then_move, &m);
  while (m.second == NULL)
    g_main_context_iteration (b, TRUE);
  g_main_context_pop_thread_default (b);
  t0 = g_get_monotonic_time ();
  while (first == NULL && g_get_monotonic_time () - t0 < G_USEC_PER_SEC)
    if (!g_main_context_iteration (a, FALSE))
      g_usleep (1000);
  /* answered from the buffer, not left to time out */
  ck_assert_ptr_nonnull (first);
  r1 = banger_qmp_execute_finish (qmp, first, &error);
  ck_assert_msg (r1 != NULL, "%s", error ? error->message : "?");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (r1), "n"), 1);
  g_object_unref (first);
  g_object_unref (m.second);
  banger_qmp_close (qmp); /* "third" fails with the connection */
  while (m.third == NULL)
    g_main_context_iteration (a, TRUE);
  g_main_context_pop_thread_default (a);
  g_object_unref (m.third);
  fake_qmp_free (f);
  rm_rf (dir);
}
END_TEST

START_TEST (test_qmp_error_desc)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autoptr (BangerQmp) qmp = banger_qmp_new ();
  g_autoptr (JsonNode) ret = NULL;
  g_autoptr (JsonObject) args = json_object_new ();
  const char *desc = "Device 'nope' not found; and this description goes on past sixty-four "
                     "characters on purpose";
  g_autofree char *reply = g_strdup_printf (
      "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"%s\"}, \"id\": \"@ID@\"}\r\n",
      desc);
  FakeQmp *f = fake_qmp_new (dir, GREETING, OK_REPLY, reply, NULL);

  ck_assert (banger_qmp_connect (qmp, f->path, 2000, NULL, &error));
  json_object_set_string_member (args, "id", "nope");
  ret = banger_qmp_execute (qmp, "device_del", args, 2000, NULL, &error);
  ck_assert (ret == NULL);
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_msg (strstr (error->message, desc) != NULL, "desc lost: %s", error->message);
  ck_assert (strstr (error->message, "device_del") != NULL);
  ck_assert (strstr (error->message, "DeviceNotFound") != NULL);
  fake_qmp_free (f);
  rm_rf (dir);
}
END_TEST

START_TEST (test_qmp_protocol_errors)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.sock", NULL);
  g_autoptr (BangerQmp) qmp = banger_qmp_new ();
  g_autoptr (JsonNode) ret = NULL;
  FakeQmp *f;

  /* no socket */
  ck_assert (!banger_qmp_connect (qmp, missing, 500, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* not a QMP greeting */
  f = fake_qmp_new (dir, "{\"hello\": 1}\r\n", NULL);
  ck_assert (!banger_qmp_connect (qmp, f->path, 1000, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  g_clear_error (&error);
  fake_qmp_free (f);

  /* garbage instead of JSON */
  f = fake_qmp_new (dir, "this is not json\r\n", NULL);
  ck_assert (!banger_qmp_connect (qmp, f->path, 1000, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  g_clear_error (&error);
  fake_qmp_free (f);

  /* the peer hangs up mid-command */
  f = fake_qmp_new (dir, GREETING, OK_REPLY, "CLOSE", NULL);
  ck_assert (banger_qmp_connect (qmp, f->path, 1000, NULL, &error));
  ret = banger_qmp_execute (qmp, "query-status", NULL, 1000, NULL, &error);
  ck_assert (ret == NULL);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert (!banger_qmp_is_connected (qmp));
  g_clear_error (&error);
  fake_qmp_free (f);

  /* no answer: bounded */
  f = fake_qmp_new (dir, GREETING, OK_REPLY, "SILENT", "CLOSE", NULL);
  ck_assert (banger_qmp_connect (qmp, f->path, 1000, NULL, &error));
  ret = banger_qmp_execute (qmp, "query-status", NULL, 300, NULL, &error);
  ck_assert (ret == NULL);
  banger_assert_error (error, BANGER_ERROR_TIMED_OUT);
  banger_qmp_close (qmp);
  fake_qmp_free (f);
  rm_rf (dir);
}
END_TEST

/* ------------------------------------------------------ driver vs fake */

typedef struct
{
  char *dir;
  char *log;
  BangerVmm *vmm;
} DriverFixture;

static DriverFixture *
driver_new (const char *behaviour)
{
  DriverFixture *d = g_new0 (DriverFixture, 1);
  BangerVmmConfig *c;
  g_autoptr (GError) error = NULL;
  g_autofree char *run_dir = NULL;

  d->dir = make_tmpdir ();
  run_dir = g_build_filename (d->dir, "run", NULL);
  d->log = g_build_filename (d->dir, "commands.log", NULL);
  g_setenv ("BANGER_FAKE_QEMU", behaviour, TRUE);
  g_setenv ("BANGER_FAKE_QEMU_LOG", d->log, TRUE);
  c = make_config (run_dir);
  /* no NIC: the direct launcher attaches to the NIC's tap, which needs a
   * real one (the e2e test has it) */
  g_ptr_array_set_size (c->nics, 0);
  d->vmm = banger_vmm_qemu_new (c);
  banger_vmm_qemu_set_binary (BANGER_VMM_QEMU (d->vmm), self_exe);
  banger_vmm_qemu_set_accel (BANGER_VMM_QEMU (d->vmm), BANGER_QEMU_ACCEL_TCG);
  banger_vmm_qemu_set_launch_timeout (BANGER_VMM_QEMU (d->vmm), 5000);
  banger_vmm_set_stop_timeout (d->vmm, 1);
  ck_assert_msg (banger_vmm_prepare (d->vmm, &error), "%s", error ? error->message : "?");
  return d;
}

static char *
driver_commands (DriverFixture *d)
{
  char *s = NULL;
  if (!g_file_get_contents (d->log, &s, NULL, NULL))
    return g_strdup ("");
  return s;
}

static void
driver_free (DriverFixture *d)
{
  if (banger_vmm_get_pidfd (d->vmm) >= 0 && !banger_vmm_has_exited (d->vmm))
    {
      banger_vmm_kill (d->vmm, NULL);
      banger_vmm_wait_exit (d->vmm, NULL, NULL, NULL);
    }
  g_object_unref (d->vmm);
  rm_rf (d->dir);
  g_free (d->dir);
  g_free (d->log);
  g_free (d);
}

START_TEST (test_driver_lifecycle)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("normal");
  BangerVmm *vmm = d->vmm;
  BangerVmmStats stats = { 0 };
  g_autofree char *commands = NULL;
  GPid pid;

  ck_assert_msg (banger_vmm_launch (vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_LAUNCHED);
  ck_assert_str_eq (banger_vmm_qemu_get_accel_used (BANGER_VMM_QEMU (vmm)), "tcg");
  pid = banger_vmm_get_pid (vmm);
  ck_assert_int_gt (pid, 0);

  /* pause before start is refused with BUSY, not sent */
  ck_assert (!banger_vmm_pause (vmm, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  ck_assert (banger_vmm_configure (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_CONFIGURED);
  ck_assert (banger_vmm_start (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (banger_vmm_pause (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_PAUSED);
  ck_assert (banger_vmm_resume (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);

  ck_assert_msg (banger_vmm_read_stats (vmm, &stats, &error), "%s", error ? error->message : "?");
  ck_assert (stats.rss_bytes > 0);
  ck_assert_uint_eq (stats.block_read_bytes, 5096); /* summed over the drives */
  ck_assert_uint_eq (stats.block_write_bytes, 536);

  /* graceful: the fake honours the power button and exits */
  ck_assert_msg (banger_vmm_stop (vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_EXITED);
  ck_assert_str_eq (banger_vmm_get_stop_method (vmm), "powerdown");
  ck_assert (kill (pid, 0) < 0 && errno == ESRCH);

  commands = driver_commands (d);
  ck_assert_str_eq (commands, "qmp_capabilities\nquery-status\ncont\nstop\nquery-status\ncont\n"
                              "query-status\nquery-blockstats\nsystem_powerdown\n");
  driver_free (d);
}
END_TEST


/* ------------------------------------------------------------ snapshots */

static void
driver_run (DriverFixture *d)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_configure (d->vmm, NULL, &error));
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));
}

/* Running: stop, the file passed by getfd, migrate to it, poll until
 * completed, cont; the file holds what the fake wrote. */
START_TEST (test_driver_snapshot_create)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("migrate-slow");
  g_autofree char *snap = g_build_filename (d->dir, "snap", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *commands = NULL;
  gsize before;

  /* not running yet: BUSY, nothing sent */
  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "%s", error ? error->message : "?");
  ck_assert (!banger_vmm_snapshot_create (d->vmm, snap, snap, FALSE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (banger_vmm_configure (d->vmm, NULL, &error));
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));

  ck_assert_msg (banger_vmm_snapshot_create (d->vmm, snap, snap, FALSE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (g_file_get_contents (snap, &contents, NULL, NULL));
  ck_assert_str_eq (contents, "QEVM-fake-state\nstate=paused\n");
  commands = driver_commands (d);
  ck_assert_str_eq (commands, "qmp_capabilities\nquery-status\ncont\nstop\ngetfd\nmigrate\n"
                              "query-migrate\nquery-migrate\nquery-migrate\nquery-migrate\n"
                              "cont\n");
  before = strlen (commands);
  g_clear_pointer (&commands, g_free);

  /* paused: no stop, no cont, it stays paused */
  ck_assert (banger_vmm_pause (d->vmm, NULL, &error));
  ck_assert_msg (banger_vmm_snapshot_create (d->vmm, snap, snap, FALSE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_PAUSED);
  commands = driver_commands (d);
  ck_assert_str_eq (commands + before, "stop\ngetfd\nmigrate\nquery-migrate\nquery-migrate\n"
                              "query-migrate\nquery-migrate\n");
  driver_free (d);
}
END_TEST

START_TEST (test_driver_snapshot_create_refusals)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("migrate-fails");
  g_autofree char *snap = g_build_filename (d->dir, "snap", NULL);
  g_autofree char *nodir = g_build_filename (d->dir, "no", "such", "snap", NULL);
  g_autofree char *commands = NULL;

  driver_run (d);
  /* no diff snapshots in QEMU */
  ck_assert (!banger_vmm_snapshot_create (d->vmm, snap, snap, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  /* a file that cannot be made: the errno's code, nothing sent */
  ck_assert (!banger_vmm_snapshot_create (d->vmm, nodir, nodir, FALSE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_RUNNING);
  /* QEMU's migration fails: VMM with its error-desc */
  ck_assert (!banger_vmm_snapshot_create (d->vmm, snap, snap, FALSE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_msg (strstr (error->message, "No space left on device") != NULL, "%s",
                 error->message);
  /* the VM was running: it runs again; no partial file is left */
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (!g_file_test (snap, G_FILE_TEST_EXISTS));
  commands = driver_commands (d);
  ck_assert_str_eq (commands, "qmp_capabilities\nquery-status\ncont\nstop\ngetfd\nmigrate\n"
                              "query-migrate\ncont\n");
  g_clear_error (&error);
  driver_free (d);

  /* cancelled while the migration runs: migrate_cancel, CANCELLED, resumed */
  d = driver_new ("migrate-slow");
  g_free (snap);
  snap = g_build_filename (d->dir, "snap", NULL);
  driver_run (d);
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_cancellable_cancel (cancel);
    ck_assert (!banger_vmm_snapshot_create (d->vmm, snap, snap, FALSE, cancel, &error));
  }
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_RUNNING);
  ck_assert (!g_file_test (snap, G_FILE_TEST_EXISTS));
  g_free (commands);
  commands = driver_commands (d);
  ck_assert_str_eq (commands, "qmp_capabilities\nquery-status\ncont\nstop\ngetfd\nmigrate\n"
                              "query-migrate\nmigrate_cancel\nquery-migrate\ncont\n");
  driver_free (d);
}
END_TEST

/* A snapshot from one fake QEMU loaded into another launched with
 * -incoming defer: getfd, migrate-incoming, poll, cont when asked. */
START_TEST (test_driver_snapshot_load)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *src = driver_new ("normal");
  DriverFixture *d;
  g_autofree char *snap = g_build_filename (src->dir, "snap", NULL);
  g_autofree char *garbage = g_build_filename (src->dir, "garbage", NULL);
  g_autofree char *missing = g_build_filename (src->dir, "missing", NULL);
  g_autofree char *commands = NULL;
  const char *const *argv;

  driver_run (src);
  ck_assert_msg (banger_vmm_snapshot_create (src->vmm, snap, snap, FALSE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert (g_file_set_contents (garbage, "not a migration stream", -1, NULL));

  /* launched without set_incoming: refused before anything is sent */
  d = driver_new ("normal");
  ck_assert (banger_vmm_launch (d->vmm, NULL, &error));
  ck_assert (argv_index (banger_vmm_qemu_get_argv (BANGER_VMM_QEMU (d->vmm)), "-incoming") < 0);
  ck_assert (!banger_vmm_snapshot_load (d->vmm, snap, snap, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  driver_free (d);

  /* resume: RUNNING */
  d = driver_new ("migrate-slow");
  banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (d->vmm), TRUE);
  ck_assert (banger_vmm_launch (d->vmm, NULL, &error));
  argv = banger_vmm_qemu_get_argv (BANGER_VMM_QEMU (d->vmm));
  ck_assert_str_eq (argv_value (argv, "-incoming", 0), "defer");
  /* a missing file: NOT_FOUND, nothing sent */
  ck_assert (!banger_vmm_snapshot_load (d->vmm, missing, missing, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert_msg (banger_vmm_snapshot_load (d->vmm, snap, snap, TRUE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_RUNNING);
  commands = driver_commands (d);
  ck_assert_str_eq (commands, "qmp_capabilities\nquery-status\ngetfd\nmigrate-incoming\n"
                              "query-migrate\nquery-migrate\nquery-migrate\nquery-migrate\n"
                              "cont\n");
  g_clear_pointer (&commands, g_free);
  /* loaded once: not again */
  ck_assert (!banger_vmm_snapshot_load (d->vmm, snap, snap, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  driver_free (d);

  /* no resume: PAUSED */
  d = driver_new ("normal");
  banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (d->vmm), TRUE);
  ck_assert (banger_vmm_launch (d->vmm, NULL, &error));
  ck_assert_msg (banger_vmm_snapshot_load (d->vmm, snap, snap, FALSE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_PAUSED);
  driver_free (d);

  /* not a snapshot: QEMU exits, the error carries its last words */
  d = driver_new ("normal");
  banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (d->vmm), TRUE);
  ck_assert (banger_vmm_launch (d->vmm, NULL, &error));
  ck_assert (!banger_vmm_snapshot_load (d->vmm, garbage, garbage, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_msg (strstr (error->message, "load of migration failed") != NULL, "%s",
                 error->message);
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_EXITED);
  driver_free (d);
  driver_free (src);
}
END_TEST


START_TEST (test_driver_stop_escalates)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("ignore-powerdown");
  g_autofree char *commands = NULL;
  gint64 t0;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));
  t0 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_stop (d->vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  /* waited the 1 s stop timeout, then TERM did it */
  ck_assert (g_get_monotonic_time () - t0 >= G_USEC_PER_SEC);
  ck_assert_str_eq (banger_vmm_get_stop_method (d->vmm), "term");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_EXITED);
  ck_assert (banger_vmm_wait_exit (d->vmm, NULL, NULL, &error));
  commands = driver_commands (d);
  ck_assert (g_str_has_suffix (commands, "cont\nsystem_powerdown\n"));
  driver_free (d);
}
END_TEST

START_TEST (test_driver_stop_unstarted_quits)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("normal");
  g_autofree char *commands = NULL;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_stop (d->vmm, NULL, &error));
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_EXITED);
  ck_assert_str_eq (banger_vmm_get_stop_method (d->vmm), "quit");
  commands = driver_commands (d);
  ck_assert (g_str_has_suffix (commands, "query-status\nquit\n"));
  driver_free (d);
}
END_TEST

/* The last rung: power button and TERM both ignored, KILL ends it after
 * two stop timeouts. */
START_TEST (test_driver_stop_kills)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("ignore-powerdown-and-term");
  GPid pid;
  gint64 t0, took;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));
  pid = banger_vmm_get_pid (d->vmm);
  t0 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_stop (d->vmm, NULL, &error), "%s", error ? error->message : "?");
  took = g_get_monotonic_time () - t0;
  ck_assert_str_eq (banger_vmm_get_stop_method (d->vmm), "kill");
  ck_assert_int_ge (took, 2 * G_USEC_PER_SEC);                      /* both waits ran out */
  ck_assert_int_lt (took, 2 * G_USEC_PER_SEC + 3 * G_USEC_PER_SEC); /* then KILL at once */
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_EXITED);
  ck_assert (kill (pid, 0) < 0 && errno == ESRCH);
  driver_free (d);
}
END_TEST

/* A polite request QEMU refuses does not cost the whole stop timeout: the
 * ladder looks for an exit for BANGER_VMM_POLITE_FAILED_GRACE_MS, then TERM. */
START_TEST (test_driver_stop_polite_refused)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("refuse-powerdown");
  gint64 t0, took;

  banger_vmm_set_stop_timeout (d->vmm, 3);
  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));
  t0 = g_get_monotonic_time ();
  ck_assert_msg (banger_vmm_stop (d->vmm, NULL, &error), "%s", error ? error->message : "?");
  took = g_get_monotonic_time () - t0;
  ck_assert_str_eq (banger_vmm_get_stop_method (d->vmm), "term");
  ck_assert_int_ge (took, BANGER_VMM_POLITE_FAILED_GRACE_MS * 1000);
  ck_assert_int_lt (took, 3 * G_USEC_PER_SEC);
  driver_free (d);
}
END_TEST

/* QMP events are handled as they come: a STOP QEMU reports by itself moves
 * the state to PAUSED without anyone asking. */
START_TEST (test_driver_follows_events)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  DriverFixture *d = driver_new ("stop-after-cont");
  GAsyncResult *res = NULL;
  gint64 deadline;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_configure (d->vmm, NULL, &error));
  g_main_context_push_thread_default (ctx);
  banger_vmm_start_async (d->vmm, NULL, got_async_result, &res);
  while (res == NULL)
    g_main_context_iteration (ctx, TRUE);
  ck_assert_msg (banger_vmm_start_finish (d->vmm, res, &error), "%s", error ? error->message : "?");
  g_clear_object (&res);
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (banger_vmm_get_state (d->vmm) != BANGER_VMM_STATE_PAUSED
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (ctx, FALSE) || (g_usleep (1000), TRUE);
  g_main_context_pop_thread_default (ctx);
  ck_assert_str_eq (banger_vmm_state_to_string (banger_vmm_get_state (d->vmm)), "paused");
  driver_free (d);
}
END_TEST

/* wait_exit takes cancellation: a process that does not exit does not hold
 * the caller forever. */
START_TEST (test_driver_wait_exit_cancelled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  DriverFixture *d = driver_new ("normal");
  int status = -1;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  g_cancellable_cancel (cancellable);
  ck_assert (!banger_vmm_wait_exit (d->vmm, cancellable, &status, &error));
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  ck_assert_int_eq (status, -1); /* untouched on failure */
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_LAUNCHED);
  g_clear_error (&error);
  /* and once it has exited, the wait says so */
  ck_assert (banger_vmm_kill (d->vmm, &error));
  ck_assert (banger_vmm_wait_exit (d->vmm, NULL, NULL, &error));
  driver_free (d);
}
END_TEST

START_TEST (test_driver_kill)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("ignore-powerdown");
  g_autofree char *qmp = NULL;
  GPid pid;

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (banger_vmm_start (d->vmm, NULL, &error));
  pid = banger_vmm_get_pid (d->vmm);
  qmp = g_strdup (banger_vmm_get_api_socket (d->vmm));
  ck_assert (g_file_test (qmp, G_FILE_TEST_EXISTS));
  ck_assert_msg (banger_vmm_kill (d->vmm, &error), "%s", error ? error->message : "?");
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_EXITED);
  ck_assert (kill (pid, 0) < 0 && errno == ESRCH);
  ck_assert (!g_file_test (qmp, G_FILE_TEST_EXISTS));
  /* killing again is fine; stats are not */
  ck_assert (banger_vmm_kill (d->vmm, &error));
  {
    BangerVmmStats st;
    ck_assert (!banger_vmm_read_stats (d->vmm, &st, &error));
    banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  }
  driver_free (d);
}
END_TEST

START_TEST (test_driver_refusal_carries_desc)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("refuse-cont");

  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "launch: %s",
                 error ? error->message : "?");
  ck_assert (!banger_vmm_start (d->vmm, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_msg (strstr (error->message, "longer than sixty-four characters") != NULL, "%s",
                 error->message);
  ck_assert (strstr (error->message, "'cont'") != NULL);
  /* the state did not move */
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_LAUNCHED);
  driver_free (d);
}
END_TEST

START_TEST (test_driver_dies_mid_launch)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("die-early");

  ck_assert (!banger_vmm_launch (d->vmm, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "exited with status 1") != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "Could not open '/nonexistent'") != NULL, "%s",
                 error->message);
  /* nothing is left to stop */
  ck_assert_int_eq (banger_vmm_get_pidfd (d->vmm), -1);
  ck_assert_int_eq (banger_vmm_get_state (d->vmm), BANGER_VMM_STATE_PREPARED);
  driver_free (d);
}
END_TEST

/* Dying in the middle of the QMP handshake is reported as a death, with
 * QEMU's last words, not as a protocol error. */
START_TEST (test_driver_dies_mid_handshake)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("die-after-greeting");

  ck_assert (!banger_vmm_launch (d->vmm, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "exited with status 4") != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "fake fatal error after the greeting") != NULL, "%s",
                 error->message);
  ck_assert_int_eq (banger_vmm_get_pidfd (d->vmm), -1);
  driver_free (d);
}
END_TEST

START_TEST (test_driver_slow_socket_and_missing_binary)
{
  g_autoptr (GError) error = NULL;
  DriverFixture *d = driver_new ("slow-socket");

  /* the socket appears 300 ms after the process: launch waits for it */
  ck_assert_msg (banger_vmm_launch (d->vmm, NULL, &error), "%s",
                 error ? error->message : "?");
  driver_free (d);

  d = driver_new ("normal");
  banger_vmm_qemu_set_binary (BANGER_VMM_QEMU (d->vmm), "/nonexistent/qemu");
  ck_assert (!banger_vmm_launch (d->vmm, NULL, &error));
  /* execve's ENOENT, not a generic failure */
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert (strstr (error->message, "/nonexistent/qemu") != NULL);
  driver_free (d);

  /* a binary without an execute bit: execve's EACCES (even for root) */
  d = driver_new ("normal");
  {
    g_autofree char *noexec = g_build_filename (d->dir, "qemu-noexec", NULL);
    g_clear_error (&error);
    ck_assert (g_file_set_contents (noexec, "not a program", -1, NULL));
    ck_assert_int_eq (chmod (noexec, 0644), 0);
    banger_vmm_qemu_set_binary (BANGER_VMM_QEMU (d->vmm), noexec);
    ck_assert (!banger_vmm_launch (d->vmm, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    ck_assert (strstr (error->message, "qemu-noexec") != NULL);
  }
  driver_free (d);
}
END_TEST

/* ----------------------------------------------------------- launcher */

static gpointer
spawn_from_thread (gpointer data)
{
  const char *dir = data;
  g_autoptr (BangerVmmConfig) c = make_config (dir);
  g_autofree char *log = g_build_filename (dir, "out", NULL);
  g_autofree char *qmp = g_build_filename (dir, "qmp.sock", NULL);
  g_autofree char *console = g_build_filename (dir, "console.log", NULL);
  BangerVmmLauncher *l = banger_vmm_launcher_direct ();
  BangerVmmLaunchRequest r = { 0 };
  BangerVmmLaunched out = { 0, -1, NULL, NULL, NULL };
  int status;

  g_ptr_array_set_size (c->nics, 0);
  r.config = c;
  r.driver = "qemu";
  r.binary = self_exe;
  r.log_path = log;
  r.accel = "tcg";
  r.qmp_socket = qmp;
  r.console_log = console;
  if (!l->spawn (l, &r, &out, NULL))
    return GINT_TO_POINTER (FALSE);
  waitpid (out.pid, &status, 0);
  banger_vmm_launched_clear (&out);
  return GINT_TO_POINTER (TRUE);
}

START_TEST (test_launcher_clean_signal_mask)
{
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *log = g_build_filename (dir, "out", NULL);
  g_autofree char *out = NULL;
  GThread *t;

  g_setenv ("BANGER_FAKE_QEMU", "sigblk", TRUE);
  t = g_thread_new ("spawner", spawn_from_thread, dir);

  ck_assert (GPOINTER_TO_INT (g_thread_join (t)));
  ck_assert (g_file_get_contents (log, &out, NULL, NULL));
  ck_assert_msg (strstr (out, "0000000000000000") != NULL, "child mask: %s", out);
  rm_rf (dir);
}
END_TEST

/* The request becomes priv.launch_vmm's structured params, never argv. */
START_TEST (test_helper_launch_params)
{
  g_autoptr (BangerVmmConfig) c = make_config ("/run/q");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) p = NULL;
  g_autofree char *mac = banger_vmm_mac_for_vm ("qemu-test", 0);
  BangerVmmLaunchRequest r = { 0 };

  r.config = c;
  r.driver = "qemu";
  r.binary = "/usr/bin/qemu-system-x86_64";
  r.accel = "tcg";
  p = banger_vmm_helper_launch_params (&r, &error);
  g_assert_no_error (error);
  ck_assert_uint_eq (json_object_get_size (p), 14);
  ck_assert_str_eq (json_object_get_string_member (p, "vm_id"), "qemu-test");
  ck_assert_str_eq (json_object_get_string_member (p, "vmm"), "qemu");
  ck_assert_str_eq (json_object_get_string_member (p, "kernel"), "/boot/vmlinuz-test");
  ck_assert_str_eq (json_object_get_string_member (p, "initrd"), "/boot/initrd-test");
  ck_assert_str_eq (json_object_get_string_member (p, "rootfs"), "/var/lib/root.ext4");
  ck_assert (!json_object_get_boolean_member (p, "rootfs_read_only"));
  ck_assert_str_eq (json_object_get_string_member (p, "work_disk"), "/var/lib/x,y/work.ext4");
  ck_assert (json_object_get_boolean_member (p, "work_disk_read_only"));
  ck_assert (json_object_get_boolean_member (p, "tap"));
  ck_assert_str_eq (json_object_get_string_member (p, "mac"), mac);
  ck_assert_str_eq (json_object_get_string_member (p, "accel"), "tcg");
  ck_assert_int_eq (json_object_get_int_member (p, "mem_mib"), 192);
  ck_assert_int_eq (json_object_get_int_member (p, "vcpus"), 2);
  ck_assert (strstr (json_object_get_string_member (p, "boot_args"),
                     "ip=172.30.0.2::172.30.0.1:255.255.255.252:qemu-test:eth0:off")
             != NULL);
  ck_assert (!json_object_has_member (p, "incoming"));
  g_clear_pointer (&p, json_object_unref);
  /* a restore asks bangerd-root for -incoming defer */
  r.incoming = TRUE;
  p = banger_vmm_helper_launch_params (&r, &error);
  g_assert_no_error (error);
  ck_assert_uint_eq (json_object_get_size (p), 15);
  ck_assert (json_object_get_boolean_member (p, "incoming"));
  g_clear_pointer (&p, json_object_unref);
  r.incoming = FALSE;

  /* what the helper cannot take: each refused as UNSUPPORTED */
  banger_vmm_config_add_nic (c, "eth1", "bngtap8", NULL);
  ck_assert_ptr_null (banger_vmm_helper_launch_params (&r, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_ptr_array_set_size (c->nics, 1);
  banger_vmm_config_add_drive (c, "extra", "/var/lib/extra.ext4", FALSE, FALSE);
  ck_assert_ptr_null (banger_vmm_helper_launch_params (&r, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_ptr_array_set_size (c->drives, 1); /* only the (non-root) work disk */
  ck_assert_ptr_null (banger_vmm_helper_launch_params (&r, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* Firecracker: the VM id and the files the helper's jailer bind-mounts
   * into the jail (kernel, initrd, the work disk, read-only here); the
   * jailer itself is the helper's */
  r.driver = "firecracker";
  g_clear_pointer (&p, json_object_unref);
  p = banger_vmm_helper_launch_params (&r, &error);
  g_assert_no_error (error);
  ck_assert_uint_eq (json_object_get_size (p), 6);
  ck_assert_str_eq (json_object_get_string_member (p, "vm_id"), "qemu-test");
  ck_assert_str_eq (json_object_get_string_member (p, "vmm"), "firecracker");
  ck_assert_str_eq (json_object_get_string_member (p, "jail_kernel"), "/boot/vmlinuz-test");
  ck_assert_str_eq (json_object_get_string_member (p, "jail_initrd"), "/boot/initrd-test");
  ck_assert_str_eq (json_object_get_string_member (p, "jail_disk_work"), "/var/lib/x,y/work.ext4");
  ck_assert (!json_object_get_boolean_member (p, "jail_disk_work_rw"));
  {
    g_autoptr (BangerFcJailerConfig) j = banger_fc_jailer_config_new ("/usr/bin/jailer", NULL, 1,
                                                                      1);
    r.jailer = j;
    ck_assert_ptr_null (banger_vmm_helper_launch_params (&r, &error));
    banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  }
}
END_TEST

/* pid + start time name one process: the helper launcher's pidfd check. */
START_TEST (test_pidfd_open_verified)
{
  g_autoptr (GError) error = NULL;
  guint64 start = 0;
  pid_t child = fork ();
  int pidfd;

  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  ck_assert_int_gt (child, 0);
  ck_assert (banger_proc_start_time (child, &start, &error));
  ck_assert_uint_gt (start, 0);
  pidfd = banger_pidfd_open_verified (child, start, &error);
  g_assert_no_error (error);
  ck_assert_int_ge (pidfd, 0);
  close (pidfd);
  /* another start time: not the launched process */
  ck_assert_int_eq (banger_pidfd_open_verified (child, start + 1, &error), -1);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  /* gone */
  ck_assert_int_eq (banger_pidfd_open_verified (child, start, &error), -1);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_proc_start_time (child, &start, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

static Suite *
vmm_qemu_suite (void)
{
  Suite *s = suite_create ("vmm-qemu");
  TCase *tc = tcase_create ("argv");

  tcase_add_test (tc, test_opt_escape);
  tcase_add_test (tc, test_build_argv);
  tcase_add_test (tc, test_build_argv_kvm_and_bad_accel);
  suite_add_tcase (s, tc);

  tc = tcase_create ("qmp");
  tcase_add_test (tc, test_qmp_handshake_and_commands);
  tcase_add_test (tc, test_qmp_queue_and_events);
  tcase_add_test (tc, test_qmp_follows_context);
  tcase_add_test (tc, test_qmp_error_desc);
  tcase_add_test (tc, test_qmp_protocol_errors);
  suite_add_tcase (s, tc);

  tc = tcase_create ("driver");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_driver_lifecycle);
  tcase_add_test (tc, test_driver_snapshot_create);
  tcase_add_test (tc, test_driver_snapshot_create_refusals);
  tcase_add_test (tc, test_driver_snapshot_load);
  tcase_add_test (tc, test_driver_stop_escalates);
  tcase_add_test (tc, test_driver_stop_unstarted_quits);
  tcase_add_test (tc, test_driver_stop_kills);
  tcase_add_test (tc, test_driver_stop_polite_refused);
  tcase_add_test (tc, test_driver_follows_events);
  tcase_add_test (tc, test_driver_wait_exit_cancelled);
  tcase_add_test (tc, test_driver_kill);
  tcase_add_test (tc, test_driver_refusal_carries_desc);
  tcase_add_test (tc, test_driver_dies_mid_launch);
  tcase_add_test (tc, test_driver_dies_mid_handshake);
  tcase_add_test (tc, test_driver_slow_socket_and_missing_binary);
  tcase_add_test (tc, test_launcher_clean_signal_mask);
  tcase_add_test (tc, test_helper_launch_params);
  tcase_add_test (tc, test_pidfd_open_verified);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  SRunner *sr;
  int failed;

  /* Run as QEMU by the driver under test? */
  if (argc > 2 && strcmp (argv[1], "-M") == 0)
    return fake_qemu_main (argc, argv);

  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  sr = srunner_create (vmm_qemu_suite ());
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  g_free (self_exe);
  return failed == 0 ? 0 : 1;
}
