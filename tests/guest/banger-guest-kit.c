/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test guest kit (see banger-guest-kit.h).  Commands are spawned with
 * argv arrays; nothing goes through a shell. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-guest-kit.h"
#include "banger-vmm-qemu.h"

#ifndef BANGER_GUEST_SRCDIR
#error "BANGER_GUEST_SRCDIR must point at tests/guest"
#endif

#define KIT_TAP "bngtest0"
#define KIT_HOST_IP "172.30.0.1"
#define KIT_GUEST_IP "172.30.0.2"
#define KIT_NETMASK "255.255.255.252"

gboolean
banger_kit_run (const char *const *argv, char **out_stdout, GError **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) local = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &local))
    {
      g_set_error (error, G_SPAWN_ERROR, local->code, "%s: %s", argv[0], local->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, &local))
    {
      g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "'%s' failed (%s): %s", cmd,
                   local->message, g_strstrip (err));
      return FALSE;
    }
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  return TRUE;
}

char *
banger_kit_build_guest (GError **error)
{
  g_autofree char *script = g_build_filename (BANGER_GUEST_SRCDIR, "build-guest.sh", NULL);
  g_autofree char *cache = NULL;
  g_autofree char *out = NULL;
  const char *env = g_getenv ("BANGER_GUEST_CACHE");

  cache = env && env[0] ? g_strdup (env) : g_build_filename (BANGER_GUEST_SRCDIR, "cache", NULL);
  {
    const char *argv[] = { script, cache, NULL };
    if (!banger_kit_run (argv, &out, error))
      return NULL;
  }
  g_strstrip (out);
  if (strchr (out, '\n') != NULL || !g_path_is_absolute (out))
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "build-guest.sh printed '%s', not a directory", out);
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* --------------------------------------------------------------- netns */

static gboolean
netns_spawn (BangerVmmLauncher *launcher, const char *vm_id, const char *const *argv,
             const char *log_path, GPid *out_pid, int *out_pidfd, GError **error)
{
  BangerKitNetns *ns = launcher->user_data;
  BangerVmmLauncher *direct = banger_vmm_launcher_direct ();
  g_autoptr (GPtrArray) wrapped = g_ptr_array_new ();

  /* `ip netns exec` enters the namespace and execs: the pid is the VMM's */
  g_ptr_array_add (wrapped, ns->ip_path);
  g_ptr_array_add (wrapped, (char *) "netns");
  g_ptr_array_add (wrapped, (char *) "exec");
  g_ptr_array_add (wrapped, ns->name);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (wrapped, (char *) argv[i]);
  g_ptr_array_add (wrapped, NULL);
  return direct->spawn (direct, vm_id, (const char *const *) wrapped->pdata, log_path, out_pid,
                        out_pidfd, error);
}

