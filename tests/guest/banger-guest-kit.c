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
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-guest-kit.h"
#include "banger-host-names.h"
#include "banger-install-config.h"
#include "banger-priv-client.h"
#include "banger-vmm-helper-launcher.h"
#include "banger-vmm-qemu.h"

#ifndef BANGER_GUEST_SRCDIR
#error "BANGER_GUEST_SRCDIR must point at tests/guest"
#endif

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

#ifndef BANGER_KIT_HELPER
#error "BANGER_KIT_HELPER must name the bangerd-root this build makes"
#endif

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
  g_free (ns->vm_id);
  g_free (ns->host_cidr);
  g_free (ns->host_ip);
  g_free (ns->guest_ip);
  g_free (ns->netmask);
  g_free (ns->ip_path);
  g_free (ns->dir);
  g_free (ns->runtime_dir);
  g_free (ns->state_dir);
  g_free (ns->socket_path);
  g_free (ns->cgroup_root);
  g_clear_object (&ns->helper);
  g_clear_pointer (&ns->launcher, banger_vmm_helper_launcher_free);
  g_clear_pointer (&ns->helpers, g_ptr_array_unref);
  g_free (ns);
}

static JsonObject *
helper_call_at (const char *socket_path, const char *method, JsonObject *params, GError **error)
{
  g_autoptr (BangerPrivClient) client = banger_priv_client_new (socket_path);
  g_autoptr (JsonObject) empty = json_object_new ();

  return banger_priv_client_call_sync (client, method, params ? params : empty, "guest-kit",
                                       NULL, error);
}

static JsonObject *
helper_call (BangerKitNetns *ns, const char *method, JsonObject *params, GError **error)
{
  return helper_call_at (ns->socket_path, method, params, error);
}

/* In the helper's child, before exec: join the namespace (only the network
 * one: `ip netns exec` would also remount /sys, hiding the cgroup2 mount the
 * helper needs), and die with us. */
static void
helper_child_setup (gpointer data)
{
  int nsfd = GPOINTER_TO_INT (data);

  if (setns (nsfd, CLONE_NEWNET) < 0)
    _exit (126);
  /* a crashed test must not leave a helper behind */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Write an install config for @install_id into <dir>/install.conf and
 * start bangerd-root with it in @ns's namespace; TRUE once it answers
 * priv.status on @socket_path. */
static gboolean
spawn_helper (BangerKitNetns *ns, const char *install_id, const char *nft_table,
              const char *dir, const char *runtime_dir, const char *state_dir,
              const char *socket_path, const char *cgroup_root, GSubprocess **out,
              GError **error)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *config_path = g_build_filename (dir, "install.conf", NULL);
  g_autofree char *qemu = NULL;
  g_autofree char *ns_path = g_build_filename ("/run/netns", ns->name, NULL);
  const char *helper = g_getenv ("BANGER_TEST_HELPER");
  const char *qemu_env = g_getenv ("BANGER_QEMU");
  const char *firecracker = g_getenv ("BANGER_KIT_FIRECRACKER");
  int nsfd;

  qemu = qemu_env && qemu_env[0] ? g_strdup (qemu_env)
                                 : g_find_program_in_path ("qemu-system-x86_64");
  if (qemu == NULL)
    {
      g_set_error_literal (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                           "qemu-system-x86_64 is not installed");
      return FALSE;
    }
  config->owner_uid = BANGER_KIT_OWNER_UID;
  config->owner_gid = BANGER_KIT_OWNER_GID;
  config->install_id = g_strdup (install_id);
  if (nft_table != NULL)
    {
      g_free (config->nft_table);
      config->nft_table = g_strdup (nft_table);
    }
  g_free (config->runtime_dir);
  config->runtime_dir = g_strdup (runtime_dir);
  g_free (config->state_dir);
  config->state_dir = g_strdup (state_dir);
  config->qemu_path = g_strdup (qemu);
  /* bench/ runs Firecracker VMs (the fake) through the kit's helper */
  if (firecracker != NULL && firecracker[0])
    config->firecracker_path = g_strdup (firecracker);
  config->cgroup_root = g_strdup (cgroup_root);
  config->socket_path = g_strdup (socket_path);
  if (!banger_install_config_save (config, config_path, error))
    return FALSE;

  nsfd = open (ns_path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", ns_path,
                   g_strerror (errno));
      return FALSE;
    }
  /* the helper's taps are made in the namespace, and the VMMs it starts
   * inherit it */
  g_subprocess_launcher_set_child_setup (launcher, helper_child_setup, GINT_TO_POINTER (nsfd),
                                         NULL);
  g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  *out = g_subprocess_launcher_spawn (launcher, error,
                                      helper && helper[0] ? helper : BANGER_KIT_HELPER, "-c",
                                      config_path, NULL);
  close (nsfd);
  if (*out == NULL)
    return FALSE;
  for (int i = 0; i < 1000; i++)
    {
      g_autoptr (JsonObject) r = NULL;
      g_autoptr (GError) local = NULL;

      if (g_file_test (socket_path, G_FILE_TEST_EXISTS)
          && (r = helper_call_at (socket_path, "priv.status", NULL, &local)) != NULL)
        return TRUE;
      if (g_subprocess_get_identifier (*out) == NULL) /* it exited */
        break;
      g_usleep (10 * 1000);
    }
  g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
               "bangerd-root did not answer on %s", socket_path);
  return FALSE;
}

