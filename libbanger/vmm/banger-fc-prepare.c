/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: prepare (socket path, jail or run dir staging,
 * the logger and metrics sinks, the argv). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-error-private.h"
#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-proc.h"
#include "banger-quote.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-firecracker-private.h"

/* ---------------------------------------------------------------- prepare */

char *
banger_fc_choose_api_socket (const char *run_dir, GError **error)
{
  g_autofree char *direct = g_build_filename (run_dir, NAME_API_SOCK, NULL);
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  /* $XDG_RUNTIME_DIR itself, not g_get_user_runtime_dir(), whose fallback
   * is the cache dir */
  const char *bases[] = { g_getenv ("XDG_RUNTIME_DIR"), g_get_tmp_dir (), "/tmp" };

  if (strlen (direct) < SUN_PATH_MAX)
    return g_steal_pointer (&direct);
  /* too long for sun_path: a short name derived from the run dir, so the
   * same VM always gets the same socket */
  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, run_dir, -1);
  name = g_strdup_printf ("banger-fc-%.16s.sock", hash);
  for (guint i = 0; i < G_N_ELEMENTS (bases); i++)
    {
      g_autofree char *p = NULL;
      if (bases[i] == NULL || !g_path_is_absolute (bases[i])
          || access (bases[i], W_OK | X_OK) != 0)
        continue;
      p = g_build_filename (bases[i], name, NULL);
      if (strlen (p) < SUN_PATH_MAX)
        return g_steal_pointer (&p);
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "No API socket path for run directory '%s' fits in %zu bytes", run_dir,
               SUN_PATH_MAX);
  return NULL;
}

/* Remove a leftover socket (Firecracker refuses to start when its socket
 * path exists); anything that is not a socket is an error, not ours. */
gboolean
banger_fc_remove_stale_socket (const char *path, GError **error)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return errno == ENOENT ? TRUE
                           : banger_set_error_from_errno (error, errno, "Cannot inspect '%s'", path);
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "'%s' exists and is not a socket", path);
      return FALSE;
    }
  if (unlink (path) < 0 && errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot remove the stale socket '%s'", path);
  return TRUE;
}

/* An empty file (or FIFO) for the logger / metrics, which Firecracker opens
 * but does not create. */
static gboolean
make_sink (const char *path, gboolean fifo, GError **error)
{
  struct stat st;
  int fd;

  if (lstat (path, &st) == 0)
    {
      if (fifo ? S_ISFIFO (st.st_mode) : S_ISREG (st.st_mode))
        {
          if (!fifo && truncate (path, 0) < 0)
            return banger_set_error_from_errno (error, errno, "Cannot truncate '%s'", path);
          return TRUE;
        }
      if (unlink (path) < 0)
        return banger_set_error_from_errno (error, errno, "Cannot replace '%s'", path);
    }
  if (fifo)
    {
      if (mkfifo (path, 0600) < 0)
        return banger_set_error_from_errno (error, errno, "Cannot create the FIFO '%s'", path);
      return TRUE;
    }
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create '%s'", path);
  close (fd);
  return TRUE;
}

static gboolean
hand_to_jailed_user (BangerVmmFirecracker *self, const char *path, GError **error)
{
  if (self->jailer == NULL || geteuid () != 0)
    return TRUE;
  if (lchown (path, self->jailer->uid, self->jailer->gid) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot hand '%s' to uid %u", path,
                                        self->jailer->uid);
  return TRUE;
}

static void
reset_prepared (BangerVmmFirecracker *self)
{
  g_clear_pointer (&self->argv, g_strfreev);
  g_clear_pointer (&self->jail_root, g_free);
  if (self->jail_root_fd >= 0)
    close (self->jail_root_fd);
  self->jail_root_fd = -1;
  self->launcher_jail = FALSE; /* until a launcher says it jailed this run */
  self->jail_staged = FALSE;
  g_clear_pointer (&self->api_sock_arg, g_free);
  g_clear_pointer (&self->api_sock_host, g_free);
  g_clear_pointer (&self->log_arg, g_free);
  g_clear_pointer (&self->log_host, g_free);
  banger_fc_close_log_fifo (self);
  g_clear_pointer (&self->metrics_arg, g_free);
  g_clear_pointer (&self->metrics_host, g_free);
  g_clear_pointer (&self->vsock_arg, g_free);
  g_clear_pointer (&self->vsock_host, g_free);
  g_clear_pointer (&self->kernel_arg, g_free);
  g_clear_pointer (&self->initrd_arg, g_free);
  g_ptr_array_set_size (self->drive_args, 0);
  g_clear_pointer (&self->output_path, g_free);
  g_clear_pointer (&self->client, banger_fc_client_free);
  g_clear_pointer (&self->metrics, banger_fc_metrics_free);
}