gboolean
banger_kit_netns_exists (const char *name)
{
  g_autofree char *path = g_build_filename ("/run/netns", name, NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
netns_free (BangerKitNetns *ns)
{
  g_free (ns->name);
  g_free (ns->tap);
  g_free (ns->host_cidr);
  g_free (ns->host_ip);
  g_free (ns->guest_ip);
  g_free (ns->netmask);
  g_free (ns->ip_path);
  g_free (ns);
}

BangerKitNetns *
banger_kit_netns_new (const char *prefix, GError **error)
{
  BangerKitNetns *ns = g_new0 (BangerKitNetns, 1);

  ns->name = g_strdup_printf ("%s-%d", prefix, (int) getpid ());
  ns->tap = g_strdup (KIT_TAP);
  ns->host_ip = g_strdup (KIT_HOST_IP);
  ns->host_cidr = g_strdup (KIT_HOST_IP "/30");
  ns->guest_ip = g_strdup (KIT_GUEST_IP);
  ns->netmask = g_strdup (KIT_NETMASK);
  ns->ip_path = g_find_program_in_path ("ip");
  ns->launcher.spawn = netns_spawn;
  ns->launcher.user_data = ns;
  if (ns->ip_path == NULL)
    {
      g_set_error_literal (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                           "'ip' (iproute2) is not installed");
      netns_free (ns);
      return NULL;
    }

  {
    const char *add[] = { "ip", "netns", "add", ns->name, NULL };
    const char *lo[] = { "ip", "-n", ns->name, "link", "set", "lo", "up", NULL };
    const char *tap[] = { "ip", "-n", ns->name, "tuntap", "add", "dev", ns->tap, "mode", "tap", NULL };
    const char *addr[] = { "ip", "-n", ns->name, "addr", "add", ns->host_cidr, "dev", ns->tap, NULL };
    const char *up[] = { "ip", "-n", ns->name, "link", "set", ns->tap, "up", NULL };
    /* the guest's MAC is known (derived from the VM id): no ARP round on
     * the host side, whose 1 s retransmit would blur the timings */
    g_autofree char *mac = banger_vmm_mac_for_vm (BANGER_KIT_VM_ID, 0);
    const char *neigh[] = { "ip", "-n", ns->name, "neigh", "replace", ns->guest_ip, "lladdr", mac,
                            "dev", ns->tap, "nud", "permanent", NULL };

    if (!banger_kit_run (add, NULL, error))
      {
        netns_free (ns);
        return NULL;
      }
    if (!banger_kit_run (lo, NULL, error) || !banger_kit_run (tap, NULL, error)
        || !banger_kit_run (addr, NULL, error) || !banger_kit_run (up, NULL, error)
        || !banger_kit_run (neigh, NULL, error))
      {
        banger_kit_netns_destroy (ns, NULL);
        return NULL;
      }
  }
  return ns;
}

gboolean
banger_kit_netns_destroy (BangerKitNetns *ns, GError **error)
{
  const char *del[] = { "ip", "netns", "del", ns->name, NULL };
  gboolean ok = banger_kit_run (del, NULL, error);

  netns_free (ns);
  return ok;
}

/* ----------------------------------------------------------------- disks */

gboolean
banger_kit_make_ssh_key (const char *path, GError **error)
{
  const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "banger-test",
                         "-f", path, NULL };
  return banger_kit_run (argv, NULL, error);
}

gboolean
banger_kit_inject_key (const char *image, const char *pubkey_path, GError **error)
{
  g_autofree char *cmds_path = g_strconcat (image, ".debugfs", NULL);
  g_autofree char *cmds = NULL;
  g_autofree char *out = NULL;
  gboolean ok;

  if (strpbrk (pubkey_path, "\" \n") != NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "unusable key path '%s'", pubkey_path);
      return FALSE;
    }
  /* the image ships an empty authorized_keys: replace it */
  cmds = g_strdup_printf ("rm /root/.ssh/authorized_keys\n"
                          "write %s /root/.ssh/authorized_keys\n"
                          "set_inode_field /root/.ssh/authorized_keys mode 0100600\n",
                          pubkey_path);
  if (!g_file_set_contents (cmds_path, cmds, -1, error))
    return FALSE;
  {
    const char *argv[] = { "debugfs", "-w", "-f", cmds_path, image, NULL };
    ok = banger_kit_run (argv, &out, error);
  }
  g_unlink (cmds_path);
  return ok;
}

gboolean
banger_kit_make_disk (const char *image, guint size_mib, const char *name, const char *contents,
                      GError **error)
{
  g_autofree char *tree = g_strconcat (image, ".tree", NULL);
  g_autofree char *file = g_build_filename (tree, name, NULL);
  g_autofree char *size = g_strdup_printf ("%uM", size_mib);
  gboolean ok;

  if (g_mkdir_with_parents (tree, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "mkdir %s: %s", tree,
                   g_strerror (errno));
      return FALSE;
    }
  if (!g_file_set_contents (file, contents, -1, error))
    return FALSE;
  {
    const char *argv[] = { "mkfs.ext4", "-q", "-F", "-L", "work", "-d", tree, image, size, NULL };
    ok = banger_kit_run (argv, NULL, error);
  }
  g_unlink (file);
  g_rmdir (tree);
  return ok;
}

/* ------------------------------------------------------------------- ssh */