static gboolean
start_helper (BangerKitNetns *ns, GError **error)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, error);

  if (mount == NULL)
    return FALSE;
  ns->cgroup_root = g_strdup_printf ("%s/banger-kit-%d.slice", mount, (int) getpid ());
  if (!spawn_helper (ns, BANGER_KIT_INSTALL_ID, NULL, ns->dir, ns->runtime_dir, ns->state_dir,
                     ns->socket_path, ns->cgroup_root, &ns->helper, error))
    return FALSE;
  ns->launcher = banger_vmm_helper_launcher_new (ns->socket_path);
  return TRUE;
}

static void
kit_helper_free (gpointer data)
{
  BangerKitHelper *h = data;

  if (h->process != NULL)
    {
      g_subprocess_send_signal (h->process, SIGTERM);
      g_subprocess_wait (h->process, NULL, NULL);
      g_object_unref (h->process);
    }
  if (h->cgroup_root != NULL)
    g_rmdir (h->cgroup_root);
  g_free (h->install_id);
  g_free (h->dir);
  g_free (h->runtime_dir);
  g_free (h->state_dir);
  g_free (h->socket_path);
  g_free (h->cgroup_root);
  g_free (h->nft_table);
  g_free (h);
}

const BangerKitHelper *
banger_kit_netns_add_helper (BangerKitNetns *ns, const char *install_id, GError **error)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, error);
  BangerKitHelper *h;

  if (mount == NULL)
    return NULL;
  if (install_id == NULL || g_str_equal (install_id, BANGER_KIT_INSTALL_ID))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "a second helper needs an install id of its own, not the kit's");
      return NULL;
    }
  h = g_new0 (BangerKitHelper, 1);
  if (ns->helpers == NULL)
    ns->helpers = g_ptr_array_new_with_free_func (kit_helper_free);
  g_ptr_array_add (ns->helpers, h);
  h->install_id = g_strdup (install_id);
  h->dir = g_build_filename (ns->dir, install_id, NULL);
  h->runtime_dir = g_build_filename (h->dir, "run", NULL);
  h->state_dir = g_build_filename (h->dir, "state", NULL);
  h->socket_path = g_build_filename (h->runtime_dir, "bangerd-root.sock", NULL);
  h->cgroup_root = g_strdup_printf ("%s/banger-kit-%d-%s.slice", mount, (int) getpid (),
                                    install_id);
  /* as the kit's own: the owner (QEMU's uid) must reach its files */
  if (g_mkdir (h->dir, 0755) < 0 || g_mkdir (h->runtime_dir, 0755) < 0
      || g_mkdir (h->state_dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", h->dir,
                   g_strerror (errno));
      return NULL;
    }
  /* a table of its own: banger's table is marked as one install's, and
   * another install's NAT and priv.cleanup_vm refuse it */
  h->nft_table = g_strdup_printf ("banger_%s", install_id);
  if (!spawn_helper (ns, install_id, h->nft_table, h->dir, h->runtime_dir, h->state_dir,
                     h->socket_path, h->cgroup_root, &h->process, error))
    return NULL;
  return h;
}