static gboolean
prepare_jailed (BangerVmmFirecracker *self, const BangerVmmConfig *c, GError **error)
{
  g_autofree char *jail_sock = NULL;

  if (!banger_fc_jailer_config_validate (self->jailer, error))
    return FALSE;
  /* a stale jail with this id breaks the jailer: it is ours (named from the
   * VM id), remove it */
  if (!banger_fc_jail_remove (self->jailer, self->fc_path, c->vm_id, error))
    return FALSE;
  self->jail_root_fd = banger_fc_jail_create (self->jailer, self->fc_path, c->vm_id, error);
  if (self->jail_root_fd < 0)
    return FALSE;
  self->jail_root = banger_fc_jail_root (self->jailer, self->fc_path, c->vm_id);

  if (!banger_fc_jail_stage (self->jail_root_fd, c->kernel_path, NAME_KERNEL, FALSE, self->jailer,
                             error))
    return FALSE;
  self->kernel_arg = g_strdup ("/" NAME_KERNEL);
  if (c->initrd_path != NULL)
    {
      if (!banger_fc_jail_stage (self->jail_root_fd, c->initrd_path, NAME_INITRD, FALSE,
                                 self->jailer, error))
        return FALSE;
      self->initrd_arg = g_strdup ("/" NAME_INITRD);
    }
  for (guint i = 0; i < c->drives->len; i++)
    {
      BangerVmmDrive *d = c->drives->pdata[i];
      g_autofree char *name = g_strconcat ("disk-", d->id, NULL);
      if (!banger_fc_jail_stage (self->jail_root_fd, d->path, name, !d->read_only, self->jailer,
                                 error))
        return FALSE;
      g_ptr_array_add (self->drive_args, g_strconcat ("/", name, NULL));
    }
  self->api_sock_arg = g_strdup ("/" NAME_API_SOCK);
  self->log_arg = g_strconcat ("/", self->log_fifo ? NAME_LOG_FIFO : NAME_LOG, NULL);
  self->metrics_arg = g_strdup ("/" NAME_METRICS);
  self->vsock_arg = g_strdup ("/" NAME_VSOCK);
  self->log_host = g_build_filename (self->jail_root, self->log_fifo ? NAME_LOG_FIFO : NAME_LOG,
                                     NULL);
  self->metrics_host = g_build_filename (self->jail_root, NAME_METRICS, NULL);

  jail_sock = g_build_filename (self->jail_root, NAME_API_SOCK, NULL);
  if (strlen (jail_sock) < SUN_PATH_MAX)
    self->api_sock_host = g_steal_pointer (&jail_sock);
  else
    /* the jail path is too long for sun_path: reach the socket through the
     * jail root fd we hold, which is short and cannot be redirected */
    self->api_sock_host = g_strdup_printf ("/proc/self/fd/%d/" NAME_API_SOCK,
                                           self->jail_root_fd);
  return TRUE;
}