gboolean
banger_kit_ssh (BangerKitNetns *ns, const char *key, const char *command, guint connect_timeout_s,
                char **out, GError **error)
{
  g_autofree char *timeout = g_strdup_printf ("ConnectTimeout=%u", connect_timeout_s);
  g_autofree char *dest = g_strdup_printf ("root@%s", ns->guest_ip);
  const char *argv[] = { "ip", "netns", "exec", ns->name,
                         "ssh", "-i", key, "-o", "BatchMode=yes",
                         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "-o", "LogLevel=ERROR", "-o", timeout, "-o", "ConnectionAttempts=1",
                         dest, command, NULL };
  return banger_kit_run (argv, out, error);
}

/* The SSH banner, probed from a thread that joins the namespace (setns on a
 * thread only moves that thread): a non-blocking connect every 20 ms with
 * a 200 ms bound, then up to 1 s for "SSH-".  Much finer than an ssh
 * process per try, whose ConnectTimeout is whole seconds. */
typedef struct
{
  const char *netns;
  const char *ip;
  gint64 deadline;
  char *last_error;
} BannerProbe;

static gboolean
banner_once (const struct sockaddr_in *addr, char **why)
{
  struct pollfd pfd;
  char buf[8] = { 0 };
  int err = 0;
  socklen_t len = sizeof err;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  gboolean ok = FALSE;

  if (fd < 0)
    return FALSE;
  if (connect (fd, (const struct sockaddr *) addr, sizeof *addr) < 0 && errno != EINPROGRESS)
    goto out;
  pfd = (struct pollfd) { fd, POLLOUT, 0 };
  if (poll (&pfd, 1, 200) != 1)
    goto out;
  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
    {
      errno = err;
      goto out;
    }
  pfd = (struct pollfd) { fd, POLLIN, 0 };
  if (poll (&pfd, 1, 1000) == 1 && read (fd, buf, 4) == 4 && memcmp (buf, "SSH-", 4) == 0)
    ok = TRUE;
out:
  if (!ok)
    {
      g_free (*why);
      *why = g_strdup (errno ? g_strerror (errno) : "no banner");
    }
  close (fd);
  return ok;
}

static gpointer
banner_thread (gpointer data)
{
  BannerProbe *p = data;
  g_autofree char *path = g_build_filename ("/run/netns", p->netns, NULL);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (22) };
  int nsfd = open (path, O_RDONLY | O_CLOEXEC);

  if (nsfd < 0 || setns (nsfd, CLONE_NEWNET) < 0 || inet_pton (AF_INET, p->ip, &addr.sin_addr) != 1)
    {
      p->last_error = g_strdup_printf ("cannot enter %s: %s", path, g_strerror (errno));
      if (nsfd >= 0)
        close (nsfd);
      return GINT_TO_POINTER (FALSE);
    }
  close (nsfd);
  while (g_get_monotonic_time () < p->deadline)
    {
      errno = 0;
      if (banner_once (&addr, &p->last_error))
        return GINT_TO_POINTER (TRUE);
      g_usleep (20 * 1000);
    }
  return GINT_TO_POINTER (FALSE);
}

gboolean
banger_kit_wait_ssh (BangerKitNetns *ns, const char *key, guint timeout_ms, gint64 *out_banner_us,
                     GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  BannerProbe probe = { ns->name, ns->guest_ip, deadline, NULL };
  GThread *thread = g_thread_new ("ssh-banner", banner_thread, &probe);
  gboolean banner = GPOINTER_TO_INT (g_thread_join (thread));
  g_autofree char *why = probe.last_error;

  if (!banner)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "no SSH banner from %s:22 within %u ms (last: %s)", ns->guest_ip, timeout_ms,
                   why ? why : "?");
      return FALSE;
    }
  if (out_banner_us != NULL)
    *out_banner_us = g_get_monotonic_time ();
  /* the banner is there: now a real login, retried briefly */
  for (;;)
    {
      g_autoptr (GError) local = NULL;

      if (banger_kit_ssh (ns, key, "true", 2, NULL, &local))
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "no SSH login to %s within %u ms (last: %s)", ns->guest_ip, timeout_ms,
                       local->message);
          return FALSE;
        }
      g_usleep (50 * 1000);
    }
}

/* ------------------------------------------------------------------- VM */