BangerKitNetns *
banger_kit_netns_new (const char *prefix, GError **error)
{
  BangerKitNetns *ns = g_new0 (BangerKitNetns, 1);

  ns->name = g_strdup_printf ("%s-%d", prefix, (int) getpid ());
  ns->tap = banger_host_tap_name_for (BANGER_KIT_INSTALL_ID, BANGER_KIT_VM_ID, NULL);
  ns->vm_id = g_strdup (BANGER_KIT_VM_ID);
  ns->host_ip = g_strdup (KIT_HOST_IP);
  ns->host_cidr = g_strdup (KIT_HOST_IP "/30");
  ns->guest_ip = g_strdup (KIT_GUEST_IP);
  ns->netmask = g_strdup (KIT_NETMASK);
  ns->ip_path = g_find_program_in_path ("ip");
  if (ns->ip_path == NULL)
    {
      g_set_error_literal (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                           "'ip' (iproute2) is not installed");
      netns_free (ns);
      return NULL;
    }
  ns->dir = g_dir_make_tmp ("banger-kit-XXXXXX", error);
  if (ns->dir == NULL)
    {
      netns_free (ns);
      return NULL;
    }
  ns->runtime_dir = g_build_filename (ns->dir, "run", NULL);
  ns->state_dir = g_build_filename (ns->dir, "state", NULL);
  ns->socket_path = g_build_filename (ns->runtime_dir, "bangerd-root.sock", NULL);
  /* the owner (QEMU's uid) must reach its files: the dirs are 0755 */
  if (chmod (ns->dir, 0755) < 0 || g_mkdir (ns->runtime_dir, 0755) < 0
      || g_mkdir (ns->state_dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", ns->dir,
                   g_strerror (errno));
      banger_kit_netns_destroy (ns, NULL);
      return NULL;
    }

  {
    const char *add[] = { "ip", "netns", "add", ns->name, NULL };
    const char *lo[] = { "ip", "-n", ns->name, "link", "set", "lo", "up", NULL };
    /* the guest's MAC is known (derived from the VM id): no ARP round on
     * the host side, whose 1 s retransmit would blur the timings */
    g_autofree char *mac = banger_vmm_mac_for_vm (BANGER_KIT_VM_ID, 0);
    const char *neigh[] = { "ip", "-n", ns->name, "neigh", "replace", ns->guest_ip, "lladdr", mac,
                            "dev", ns->tap, "nud", "permanent", NULL };
    g_autoptr (JsonObject) tap_params = json_object_new ();
    g_autoptr (JsonObject) r = NULL;

    if (!banger_kit_run (add, NULL, error))
      {
        g_clear_pointer (&ns->name, g_free); /* not ours to delete */
        banger_kit_netns_destroy (ns, NULL);
        return NULL;
      }
    json_object_set_string_member (tap_params, "vm_id", BANGER_KIT_VM_ID);
    json_object_set_string_member (tap_params, "address", ns->host_cidr);
    if (!banger_kit_run (lo, NULL, error) || !start_helper (ns, error)
        || (r = helper_call (ns, "priv.create_tap", tap_params, error)) == NULL
        || !banger_kit_run (neigh, NULL, error))
      {
        banger_kit_netns_destroy (ns, NULL);
        return NULL;
      }
  }
  return ns;
}