static gboolean
prepare_direct (BangerVmmFirecracker *self, const BangerVmmConfig *c, GError **error)
{
  self->api_sock_host = banger_fc_choose_api_socket (c->run_dir, error);
  if (self->api_sock_host == NULL)
    return FALSE;
  self->api_sock_arg = g_strdup (self->api_sock_host);
  self->kernel_arg = g_strdup (c->kernel_path);
  self->initrd_arg = g_strdup (c->initrd_path);
  for (guint i = 0; i < c->drives->len; i++)
    g_ptr_array_add (self->drive_args, g_strdup (((BangerVmmDrive *) c->drives->pdata[i])->path));
  self->log_host = g_build_filename (c->run_dir, self->log_fifo ? NAME_LOG_FIFO : NAME_LOG,
                                     NULL);
  self->metrics_host = g_build_filename (c->run_dir, NAME_METRICS, NULL);
  self->vsock_arg = g_build_filename (c->run_dir, NAME_VSOCK, NULL);
  self->log_arg = g_strdup (self->log_host);
  self->metrics_arg = g_strdup (self->metrics_host);
  if (c->vsock_cid != 0 && strlen (self->vsock_arg) >= SUN_PATH_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The vsock socket '%s' does not fit in %zu bytes", self->vsock_arg,
                   SUN_PATH_MAX);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_vmm_firecracker_prepare (BangerVmm *vmm, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  const BangerVmmConfig *c = banger_vmm_get_config (vmm);
  g_autofree char *vsock_host = NULL;

  if (self->fc_path == NULL || !g_path_is_absolute (self->fc_path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The firecracker binary path must be absolute");
      return FALSE;
    }
  if (c->mmds != NULL && (c->nics->len == 0 || !JSON_NODE_HOLDS_OBJECT (c->mmds)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "MMDS metadata needs a network interface and must be a JSON object");
      return FALSE;
    }
  if (c->vsock_cid != 0 && c->vsock_cid < 3)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "vsock guest CID %u is reserved (it must be 3 or more)", c->vsock_cid);
      return FALSE;
    }
  if (g_mkdir_with_parents (c->run_dir, 0700) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create the run directory '%s'",
                                        c->run_dir);
  reset_prepared (self);
  self->jail_removed = FALSE;

  if (self->jailer != NULL ? !prepare_jailed (self, c, error) : !prepare_direct (self, c, error))
    return FALSE;

  if (!banger_fc_remove_stale_socket (self->api_sock_host, error))
    return FALSE;
  vsock_host = self->jail_root ? g_build_filename (self->jail_root, NAME_VSOCK, NULL)
                               : g_strdup (self->vsock_arg);
  if (!banger_fc_remove_stale_socket (vsock_host, error))
    return FALSE;
  if (self->jail_root == NULL)
    self->vsock_host = g_steal_pointer (&vsock_host);
  if (!make_sink (self->log_host, self->log_fifo, error)
      || !make_sink (self->metrics_host, self->metrics_fifo, error)
      || !hand_to_jailed_user (self, self->log_host, error)
      || !hand_to_jailed_user (self, self->metrics_host, error))
    return FALSE;
  /* our reader exists before Firecracker opens a FIFO for writing */
  self->metrics = banger_fc_metrics_open (self->metrics_host, error);
  if (self->metrics == NULL)
    return FALSE;
  if (self->log_fifo)
    {
      self->log_fifo_fd = open (self->log_host, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
      if (self->log_fifo_fd < 0)
        return banger_set_error_from_errno (error, errno, "Cannot open the log FIFO '%s'",
                                            self->log_host);
      self->log_file = g_build_filename (c->run_dir, NAME_LOG, NULL);
      self->log_file_fd = open (self->log_file,
                                O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                0600);
      if (self->log_file_fd < 0)
        return banger_set_error_from_errno (error, errno, "Cannot create the log '%s'",
                                            self->log_file);
    }
  self->output_path = g_build_filename (c->run_dir, NAME_OUTPUT, NULL);

  {
    /* what the direct launcher will run (the helper builds the same) */
    BangerVmmLaunchRequest request = { 0 };
    request.config = c;
    request.driver = "firecracker";
    request.binary = self->fc_path;
    request.api_sock = self->api_sock_arg;
    request.jailer = self->jailer;
    request.api_payload_limit = self->api_payload_limit;
    request.mmds_size_limit = self->mmds_size_limit;
    self->argv = banger_vmm_launch_request_argv (&request, error);
    if (self->argv == NULL)
      return FALSE;
  }
  self->client = banger_fc_client_new (self->api_sock_host);
  banger_vmm_set_api_socket (vmm, self->api_sock_host);
  return TRUE;
}

/* ------------------------------------------------- a jail the launcher made */

void
banger_fc_use_launcher_jail (BangerVmmFirecracker *self, const char *jail_root)
{
  const BangerVmmConfig *c = banger_vmm_get_config (BANGER_VMM (self));

  self->launcher_jail = TRUE;
  self->jail_staged = FALSE;
  g_free (self->jail_root);
  self->jail_root = g_strdup (jail_root);
  /* the same chroot-relative names as a jail of the driver's own, so a
   * snapshot taken in one jail reopens the files of another */
  g_free (self->kernel_arg);
  self->kernel_arg = g_strdup ("/" NAME_KERNEL);
  if (c->initrd_path != NULL)
    {
      g_free (self->initrd_arg);
      self->initrd_arg = g_strdup ("/" NAME_INITRD);
    }
  g_ptr_array_set_size (self->drive_args, 0);
  for (guint i = 0; i < c->drives->len; i++)
    g_ptr_array_add (self->drive_args,
                     g_strconcat ("/disk-", ((BangerVmmDrive *)c->drives->pdata[i])->id, NULL));
  g_free (self->log_arg);
  self->log_arg = g_strconcat ("/", self->log_fifo ? NAME_LOG_FIFO : NAME_LOG, NULL);
  g_free (self->metrics_arg);
  self->metrics_arg = g_strdup ("/" NAME_METRICS);
  g_free (self->vsock_arg);
  self->vsock_arg = g_strdup ("/" NAME_VSOCK);
  g_clear_pointer (&self->vsock_host, g_free); /* it goes with the jail */
}

/* The logger's or the metrics' sink (made by prepare in the run dir) into
 * the jail: the same inode, so our reader keeps reading it.  Across
 * filesystems a fresh file in the jail, read from there. */
static gboolean
stage_sink (BangerVmmFirecracker *self, char **host, const char *name, gboolean fifo,
            gboolean metrics, GError **error)
{
  g_autofree char *in_jail = g_build_filename (self->jail_root, name, NULL);
  int fd;

  if (unlinkat (self->jail_root_fd, name, 0) < 0 && errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot replace '%s' in the jail", name);
  if (linkat (AT_FDCWD, *host, self->jail_root_fd, name, 0) == 0)
    return TRUE;
  if ((errno != EXDEV && errno != EPERM) || fifo)
    return banger_set_error_from_errno (error, errno, "Cannot link '%s' into the jail", *host);
  fd = openat (self->jail_root_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               0600);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create '%s' in the jail", name);
  close (fd);
  g_free (*host);
  *host = g_steal_pointer (&in_jail);
  if (metrics)
    {
      g_clear_pointer (&self->metrics, banger_fc_metrics_free);
      self->metrics = banger_fc_metrics_open (*host, error);
      return self->metrics != NULL;
    }
  return TRUE;
}

gboolean
banger_fc_stage_file (BangerVmmFirecracker *self, const char *src, const char *name, GError **error)
{
  if (self->launcher_jail)
    return banger_fc_jail_link (self->jail_root_fd, src, name, FALSE, error);
  return banger_fc_jail_stage (self->jail_root_fd, src, name, FALSE, self->jailer, error);
}

gboolean
banger_fc_stage_launcher_jail (BangerVmmFirecracker *self, GError **error)
{
  const BangerVmmConfig *c = banger_vmm_get_config (BANGER_VMM (self));
  struct stat st;

  if (!self->launcher_jail || self->jail_staged)
    return TRUE;
  if (self->jail_root_fd < 0)
    {
      self->jail_root_fd = open (self->jail_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (self->jail_root_fd < 0)
        return banger_set_error_from_errno (error, errno, "Cannot open the jail '%s'",
                                            self->jail_root);
    }
  /* the jailer hands the jail root to the uid Firecracker runs as: ours */
  if (fstat (self->jail_root_fd, &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot inspect the jail '%s'",
                                        self->jail_root);
  if (st.st_uid != geteuid ())
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The jail '%s' belongs to uid %u, not to uid %u which Firecracker runs as",
                   self->jail_root, (guint)st.st_uid, (guint)geteuid ());
      return FALSE;
    }
  if (!banger_fc_jail_link (self->jail_root_fd, c->kernel_path, NAME_KERNEL, FALSE, error))
    return FALSE;
  if (c->initrd_path != NULL
      && !banger_fc_jail_link (self->jail_root_fd, c->initrd_path, NAME_INITRD, FALSE, error))
    return FALSE;
  for (guint i = 0; i < c->drives->len; i++)
    {
      BangerVmmDrive *d = c->drives->pdata[i];
      g_autofree char *name = g_strconcat ("disk-", d->id, NULL);
      if (!banger_fc_jail_link (self->jail_root_fd, d->path, name, !d->read_only, error))
        return FALSE;
    }
  if (!stage_sink (self, &self->log_host, self->log_fifo ? NAME_LOG_FIFO : NAME_LOG, self->log_fifo,
                   FALSE, error)
      || !stage_sink (self, &self->metrics_host, NAME_METRICS, self->metrics_fifo, TRUE, error))
    return FALSE;
  self->jail_staged = TRUE;
  return TRUE;
}