void
banger_kit_vm_free (BangerKitVm *vm)
{
  if (vm == NULL)
    return;
  if (vm->vmm != NULL && !banger_vmm_has_exited (vm->vmm) && banger_vmm_get_pidfd (vm->vmm) >= 0)
    {
      banger_vmm_kill (vm->vmm, NULL);
      banger_vmm_wait_exit (vm->vmm, NULL, NULL, NULL);
    }
  g_clear_object (&vm->vmm);
  if (vm->dir != NULL)
    {
      const char *argv[] = { "rm", "-rf", "--one-file-system", vm->dir, NULL };
      banger_kit_run (argv, NULL, NULL);
    }
  g_free (vm->dir);
  g_free (vm->key);
  g_free (vm);
}

BangerKitVm *
banger_kit_vm_boot (const char *guest_dir, BangerKitNetns *ns, const char *work_disk,
                    GError **error)
{
  BangerKitVm *vm = g_new0 (BangerKitVm, 1);
  g_autofree char *run_dir = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *src_rootfs = g_build_filename (guest_dir, "rootfs.ext4", NULL);
  g_autofree char *pub = NULL;
  BangerVmmConfig *config;
  gint64 t0;
  gint64 banner_us = 0;

  vm->dir = g_dir_make_tmp ("banger-vm-XXXXXX", error);
  if (vm->dir == NULL)
    goto fail;
  run_dir = g_build_filename (vm->dir, "run", NULL);
  rootfs = g_build_filename (vm->dir, "rootfs.ext4", NULL);
  vm->key = g_build_filename (vm->dir, "id_ed25519", NULL);
  pub = g_strconcat (vm->key, ".pub", NULL);
  {
    const char *cp[] = { "cp", "--sparse=always", src_rootfs, rootfs, NULL };
    if (!banger_kit_run (cp, NULL, error))
      goto fail;
  }
  if (!banger_kit_make_ssh_key (vm->key, error) || !banger_kit_inject_key (rootfs, pub, error))
    goto fail;

  config = banger_vmm_config_new (BANGER_KIT_VM_ID, run_dir);
  config->kernel_path = g_build_filename (guest_dir, "vmlinuz", NULL);
  config->initrd_path = g_build_filename (guest_dir, "initrd.img", NULL);
  config->mem_mib = 256;
  config->vcpus = 1;
  config->guest_ip = g_strdup (ns->guest_ip);
  config->gateway_ip = g_strdup (ns->host_ip);
  config->netmask = g_strdup (ns->netmask);
  config->hostname = g_strdup ("banger-test");
  banger_vmm_config_add_drive (config, "rootfs", rootfs, TRUE, FALSE);
  if (work_disk != NULL)
    banger_vmm_config_add_drive (config, "work", work_disk, FALSE, FALSE);
  banger_vmm_config_add_nic (config, "eth0", ns->tap, NULL);
  vm->vmm = banger_vmm_qemu_new (config);
  banger_vmm_set_launcher (vm->vmm, &ns->launcher);
  banger_vmm_set_stop_timeout (vm->vmm, 15);

  if (!banger_vmm_prepare (vm->vmm, error))
    goto fail;
  t0 = g_get_monotonic_time ();
  if (!banger_vmm_launch (vm->vmm, NULL, error)
      || !banger_vmm_configure (vm->vmm, NULL, error)
      || !banger_vmm_start (vm->vmm, NULL, error))
    goto fail;
  vm->launch_to_running_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  if (!banger_kit_wait_ssh (ns, vm->key, 180 * 1000, &banner_us, error))
    {
      g_autofree char *console = NULL;
      if (g_file_get_contents (banger_vmm_qemu_get_console_log (BANGER_VMM_QEMU (vm->vmm)),
                               &console, NULL, NULL))
        g_printerr ("# guest console:\n%s\n", console);
      goto fail;
    }
  vm->launch_to_ssh_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  vm->launch_to_banner_s = (double) (banner_us - t0) / G_USEC_PER_SEC;
  return vm;

fail:
  banger_kit_vm_free (vm);
  return NULL;
}

gboolean
banger_kit_vm_stop (BangerKitVm *vm, GError **error)
{
  return banger_vmm_stop (vm->vmm, NULL, error);
}