gboolean
banger_kit_netns_new_tap (BangerKitNetns *ns, const char *vm_id, GError **error)
{
  g_autoptr (JsonObject) del = json_object_new ();
  g_autoptr (JsonObject) add = json_object_new ();
  g_autoptr (JsonObject) r1 = NULL;
  g_autoptr (JsonObject) r2 = NULL;
  g_autofree char *tap = banger_host_tap_name_for (BANGER_KIT_INSTALL_ID, vm_id, NULL);
  /* the guest keeps the MAC of its snapshot (the kit's VM id) */
  g_autofree char *mac = banger_vmm_mac_for_vm (BANGER_KIT_VM_ID, 0);
  const char *neigh[] = { "ip", "-n", ns->name, "neigh", "replace", ns->guest_ip, "lladdr", mac,
                          "dev", tap, "nud", "permanent", NULL };

  g_autofree char *show_out = NULL;
  const char *show[] = { "ip", "-n", ns->name, "-o", "link", "show", "dev", ns->tap, NULL };
  const char *ether;
  char host_mac[18] = { 0 };

  json_object_set_string_member (del, "vm_id", ns->vm_id);
  json_object_set_string_member (add, "vm_id", vm_id);
  json_object_set_string_member (add, "address", ns->host_cidr);
  /* The restored guest's ARP cache still names the old tap's MAC for the
   * host address: the new tap takes it over, or the guest would not reach
   * the host until the entry expires (a minute).  (Re-pointing the guest
   * itself is the engine's part, issue 11.) */
  if (!banger_kit_run (show, &show_out, error))
    return FALSE;
  ether = strstr (show_out, "link/ether ");
  if (ether == NULL || strlen (ether) < 11 + 17)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no MAC in: %s", show_out);
      return FALSE;
    }
  memcpy (host_mac, ether + 11, 17);
  /* everything of the old VM goes (its VMM must be gone: it is killed) */
  if ((r1 = helper_call (ns, "priv.cleanup_vm", del, error)) == NULL
      || (r2 = helper_call (ns, "priv.create_tap", add, error)) == NULL)
    return FALSE;
  {
    const char *set[] = { "ip", "-n", ns->name, "link", "set", "dev", tap, "address", host_mac,
                          NULL };
    if (!banger_kit_run (set, NULL, error) || !banger_kit_run (neigh, NULL, error))
      return FALSE;
  }
  g_free (ns->tap);
  ns->tap = g_steal_pointer (&tap);
  g_free (ns->vm_id);
  ns->vm_id = g_strdup (vm_id);
  return TRUE;
}

gboolean
banger_kit_netns_destroy (BangerKitNetns *ns, GError **error)
{
  gboolean ok = TRUE;

  /* the daemons' helpers first (stopped; their cgroup roots removed) */
  g_clear_pointer (&ns->helpers, g_ptr_array_unref);
  if (ns->helper != NULL)
    {
      g_autoptr (JsonObject) params = json_object_new ();
      g_autoptr (JsonObject) r = NULL;

      json_object_set_string_member (params, "vm_id", ns->vm_id);
      r = helper_call (ns, "priv.cleanup_vm", params, ok ? error : NULL);
      ok = r != NULL;
      g_subprocess_send_signal (ns->helper, SIGTERM);
      g_subprocess_wait (ns->helper, NULL, NULL);
    }
  if (ns->cgroup_root != NULL)
    g_rmdir (ns->cgroup_root);
  if (ns->name != NULL)
    {
      const char *del[] = { "ip", "netns", "del", ns->name, NULL };
      ok = banger_kit_run (del, NULL, ok ? error : NULL) && ok;
    }
  if (ns->dir != NULL)
    {
      const char *rm[] = { "rm", "-rf", "--one-file-system", ns->dir, NULL };
      ok = banger_kit_run (rm, NULL, ok ? error : NULL) && ok;
    }
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
  const gint *stop; /* nullable: ends the probe when set */
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
  while (g_get_monotonic_time () < p->deadline && (p->stop == NULL || !g_atomic_int_get (p->stop)))
    {
      errno = 0;
      if (banner_once (&addr, &p->last_error))
        return GINT_TO_POINTER (TRUE);
      g_usleep (20 * 1000);
    }
  return GINT_TO_POINTER (FALSE);
}

gint64
banger_kit_probe_banner (const char *netns, const char *ip, gint64 deadline_us, const gint *stop)
{
  BannerProbe probe = { netns, ip, deadline_us, NULL, stop };
  GThread *thread = g_thread_new ("ssh-banner", banner_thread, &probe);
  gboolean banner = GPOINTER_TO_INT (g_thread_join (thread));

  g_free (probe.last_error);
  return banner ? g_get_monotonic_time () : 0;
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
  g_free (vm->work);
  g_free (vm->key);
  g_free (vm);
}

static BangerVmm *
kit_vmm_new (BangerKitVm *vm, BangerKitNetns *ns, const char *run_dir, const char *rootfs,
             const char *kernel, const char *initrd)
{
  BangerVmmConfig *config = banger_vmm_config_new (ns->vm_id, run_dir);
  g_autofree char *mac = banger_vmm_mac_for_vm (BANGER_KIT_VM_ID, 0);
  BangerVmm *vmm;

  config->kernel_path = g_strdup (kernel);
  config->initrd_path = g_strdup (initrd);
  config->mem_mib = vm->mem_mib;
  config->vcpus = 1;
  config->guest_ip = g_strdup (ns->guest_ip);
  config->gateway_ip = g_strdup (ns->host_ip);
  config->netmask = g_strdup (ns->netmask);
  config->hostname = g_strdup ("banger-test");
  banger_vmm_config_add_drive (config, "rootfs", rootfs, TRUE, FALSE);
  if (vm->work != NULL)
    banger_vmm_config_add_drive (config, "work", vm->work, FALSE, FALSE);
  banger_vmm_config_add_nic (config, "eth0", ns->tap, mac);
  vmm = banger_vmm_qemu_new (config);
  banger_vmm_set_launcher (vmm, ns->launcher);
  banger_vmm_set_stop_timeout (vmm, 15);
  return vmm;
}

BangerKitVm *
banger_kit_vm_boot (const char *guest_dir, BangerKitNetns *ns, const char *work_disk,
                    GError **error)
{
  return banger_kit_vm_boot_sized (guest_dir, ns, work_disk, 0, error);
}

BangerKitVm *
banger_kit_vm_boot_sized (const char *guest_dir, BangerKitNetns *ns, const char *work_disk,
                          guint mem_mib, GError **error)
{
  BangerKitVm *vm = g_new0 (BangerKitVm, 1);
  g_autofree char *run_dir = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *src_rootfs = g_build_filename (guest_dir, "rootfs.ext4", NULL);
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *work = NULL;
  g_autofree char *pub = NULL;
  gint64 t0;
  gint64 banner_us = 0;

  /* under the helper's state dir, the owner's where QEMU writes */
  vm->dir = g_build_filename (ns->state_dir, "vm", NULL);
  if (g_access (vm->dir, F_OK) == 0)
    {
      /* a second VM of the namespace (the first may be kept for a restore) */
      g_free (vm->dir);
      vm->dir = g_strdup_printf ("%s/vm-%d", ns->state_dir, g_random_int_range (1000, 1000000));
    }
  if (g_mkdir (vm->dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", vm->dir,
                   g_strerror (errno));
      g_clear_pointer (&vm->dir, g_free);
      goto fail;
    }
  run_dir = g_build_filename (vm->dir, "run", NULL);
  rootfs = g_build_filename (vm->dir, "rootfs.ext4", NULL);
  kernel = g_build_filename (vm->dir, "vmlinuz", NULL);
  initrd = g_build_filename (vm->dir, "initrd.img", NULL);
  vm->key = g_build_filename (vm->dir, "id_ed25519", NULL);
  pub = g_strconcat (vm->key, ".pub", NULL);
  {
    g_autofree char *src_kernel = g_build_filename (guest_dir, "vmlinuz", NULL);
    g_autofree char *src_initrd = g_build_filename (guest_dir, "initrd.img", NULL);
    const char *cp[] = { "cp", "--sparse=always", src_rootfs, rootfs, NULL };
    const char *cpk[] = { "cp", src_kernel, src_initrd, vm->dir, NULL };
    if (!banger_kit_run (cp, NULL, error) || !banger_kit_run (cpk, NULL, error))
      goto fail;
  }
  if (work_disk != NULL)
    {
      const char *cp[] = { "cp", "--sparse=always", work_disk, vm->dir, NULL };
      g_autofree char *base = g_path_get_basename (work_disk);
      work = g_build_filename (vm->dir, base, NULL);
      if (!banger_kit_run (cp, NULL, error))
        goto fail;
    }
  if (!banger_kit_make_ssh_key (vm->key, error) || !banger_kit_inject_key (rootfs, pub, error))
    goto fail;
  /* QEMU runs as the owner: its disks are the owner's */
  if (chown (rootfs, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0
      || (work != NULL && chown (work, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "chown: %s",
                   g_strerror (errno));
      goto fail;
    }

  vm->work = g_steal_pointer (&work);
  vm->mem_mib = mem_mib ? mem_mib : 256;
  vm->vmm = kit_vmm_new (vm, ns, run_dir, rootfs, kernel, initrd);

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

BangerKitVm *
banger_kit_vm_restore (BangerKitVm *old, BangerKitNetns *ns, const char *snapshot,
                       GError **error)
{
  BangerKitVm *vm = g_new0 (BangerKitVm, 1);
  g_autofree char *run_dir = NULL;
  g_autofree char *rootfs = NULL;
  g_autofree char *kernel = g_build_filename (old->dir, "vmlinuz", NULL);
  g_autofree char *initrd = g_build_filename (old->dir, "initrd.img", NULL);
  g_autofree char *old_rootfs = g_build_filename (old->dir, "rootfs.ext4", NULL);
  gint64 t0;
  gint64 banner_us = 0;

  vm->dir = g_strdup_printf ("%s-restore-%d", old->dir, g_random_int_range (1000, 1000000));
  if (g_mkdir (vm->dir, 0755) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", vm->dir,
                   g_strerror (errno));
      g_clear_pointer (&vm->dir, g_free);
      goto fail;
    }
  /* the disks as they were at the snapshot (the caller stopped writing to
   * them: the old VM is paused or gone): a copy each */
  run_dir = g_build_filename (vm->dir, "run", NULL);
  rootfs = g_build_filename (vm->dir, "rootfs.ext4", NULL);
  vm->key = g_build_filename (vm->dir, "id_ed25519", NULL);
  vm->mem_mib = old->mem_mib;
  {
    g_autofree char *old_pub = g_strconcat (old->key, ".pub", NULL);
    const char *cp[] = { "cp", "--sparse=always", old_rootfs, rootfs, NULL };
    const char *cpk[] = { "cp", old->key, old_pub, vm->dir, NULL };
    if (!banger_kit_run (cp, NULL, error) || !banger_kit_run (cpk, NULL, error))
      goto fail;
  }
  if (old->work != NULL)
    {
      g_autofree char *base = g_path_get_basename (old->work);
      const char *cp[] = { "cp", "--sparse=always", old->work, vm->dir, NULL };
      vm->work = g_build_filename (vm->dir, base, NULL);
      if (!banger_kit_run (cp, NULL, error))
        goto fail;
    }
  if (chown (rootfs, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0
      || (vm->work != NULL && chown (vm->work, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "chown: %s",
                   g_strerror (errno));
      goto fail;
    }
  vm->vmm = kit_vmm_new (vm, ns, run_dir, rootfs, kernel, initrd);
  banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (vm->vmm), TRUE);
  if (!banger_vmm_prepare (vm->vmm, error))
    goto fail;
  t0 = g_get_monotonic_time ();
  if (!banger_vmm_launch (vm->vmm, NULL, error)
      || !banger_vmm_snapshot_load (vm->vmm, snapshot, snapshot, TRUE, NULL, error))
    goto fail;
  vm->launch_to_running_s = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  if (!banger_kit_wait_ssh (ns, vm->key, 60 * 1000, &banner_us, error))
    goto fail;
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
