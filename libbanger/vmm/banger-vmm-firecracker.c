/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver (see banger-vmm-firecracker.h and doc/vmm.md).
 *
 * Every API call goes through one BangerFcClient (one kept-alive
 * connection).  Multi-call operations (configure) are a list of steps run in
 * order; the first refusal ends the operation with Firecracker's
 * fault_message, and a transport failure caused by the process dying is
 * reported as that death, with the last line of its output. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-error-private.h"
#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-pidfd.h"
#include "banger-proc.h"
#include "banger-quote.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"

#define SUN_PATH_MAX (sizeof (((struct sockaddr_un *) NULL)->sun_path))
#define PROBE_TIMEOUT_MS 1000
#define CTRL_ALT_DEL_TIMEOUT_MS 2000
#define KILL_WAIT_S 5

/* names inside the run dir (direct) or the jail root (jailed) */
#define NAME_API_SOCK "api.sock"
#define NAME_LOG "fc.log"
#define NAME_LOG_FIFO "fc.log.fifo" /* drained into <run dir>/fc.log */
#define LOG_FILE_MAX (64 * 1024 * 1024)
#define NAME_METRICS "fc.metrics"
#define NAME_VSOCK "vsock.sock"
#define NAME_KERNEL "kernel"
#define NAME_INITRD "initrd"
#define NAME_SNAP_STATE "snapshot.vmstate"
#define NAME_SNAP_MEM "snapshot.mem"
/* a loaded memory file backs the guest's memory from then on: a later
 * snapshot must never be written over it, hence other names */
#define NAME_RESTORE_STATE "restore.vmstate"
#define NAME_RESTORE_MEM "restore.mem"
#define NAME_OUTPUT "firecracker.out" /* stdout+stderr, always in the run dir */

static const guint default_timeouts[BANGER_FC_TIMEOUT_N] = {
  [BANGER_FC_TIMEOUT_API] = 5000,
  [BANGER_FC_TIMEOUT_START] = 15000,
  [BANGER_FC_TIMEOUT_RESUME] = 30000,
  [BANGER_FC_TIMEOUT_SNAPSHOT] = 120000,
  [BANGER_FC_TIMEOUT_SOCKET] = 5000,
};

struct _BangerVmmFirecracker
{
  BangerVmm parent_instance;

  char *fc_path;
  BangerFcJailerConfig *jailer; /* NULL: direct */
  guint timeouts[BANGER_FC_TIMEOUT_N];
  gboolean metrics_fifo;
  gboolean log_fifo;
  gboolean track_dirty_pages;

  /* from prepare */
  char **argv;
  char *jail_root;  /* host path; NULL when direct */
  int jail_root_fd;
  char *api_sock_arg; /* what Firecracker is told (chroot-relative when jailed) */
  char *api_sock_host;
  char *log_arg, *log_host;
  /* logger through a FIFO: our end (O_RDWR, so it never reports a hang-up),
   * the file it is drained into, and the source that drains it */
  int log_fifo_fd;
  int log_file_fd;
  char *log_file;
  GSource *log_drain;
  guint64 log_bytes;
  char *metrics_arg, *metrics_host;
  char *vsock_arg;
  char *kernel_arg, *initrd_arg;
  GPtrArray *drive_args; /* parallel to config->drives */
  char *output_path;
  BangerFcClient *client;
  BangerFcMetrics *metrics;

  /* the jailer process when Firecracker is another one (--new-pid-ns) */
  GPid jailer_pid;
  int jailer_pidfd;

  const char *stop_method;
  gboolean jail_removed;
};

G_DEFINE_FINAL_TYPE (BangerVmmFirecracker, banger_vmm_firecracker, BANGER_TYPE_VMM)

static const char *
cfg_id (BangerVmmFirecracker *self)
{
  return banger_vmm_get_config (BANGER_VMM (self))->vm_id;
}

/* ------------------------------------------------------------ small utils */

static int
pidfd_signal (int pidfd, int sig)
{
  return banger_pidfd_send_signal (pidfd, sig);
}

/* The last non-empty line of the process output, for error messages. */
static char *
output_tail (BangerVmmFirecracker *self)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_auto (GStrv) lines = NULL;

  if (self->output_path == NULL
      || !g_file_get_contents (self->output_path, &contents, &len, NULL) || len == 0)
    return g_strdup ("no output");
  if (len > 8192)
    memmove (contents, contents + len - 8192, 8193);
  lines = g_strsplit (contents, "\n", -1);
  for (int i = (int) g_strv_length (lines) - 1; i >= 0; i--)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] != '\0')
        {
          g_autofree char *q = banger_quote (lines[i]);
          return g_strdup_printf ("last output: \"%s\"", q);
        }
    }
  return g_strdup ("no output");
}

static char *
describe_exit (BangerVmmFirecracker *self)
{
  g_autofree char *tail = output_tail (self);
  return g_strdup_printf ("%s; see %s", tail, self->output_path);
}

/* ------------------------------------------------------------- log FIFO */

/* Move what Firecracker wrote to the logger FIFO into the log file (up to
 * LOG_FILE_MAX; beyond that it is read and dropped, so Firecracker's
 * non-blocking writes never fill the pipe). */
static void
drain_log (BangerVmmFirecracker *self)
{
  char buf[16384];
  ssize_t n;

  if (self->log_fifo_fd < 0)
    return;
  while ((n = read (self->log_fifo_fd, buf, sizeof buf)) > 0)
    {
      if (self->log_file_fd >= 0 && self->log_bytes < LOG_FILE_MAX)
        {
          ssize_t w = write (self->log_file_fd, buf, (size_t) n);
          if (w > 0)
            self->log_bytes += (guint64) w;
        }
    }
}

static gboolean
on_log_readable (int fd, GIOCondition cond, gpointer user_data)
{
  drain_log (user_data);
  return G_SOURCE_CONTINUE;
}

static void
close_log_fifo (BangerVmmFirecracker *self)
{
  if (self->log_drain != NULL)
    {
      g_source_destroy (self->log_drain);
      g_clear_pointer (&self->log_drain, g_source_unref);
    }
  drain_log (self);
  if (self->log_fifo_fd >= 0)
    close (self->log_fifo_fd);
  if (self->log_file_fd >= 0)
    close (self->log_file_fd);
  self->log_fifo_fd = self->log_file_fd = -1;
  g_clear_pointer (&self->log_file, g_free);
  self->log_bytes = 0;
}

/* ------------------------------------------------------------- properties */

static void
banger_vmm_firecracker_finalize (GObject *object)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (object);

  g_free (self->fc_path);
  g_clear_pointer (&self->jailer, banger_fc_jailer_config_free);
  g_strfreev (self->argv);
  g_free (self->jail_root);
  if (self->jail_root_fd >= 0)
    close (self->jail_root_fd);
  g_free (self->api_sock_arg);
  g_free (self->api_sock_host);
  g_free (self->log_arg);
  g_free (self->log_host);
  close_log_fifo (self);
  g_free (self->metrics_arg);
  g_free (self->metrics_host);
  g_free (self->vsock_arg);
  g_free (self->kernel_arg);
  g_free (self->initrd_arg);
  g_clear_pointer (&self->drive_args, g_ptr_array_unref);
  g_free (self->output_path);
  g_clear_pointer (&self->client, banger_fc_client_free);
  g_clear_pointer (&self->metrics, banger_fc_metrics_free);
  if (self->jailer_pidfd >= 0)
    close (self->jailer_pidfd);
  G_OBJECT_CLASS (banger_vmm_firecracker_parent_class)->finalize (object);
}

BangerVmm *
banger_vmm_firecracker_new (BangerVmmConfig *config, const char *firecracker_path)
{
  BangerVmmFirecracker *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (firecracker_path != NULL, NULL);
  self = g_object_new (BANGER_TYPE_VMM_FIRECRACKER, "config", config, NULL);
  self->fc_path = g_strdup (firecracker_path);
  return BANGER_VMM (self);
}

void
banger_vmm_firecracker_set_jailer (BangerVmmFirecracker *self, const BangerFcJailerConfig *jailer)
{
  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  g_clear_pointer (&self->jailer, banger_fc_jailer_config_free);
  if (jailer != NULL)
    self->jailer = banger_fc_jailer_config_copy (jailer);
}

void
banger_vmm_firecracker_set_timeout (BangerVmmFirecracker *self, BangerFcTimeout which, guint ms)
{
  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  g_return_if_fail (which < BANGER_FC_TIMEOUT_N);
  self->timeouts[which] = ms;
}

guint
banger_vmm_firecracker_get_timeout (BangerVmmFirecracker *self, BangerFcTimeout which)
{
  g_return_val_if_fail (which < BANGER_FC_TIMEOUT_N, 0);
  return self->timeouts[which];
}

void
banger_vmm_firecracker_set_metrics_fifo (BangerVmmFirecracker *self, gboolean fifo)
{
  self->metrics_fifo = fifo;
}

void
banger_vmm_firecracker_set_track_dirty_pages (BangerVmmFirecracker *self, gboolean track)
{
  self->track_dirty_pages = track;
}

const char *const *
banger_vmm_firecracker_get_argv (BangerVmmFirecracker *self)
{
  return (const char *const *) self->argv;
}

const char *
banger_vmm_firecracker_get_jail_root (BangerVmmFirecracker *self)
{
  return self->jail_root;
}

const char *
banger_vmm_firecracker_get_log_path (BangerVmmFirecracker *self)
{
  return self->log_fifo ? self->log_file : self->log_host;
}

void
banger_vmm_firecracker_set_log_fifo (BangerVmmFirecracker *self, gboolean fifo)
{
  self->log_fifo = fifo;
}

const char *
banger_vmm_firecracker_get_output_path (BangerVmmFirecracker *self)
{
  return self->output_path;
}

const char *
banger_vmm_firecracker_get_metrics_path (BangerVmmFirecracker *self)
{
  return self->metrics_host;
}

const char *
banger_vmm_firecracker_get_stop_method (BangerVmmFirecracker *self)
{
  return self->stop_method;
}

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
static gboolean
remove_stale_socket (const char *path, GError **error)
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
  g_clear_pointer (&self->api_sock_arg, g_free);
  g_clear_pointer (&self->api_sock_host, g_free);
  g_clear_pointer (&self->log_arg, g_free);
  g_clear_pointer (&self->log_host, g_free);
  close_log_fifo (self);
  g_clear_pointer (&self->metrics_arg, g_free);
  g_clear_pointer (&self->metrics_host, g_free);
  g_clear_pointer (&self->vsock_arg, g_free);
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

static gboolean
banger_vmm_firecracker_prepare (BangerVmm *vmm, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  const BangerVmmConfig *c = banger_vmm_get_config (vmm);
  g_autoptr (GPtrArray) fc_args = g_ptr_array_new ();
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
  self->stop_method = NULL;

  if (self->jailer != NULL ? !prepare_jailed (self, c, error) : !prepare_direct (self, c, error))
    return FALSE;

  if (!remove_stale_socket (self->api_sock_host, error))
    return FALSE;
  vsock_host = self->jail_root ? g_build_filename (self->jail_root, NAME_VSOCK, NULL)
                               : g_strdup (self->vsock_arg);
  if (!remove_stale_socket (vsock_host, error))
    return FALSE;
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

  g_ptr_array_add (fc_args, (char *) "--api-sock");
  g_ptr_array_add (fc_args, self->api_sock_arg);
  if (self->jailer == NULL)
    {
      /* the jailer passes --id itself */
      g_ptr_array_add (fc_args, (char *) "--id");
      g_ptr_array_add (fc_args, c->vm_id);
    }
  g_ptr_array_add (fc_args, NULL);

  if (self->jailer != NULL)
    self->argv = banger_fc_jailer_build_argv (self->jailer, self->fc_path, c->vm_id,
                                              (const char *const *) fc_args->pdata);
  else
    {
      GPtrArray *a = g_ptr_array_new ();
      g_ptr_array_add (a, g_strdup (self->fc_path));
      for (guint i = 0; fc_args->pdata[i] != NULL; i++)
        g_ptr_array_add (a, g_strdup (fc_args->pdata[i]));
      g_ptr_array_add (a, NULL);
      self->argv = (char **) g_ptr_array_free (a, FALSE);
    }
  self->client = banger_fc_client_new (self->api_sock_host);
  banger_vmm_set_api_socket (vmm, self->api_sock_host);
  return TRUE;
}

/* ------------------------------------------------------------------ steps */

typedef struct
{
  char *method;
  char *path;
  JsonNode *body; /* nullable */
  guint timeout_ms;
} Step;

static void
step_free (gpointer p)
{
  Step *s = p;
  g_free (s->method);
  g_free (s->path);
  if (s->body)
    json_node_unref (s->body);
  g_free (s);
}

typedef struct
{
  GPtrArray *steps;
  guint next;
  BangerVmmState final_state; /* NEW: leave the state alone */
  JsonNode *last_reply;
  /* jail files to move out after success (snapshot create) */
  char *collect_state, *collect_mem;
} Seq;

static void
seq_free (Seq *s)
{
  g_ptr_array_unref (s->steps);
  if (s->last_reply)
    json_node_unref (s->last_reply);
  g_free (s->collect_state);
  g_free (s->collect_mem);
  g_free (s);
}

static Seq *
seq_new (void)
{
  Seq *s = g_new0 (Seq, 1);
  s->steps = g_ptr_array_new_with_free_func (step_free);
  return s;
}

/* @body: (transfer full) (nullable) */
static void
seq_add (Seq *s, const char *method, const char *path, JsonNode *body, guint timeout_ms)
{
  Step *st = g_new0 (Step, 1);
  st->method = g_strdup (method);
  st->path = g_strdup (path);
  st->body = body;
  st->timeout_ms = timeout_ms;
  g_ptr_array_add (s->steps, st);
}

static void seq_next (GTask *task);

/* Has the process exited, allowing it @ms to finish dying?  A dying
 * process closes its sockets (we see the reset) a moment before its pidfd
 * turns readable. */
static gboolean
exited_within (BangerVmmFirecracker *self, int ms)
{
  BangerVmm *vmm = BANGER_VMM (self);
  int pidfd = banger_vmm_get_pidfd (vmm);
  struct pollfd p = { pidfd, POLLIN, 0 };

  if (banger_vmm_has_exited (vmm))
    return TRUE;
  if (pidfd < 0)
    return FALSE;
  while (poll (&p, 1, ms) < 0 && errno == EINTR)
    ;
  return banger_vmm_has_exited (vmm);
}

/* Rewrite a transport error when the cause is the process having died. */
static GError *
explain_failure (BangerVmmFirecracker *self, const Step *st, GError *error)
{
  if (error->domain == BANGER_ERROR && error->code == BANGER_ERROR_PROTOCOL
      && exited_within (self, 250))
    {
      g_autofree char *why = describe_exit (self);
      GError *e = g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                               "Firecracker for VM '%s' exited during %s %s (%s)", cfg_id (self),
                               st->method, st->path, why);
      g_error_free (error);
      return e;
    }
  return error;
}

static void
on_step_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  Seq *seq = g_task_get_task_data (task);
  const Step *st = seq->steps->pdata[seq->next];
  GError *error = NULL;
  JsonNode *reply = NULL;

  if (!banger_fc_client_call_finish (result, &reply, &error))
    {
      g_task_return_error (task, explain_failure (self, st, error));
      return;
    }
  if (seq->last_reply)
    json_node_unref (seq->last_reply);
  seq->last_reply = reply;
  seq->next++;
  seq_next (g_steal_pointer (&task));
}

static void
seq_next (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  Seq *seq = g_task_get_task_data (task);
  Step *st;

  if (seq->next >= seq->steps->len)
    {
      GError *error = NULL;
      if (seq->collect_state != NULL
          && (!banger_fc_jail_collect (self->jail_root_fd, NAME_SNAP_STATE, seq->collect_state,
                                       &error)
              || !banger_fc_jail_collect (self->jail_root_fd, NAME_SNAP_MEM, seq->collect_mem,
                                          &error)))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      if (seq->final_state != BANGER_VMM_STATE_NEW)
        banger_vmm_set_state (BANGER_VMM (self), seq->final_state);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (self->client == NULL)
    {
      /* the process was stopped or killed under us */
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "Firecracker for VM '%s' has exited", cfg_id (self));
      g_object_unref (task);
      return;
    }
  st = seq->steps->pdata[seq->next];
  banger_fc_client_call_async (self->client, st->method, st->path, st->body, st->timeout_ms,
                               g_task_get_cancellable (task), on_step_done, task);
}

static GTask *
new_task (BangerVmmFirecracker *self, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

/* Run @seq (taken); the task then completes with a boolean. */
static void
seq_run (BangerVmmFirecracker *self, Seq *seq, GCancellable *cancellable,
         GAsyncReadyCallback callback, gpointer user_data, gpointer tag)
{
  GTask *task = new_task (self, cancellable, callback, user_data, tag);

  g_task_set_task_data (task, seq, (GDestroyNotify) seq_free);
  if (self->client == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "Firecracker for VM '%s' has not been prepared", cfg_id (self));
      g_object_unref (task);
      return;
    }
  seq_next (task);
}

/* Refuse an operation in the wrong state, reporting through the callback. */
static gboolean
require_state (BangerVmmFirecracker *self, const char *what, GAsyncReadyCallback callback,
               gpointer user_data, gpointer tag, guint n, ...)
{
  BangerVmmState state = banger_vmm_get_state (BANGER_VMM (self));
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    if (va_arg (ap, int) == (int) state)
      {
        va_end (ap);
        return TRUE;
      }
  va_end (ap);
  g_task_report_new_error (self, callback, user_data, tag, BANGER_ERROR, BANGER_ERROR_BUSY,
                           "Cannot %s VM '%s' while it is %s", what, cfg_id (self),
                           banger_vmm_state_to_string (state));
  return FALSE;
}

/* ------------------------------------------------------------- JSON build */

static JsonNode *
obj_node (JsonBuilder *b)
{
  return json_builder_get_root (b);
}

#define B_BEGIN() g_autoptr (JsonBuilder) b = json_builder_new (); json_builder_begin_object (b)
#define B_STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define B_INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define B_BOOL(k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
#define B_END() (json_builder_end_object (b), obj_node (b))

static JsonNode *
body_action (const char *action)
{
  B_BEGIN ();
  B_STR ("action_type", action);
  return B_END ();
}

static JsonNode *
body_vm_state (const char *state)
{
  B_BEGIN ();
  B_STR ("state", state);
  return B_END ();
}

/* -------------------------------------------------------------- configure */

static void
banger_vmm_firecracker_configure (BangerVmm *vmm, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  const BangerVmmConfig *c = banger_vmm_get_config (vmm);
  guint t = self->timeouts[BANGER_FC_TIMEOUT_API];
  Seq *seq;

  if (!require_state (self, "configure", callback, user_data, banger_vmm_firecracker_configure, 1,
                      BANGER_VMM_STATE_LAUNCHED))
    return;
  seq = seq_new ();
  {
    B_BEGIN ();
    B_STR ("log_path", self->log_arg);
    B_STR ("level", "Info");
    B_BOOL ("show_level", TRUE);
    B_BOOL ("show_log_origin", FALSE);
    seq_add (seq, "PUT", "/logger", B_END (), t);
  }
  {
    B_BEGIN ();
    B_STR ("metrics_path", self->metrics_arg);
    seq_add (seq, "PUT", "/metrics", B_END (), t);
  }
  {
    B_BEGIN ();
    B_INT ("vcpu_count", c->vcpus);
    B_INT ("mem_size_mib", c->mem_mib);
    B_BOOL ("smt", FALSE);
    B_BOOL ("track_dirty_pages", self->track_dirty_pages);
    seq_add (seq, "PUT", "/machine-config", B_END (), t);
  }
  {
    g_autofree char *args = banger_vmm_build_boot_args (c, "ttyS0");
    B_BEGIN ();
    B_STR ("kernel_image_path", self->kernel_arg);
    B_STR ("boot_args", args);
    if (self->initrd_arg != NULL)
      B_STR ("initrd_path", self->initrd_arg);
    seq_add (seq, "PUT", "/boot-source", B_END (), t);
  }
  for (guint i = 0; i < c->drives->len; i++)
    {
      BangerVmmDrive *d = c->drives->pdata[i];
      g_autofree char *path = g_strconcat ("/drives/", d->id, NULL);
      B_BEGIN ();
      B_STR ("drive_id", d->id);
      B_STR ("path_on_host", self->drive_args->pdata[i]);
      B_BOOL ("is_root_device", d->is_root);
      B_BOOL ("is_read_only", d->read_only);
      seq_add (seq, "PUT", path, B_END (), t);
    }
  for (guint i = 0; i < c->nics->len; i++)
    {
      BangerVmmNic *n = c->nics->pdata[i];
      g_autofree char *path = g_strconcat ("/network-interfaces/", n->id, NULL);
      B_BEGIN ();
      B_STR ("iface_id", n->id);
      B_STR ("host_dev_name", n->tap);
      B_STR ("guest_mac", n->mac);
      seq_add (seq, "PUT", path, B_END (), t);
    }
  if (c->vsock_cid != 0)
    {
      B_BEGIN ();
      B_INT ("guest_cid", c->vsock_cid);
      B_STR ("uds_path", self->vsock_arg);
      seq_add (seq, "PUT", "/vsock", B_END (), t);
    }
  if (c->balloon_mib != 0)
    {
      B_BEGIN ();
      B_INT ("amount_mib", c->balloon_mib);
      B_BOOL ("deflate_on_oom", TRUE);
      B_INT ("stats_polling_interval_s", 1);
      seq_add (seq, "PUT", "/balloon", B_END (), t);
    }
  if (c->entropy)
    {
      B_BEGIN ();
      seq_add (seq, "PUT", "/entropy", B_END (), t);
    }
  if (c->mmds != NULL)
    {
      BangerVmmNic *n = c->nics->pdata[0];
      B_BEGIN ();
      B_STR ("version", "V2");
      json_builder_set_member_name (b, "network_interfaces");
      json_builder_begin_array (b);
      json_builder_add_string_value (b, n->id);
      json_builder_end_array (b);
      seq_add (seq, "PUT", "/mmds/config", B_END (), t);
      seq_add (seq, "PUT", "/mmds", json_node_copy (c->mmds), t);
    }
  seq->final_state = BANGER_VMM_STATE_CONFIGURED;
  seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_configure);
}

static void
banger_vmm_firecracker_start (BangerVmm *vmm, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!require_state (self, "start", callback, user_data, banger_vmm_firecracker_start, 1,
                      BANGER_VMM_STATE_CONFIGURED))
    return;
  seq = seq_new ();
  seq_add (seq, "PUT", "/actions", body_action ("InstanceStart"),
           self->timeouts[BANGER_FC_TIMEOUT_START]);
  seq->final_state = BANGER_VMM_STATE_RUNNING;
  seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_start);
}

static void
banger_vmm_firecracker_pause (BangerVmm *vmm, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!require_state (self, "pause", callback, user_data, banger_vmm_firecracker_pause, 2,
                      BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = seq_new ();
  seq_add (seq, "PATCH", "/vm", body_vm_state ("Paused"), self->timeouts[BANGER_FC_TIMEOUT_API]);
  seq->final_state = BANGER_VMM_STATE_PAUSED;
  seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_pause);
}

static void
banger_vmm_firecracker_resume (BangerVmm *vmm, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!require_state (self, "resume", callback, user_data, banger_vmm_firecracker_resume, 2,
                      BANGER_VMM_STATE_PAUSED, BANGER_VMM_STATE_RUNNING))
    return;
  seq = seq_new ();
  seq_add (seq, "PATCH", "/vm", body_vm_state ("Resumed"),
           self->timeouts[BANGER_FC_TIMEOUT_RESUME]);
  seq->final_state = BANGER_VMM_STATE_RUNNING;
  seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_resume);
}

/* ---------------------------------------------------------------- snapshot */

static void
banger_vmm_firecracker_snapshot_create (BangerVmm *vmm, const char *snapshot_path,
                                        const char *mem_path, gboolean diff,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  gpointer tag = banger_vmm_firecracker_snapshot_create;
  Seq *seq;

  if (!require_state (self, "snapshot", callback, user_data, tag, 1, BANGER_VMM_STATE_PAUSED))
    return;
  if (!g_path_is_absolute (snapshot_path) || !g_path_is_absolute (mem_path))
    {
      g_task_report_new_error (self, callback, user_data, tag, BANGER_ERROR,
                               BANGER_ERROR_INVALID_ARGUMENT,
                               "Snapshot paths must be absolute");
      return;
    }
  seq = seq_new ();
  {
    B_BEGIN ();
    B_STR ("snapshot_type", diff ? "Diff" : "Full");
    if (self->jail_root != NULL)
      {
        /* Firecracker writes inside its jail; we move the files out */
        B_STR ("snapshot_path", "/" NAME_SNAP_STATE);
        B_STR ("mem_file_path", "/" NAME_SNAP_MEM);
        seq->collect_state = g_strdup (snapshot_path);
        seq->collect_mem = g_strdup (mem_path);
      }
    else
      {
        B_STR ("snapshot_path", snapshot_path);
        B_STR ("mem_file_path", mem_path);
      }
    seq_add (seq, "PUT", "/snapshot/create", B_END (), self->timeouts[BANGER_FC_TIMEOUT_SNAPSHOT]);
  }
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

static void
banger_vmm_firecracker_snapshot_load (BangerVmm *vmm, const char *snapshot_path,
                                      const char *mem_path, gboolean resume,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  const BangerVmmConfig *c = banger_vmm_get_config (vmm);
  gpointer tag = banger_vmm_firecracker_snapshot_load;
  GError *error = NULL;
  const char *state_arg = snapshot_path;
  const char *mem_arg = mem_path;
  Seq *seq;

  /* Firecracker loads a snapshot only into a fresh process */
  if (!require_state (self, "load a snapshot into", callback, user_data, tag, 1,
                      BANGER_VMM_STATE_LAUNCHED))
    return;
  if (self->jail_root != NULL)
    {
      if (!banger_fc_jail_stage (self->jail_root_fd, snapshot_path, NAME_RESTORE_STATE, FALSE,
                                 self->jailer, &error)
          || !banger_fc_jail_stage (self->jail_root_fd, mem_path, NAME_RESTORE_MEM, FALSE,
                                    self->jailer, &error))
        {
          g_task_report_error (self, callback, user_data, tag, error);
          return;
        }
      state_arg = "/" NAME_RESTORE_STATE;
      mem_arg = "/" NAME_RESTORE_MEM;
    }
  seq = seq_new ();
  {
    B_BEGIN ();
    B_STR ("snapshot_path", state_arg);
    json_builder_set_member_name (b, "mem_backend");
    json_builder_begin_object (b);
    B_STR ("backend_type", "File");
    B_STR ("backend_path", mem_arg);
    json_builder_end_object (b);
    B_BOOL ("resume_vm", resume);
    if (self->track_dirty_pages)
      B_BOOL ("track_dirty_pages", TRUE);
    if (c->nics->len > 0)
      {
        /* the restored VM may sit on other taps than the snapshotted one */
        json_builder_set_member_name (b, "network_overrides");
        json_builder_begin_array (b);
        for (guint i = 0; i < c->nics->len; i++)
          {
            BangerVmmNic *n = c->nics->pdata[i];
            json_builder_begin_object (b);
            B_STR ("iface_id", n->id);
            B_STR ("host_dev_name", n->tap);
            json_builder_end_object (b);
          }
        json_builder_end_array (b);
      }
    if (c->vsock_cid != 0)
      {
        json_builder_set_member_name (b, "vsock_override");
        json_builder_begin_object (b);
        B_STR ("uds_path", self->vsock_arg);
        json_builder_end_object (b);
      }
    seq_add (seq, "PUT", "/snapshot/load", B_END (), self->timeouts[BANGER_FC_TIMEOUT_SNAPSHOT]);
  }
  seq->final_state = resume ? BANGER_VMM_STATE_RUNNING : BANGER_VMM_STATE_PAUSED;
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

/* ------------------------------------------------------------------ extras */

void
banger_vmm_firecracker_set_balloon (BangerVmmFirecracker *self, guint amount_mib,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_set_balloon;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!require_state (self, "resize the balloon of", callback, user_data, tag, 2,
                      BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = seq_new ();
  {
    B_BEGIN ();
    B_INT ("amount_mib", amount_mib);
    seq_add (seq, "PATCH", "/balloon", B_END (), self->timeouts[BANGER_FC_TIMEOUT_API]);
  }
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_flush_metrics (BangerVmmFirecracker *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_flush_metrics;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!require_state (self, "flush the metrics of", callback, user_data, tag, 2,
                      BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = seq_new ();
  seq_add (seq, "PUT", "/actions", body_action ("FlushMetrics"),
           self->timeouts[BANGER_FC_TIMEOUT_API]);
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_patch_mmds (BangerVmmFirecracker *self, JsonNode *patch,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_patch_mmds;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  g_return_if_fail (patch != NULL && JSON_NODE_HOLDS_OBJECT (patch));
  seq = seq_new ();
  seq_add (seq, "PATCH", "/mmds", json_node_copy (patch), self->timeouts[BANGER_FC_TIMEOUT_API]);
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
banger_vmm_firecracker_get_balloon_stats (BangerVmmFirecracker *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  gpointer tag = banger_vmm_firecracker_get_balloon_stats;
  Seq *seq;

  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  if (!require_state (self, "read the balloon of", callback, user_data, tag, 2,
                      BANGER_VMM_STATE_RUNNING, BANGER_VMM_STATE_PAUSED))
    return;
  seq = seq_new ();
  seq_add (seq, "GET", "/balloon/statistics", NULL, self->timeouts[BANGER_FC_TIMEOUT_API]);
  seq_run (self, seq, cancellable, callback, user_data, tag);
}

JsonObject *
banger_vmm_firecracker_get_balloon_stats_finish (BangerVmmFirecracker *self,
                                                 GAsyncResult *result, GError **error)
{
  Seq *seq;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  seq = g_task_get_task_data (G_TASK (result));
  if (seq == NULL || seq->last_reply == NULL || !JSON_NODE_HOLDS_OBJECT (seq->last_reply))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "Firecracker's balloon statistics are not a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (seq->last_reply));
}

/* ----------------------------------------------------------- refresh state */

static void
on_state_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BangerVmm *vmm = g_task_get_source_object (task);
  g_autoptr (JsonNode) reply = NULL;
  GError *error = NULL;
  const char *state;

  if (!banger_fc_client_call_finish (result, &reply, &error))
    {
      Step st = { (char *) "GET", (char *) "/", NULL, 0 };
      g_task_return_error (task, explain_failure (BANGER_VMM_FIRECRACKER (vmm), &st, error));
      return;
    }
  state = (reply && JSON_NODE_HOLDS_OBJECT (reply))
              ? json_object_get_string_member_with_default (json_node_get_object (reply),
                                                            "state", NULL)
              : NULL;
  if (state == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker's GET / answer has no state");
      return;
    }
  if (g_str_equal (state, "Running"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_RUNNING);
  else if (g_str_equal (state, "Paused"))
    banger_vmm_set_state (vmm, BANGER_VMM_STATE_PAUSED);
  else if (!g_str_equal (state, "Not started"))
    {
      g_autofree char *q = banger_quote (state);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker reports an unknown state '%s'", q);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
banger_vmm_firecracker_refresh_state (BangerVmm *vmm, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  GTask *task = new_task (self, cancellable, callback, user_data,
                          banger_vmm_firecracker_refresh_state);

  if (banger_vmm_has_exited (vmm) || self->client == NULL)
    {
      /* has_exited() already moved the state to EXITED */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  banger_fc_client_call_async (self->client, "GET", "/", NULL,
                               self->timeouts[BANGER_FC_TIMEOUT_API], cancellable,
                               on_state_reply, task);
}

/* ------------------------------------------------------------------ launch */

typedef struct
{
  GSource *tick;
  GSource *exit_watch;
  GSource *dir_watch; /* inotify on the socket's directory: no polling delay */
  int inotify_fd;
  gint64 deadline;
  gboolean probing;
  gboolean have_fc_pid;
} LaunchData;

static void drop_source (GSource **source);

static void
launch_data_free (LaunchData *d)
{
  drop_source (&d->dir_watch);
  if (d->inotify_fd >= 0)
    close (d->inotify_fd);
  drop_source (&d->tick);
  drop_source (&d->exit_watch);
  g_free (d);
}

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_source_unref (*source);
  *source = NULL;
}

/* Reap the jailer when it is a separate process that has finished. */
static void
reap_jailer (BangerVmmFirecracker *self)
{
  siginfo_t info = { 0 };

  if (self->jailer_pidfd < 0)
    return;
  if (waitid ((idtype_t) P_PIDFD, (id_t) self->jailer_pidfd, &info, WEXITED | WNOHANG) == 0
      && info.si_pid != 0)
    {
      close (self->jailer_pidfd);
      self->jailer_pidfd = -1;
    }
  else if (errno == ECHILD)
    {
      close (self->jailer_pidfd);
      self->jailer_pidfd = -1;
    }
}

static void
launch_fail (GTask *task, GError *error)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  int pidfd = banger_vmm_get_pidfd (BANGER_VMM (self));

  /* a failed launch leaves nothing running */
  if (pidfd >= 0 && !banger_vmm_has_exited (BANGER_VMM (self)))
    {
      struct pollfd p = { pidfd, POLLIN, 0 };
      pidfd_signal (pidfd, SIGKILL);
      poll (&p, 1, 2000);
      banger_vmm_has_exited (BANGER_VMM (self));
    }
  if (self->jailer_pidfd >= 0)
    {
      pidfd_signal (self->jailer_pidfd, SIGKILL);
      reap_jailer (self);
    }
  g_task_return_error (task, error);
}

static gboolean launch_tick (gpointer user_data);

static gboolean
launch_on_exit (int fd, GIOCondition cond, gpointer user_data)
{
  return launch_tick (user_data);
}

static gboolean
launch_on_dir_event (int fd, GIOCondition cond, gpointer user_data)
{
  char buf[4096];

  while (read (fd, buf, sizeof buf) > 0)
    ;
  launch_tick (user_data);
  /* the tick source owns the end of the launch; this one stays until the
   * task data goes */
  return G_SOURCE_CONTINUE;
}

static void
on_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  LaunchData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) reply = NULL;

  d->probing = FALSE;
  if (g_task_get_completed (task) || g_task_had_error (task))
    {
      g_object_unref (task);
      return;
    }
  if (banger_fc_client_call_finish (result, &reply, &error))
    {
      /* (the tick's destroy drops its ref; the probe holds another) */
      drop_source (&d->tick);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_LAUNCHED);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if (error->code == BANGER_ERROR_VMM)
    {
      /* it answered, but refused GET /: not a Firecracker we can drive */
      drop_source (&d->tick);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      launch_fail (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  /* not listening yet (or the probe timed out): the tick tries again */
  g_object_unref (task);
}

static gboolean
is_jailed_firecracker (GPid pid, const char *vm_id)
{
  g_auto (GStrv) argv = banger_proc_read_cmdline (pid, NULL);
  g_autofree char *want = g_strconcat ("--id=", vm_id, NULL);

  for (guint i = 0; argv != NULL && argv[i] != NULL; i++)
    if (g_str_equal (argv[i], want))
      return TRUE;
  return FALSE;
}

/* TRUE when the launch is over (the task has been completed). */
static gboolean
launch_check (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  LaunchData *d = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  struct stat st;

  if (g_cancellable_is_cancelled (cancellable))
    {
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                      "Launching Firecracker for VM '%s' was cancelled",
                                      cfg_id (self)));
      return TRUE;
    }

  if (!d->have_fc_pid)
    {
      /* jailed: the Firecracker pid is in root/firecracker.pid.  Without
       * --new-pid-ns it is the jailer's own pid (the jailer exec()s);
       * with it, a child in a new pid namespace, and the jailer exits. */
      GPid fc_pid = 0;
      if (banger_fc_jail_read_pid (self->jail_root_fd, self->fc_path, &fc_pid, NULL))
        {
          if (fc_pid != banger_vmm_get_pid (vmm))
            {
              int fc_pidfd = banger_pidfd_open (fc_pid);
              if (fc_pidfd < 0)
                {
                  launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                                  "Firecracker (pid %d from the jail's pid "
                                                  "file) is gone: %s",
                                                  fc_pid, g_strerror (errno)));
                  return TRUE;
                }
              /* the pidfd pins the process; make sure it is this VM's
               * Firecracker (the jailer execs it with --id=<id>), not
               * whatever got the pid when ours died.  Right after the
               * jailer's clone() the child may not have exec'd yet: look
               * again on the next tick (a wrong pid ends in the timeout). */
              if (!is_jailed_firecracker (fc_pid, cfg_id (self)))
                {
                  close (fc_pidfd);
                  /* the jailer has likely exited: its pidfd stays readable,
                   * so stop watching it and let the tick poll */
                  if (banger_vmm_has_exited (vmm))
                    drop_source (&d->exit_watch);
                  return FALSE;
                }
              /* keep the jailer's pidfd to reap it; Firecracker becomes the
               * process of record (drop the watch before its fd closes) */
              drop_source (&d->exit_watch);
              self->jailer_pid = banger_vmm_get_pid (vmm);
              self->jailer_pidfd = fcntl (banger_vmm_get_pidfd (vmm), F_DUPFD_CLOEXEC, 3);
              banger_vmm_set_process (vmm, fc_pid, fc_pidfd);
              d->exit_watch = g_unix_fd_source_new (fc_pidfd, G_IO_IN);
              g_source_set_callback (d->exit_watch,
                                     (GSourceFunc) (void (*) (void)) launch_on_exit, task, NULL);
              g_source_attach (d->exit_watch, g_main_context_get_thread_default ());
              reap_jailer (self);
            }
          d->have_fc_pid = TRUE;
        }
      else if (banger_vmm_has_exited (vmm))
        {
          g_autofree char *why = describe_exit (self);
          launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                          "The jailer for VM '%s' exited before starting "
                                          "Firecracker (%s)",
                                          cfg_id (self), why));
          return TRUE;
        }
    }

  if (d->have_fc_pid && banger_vmm_has_exited (vmm))
    {
      g_autofree char *why = describe_exit (self);
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_FAILED,
                                      "Firecracker for VM '%s' exited before its API socket "
                                      "answered (%s)",
                                      cfg_id (self), why));
      return TRUE;
    }

  if (g_get_monotonic_time () >= d->deadline)
    {
      launch_fail (task, g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                      "Firecracker's API socket '%s' for VM '%s' did not "
                                      "answer within %u ms",
                                      self->api_sock_host, cfg_id (self),
                                      self->timeouts[BANGER_FC_TIMEOUT_SOCKET]));
      return TRUE;
    }

  if (d->have_fc_pid && !d->probing && stat (self->api_sock_host, &st) == 0
      && S_ISSOCK (st.st_mode))
    {
      d->probing = TRUE;
      banger_fc_client_call_async (self->client, "GET", "/", NULL, PROBE_TIMEOUT_MS, NULL,
                                   on_probe_done, g_object_ref (task));
    }
  return FALSE;
}

static gboolean
launch_tick (gpointer user_data)
{
  GTask *task = user_data;
  LaunchData *d = g_task_get_task_data (task);

  if (g_task_get_completed (task) || g_task_had_error (task))
    return G_SOURCE_REMOVE;
  if (launch_check (task))
    {
      /* completed: drop the sources, and with the tick its ref on the
       * task (hold one of our own meanwhile: we may have been called from
       * another source, and the task data must outlive the drops) */
      g_object_ref (task);
      drop_source (&d->exit_watch);
      drop_source (&d->dir_watch);
      drop_source (&d->tick);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
banger_vmm_firecracker_launch (BangerVmm *vmm, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  BangerVmmLauncher *launcher = banger_vmm_get_launcher (vmm);
  GTask *task;
  LaunchData *d;
  GError *error = NULL;
  GPid pid = 0;
  int pidfd = -1;

  if (!require_state (self, "launch", callback, user_data, banger_vmm_firecracker_launch, 1,
                      BANGER_VMM_STATE_PREPARED))
    return;
  task = new_task (self, cancellable, callback, user_data, banger_vmm_firecracker_launch);
  if (!launcher->spawn (launcher, cfg_id (self), (const char *const *) self->argv,
                        self->output_path, &pid, &pidfd, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  banger_vmm_set_process (vmm, pid, pidfd);
  if (self->log_fifo_fd >= 0 && self->log_drain == NULL)
    {
      /* drained whenever this context runs (and on stats, stop and kill) */
      self->log_drain = g_unix_fd_source_new (self->log_fifo_fd, G_IO_IN);
      g_source_set_callback (self->log_drain,
                             (GSourceFunc) (void (*) (void)) on_log_readable, self, NULL);
      g_source_attach (self->log_drain, g_main_context_get_thread_default ());
    }

  d = g_new0 (LaunchData, 1);
  d->inotify_fd = -1;
  d->deadline = g_get_monotonic_time ()
                + (gint64) self->timeouts[BANGER_FC_TIMEOUT_SOCKET] * G_TIME_SPAN_MILLISECOND;
  d->have_fc_pid = (self->jailer == NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) launch_data_free);
  /* the task owns one ref, held by the sources until completion */
  d->tick = g_timeout_source_new (5);
  g_source_set_callback (d->tick, launch_tick, task, g_object_unref);
  g_source_attach (d->tick, g_main_context_get_thread_default ());
  /* wake at once when the process dies */
  d->exit_watch = g_unix_fd_source_new (pidfd, G_IO_IN);
  g_source_set_callback (d->exit_watch, (GSourceFunc) (void (*) (void)) launch_on_exit, task,
                         NULL);
  g_source_attach (d->exit_watch, g_main_context_get_thread_default ());
  /* ... and when something is created next to the socket (the socket, the
   * jailer's pid file); the tick stays as the fallback */
  d->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (d->inotify_fd >= 0)
    {
      g_autofree char *dir = g_path_get_dirname (self->api_sock_host);
      if (inotify_add_watch (d->inotify_fd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) >= 0)
        {
          d->dir_watch = g_unix_fd_source_new (d->inotify_fd, G_IO_IN);
          g_source_set_callback (d->dir_watch,
                                 (GSourceFunc) (void (*) (void)) launch_on_dir_event, task,
                                 NULL);
          g_source_attach (d->dir_watch, g_main_context_get_thread_default ());
        }
    }
}

/* -------------------------------------------------------------- stop ladder */

typedef enum
{
  RUNG_CTRL_ALT_DEL,
  RUNG_TERM,
  RUNG_KILL,
} Rung;

typedef struct
{
  Rung rung;
  GSource *timer;
  GSource *watch;
} StopData;

static void
stop_sources_clear (StopData *d)
{
  if (d->timer)
    {
      g_source_destroy (d->timer);
      g_clear_pointer (&d->timer, g_source_unref);
    }
  if (d->watch)
    {
      g_source_destroy (d->watch);
      g_clear_pointer (&d->watch, g_source_unref);
    }
}

static void
stop_data_free (StopData *d)
{
  stop_sources_clear (d);
  g_free (d);
}

static void stop_rung (GTask *task);

static gboolean
finish_exited (BangerVmmFirecracker *self, GError **error)
{
  reap_jailer (self);
  drain_log (self);
  g_clear_pointer (&self->client, banger_fc_client_free);
  /* Firecracker leaves its socket behind; it may live outside the run dir
   * (a hashed name, when the run dir is too long for sun_path) */
  if (self->jailer == NULL && self->api_sock_host != NULL)
    remove_stale_socket (self->api_sock_host, NULL);
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jail_remove (self->jailer, self->fc_path, cfg_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  banger_vmm_set_state (BANGER_VMM (self), BANGER_VMM_STATE_EXITED);
  return TRUE;
}

static void
stop_done (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  GError *error = NULL;

  stop_sources_clear (g_task_get_task_data (task));
  if (!finish_exited (self, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_stop_exit (int fd, GIOCondition cond, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);

  if (!banger_vmm_has_exited (BANGER_VMM (self)))
    return G_SOURCE_CONTINUE;
  stop_done (task);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_timer (gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  StopData *d = g_task_get_task_data (task);

  g_clear_pointer (&d->timer, g_source_unref);
  if (banger_vmm_has_exited (BANGER_VMM (self)))
    {
      stop_done (task);
      return G_SOURCE_REMOVE;
    }
  if (d->rung == RUNG_KILL)
    {
      stop_sources_clear (d);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                               "Firecracker for VM '%s' (pid %d) survived SIGKILL for %d s",
                               cfg_id (self), banger_vmm_get_pid (BANGER_VMM (self)),
                               KILL_WAIT_S);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  d->rung++;
  stop_rung (task);
  return G_SOURCE_REMOVE;
}

/* Wait for the exit or @ms, then on_stop_timer moves one rung down. */
static void
stop_wait (GTask *task, guint ms)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  StopData *d = g_task_get_task_data (task);

  if (d->watch == NULL)
    {
      d->watch = g_unix_fd_source_new (banger_vmm_get_pidfd (BANGER_VMM (self)), G_IO_IN);
      g_source_set_callback (d->watch, (GSourceFunc) (void (*) (void)) on_stop_exit, task, NULL);
      g_source_attach (d->watch, g_main_context_get_thread_default ());
    }
  d->timer = g_timeout_source_new (ms);
  g_source_set_callback (d->timer, on_stop_timer, task, NULL);
  g_source_attach (d->timer, g_main_context_get_thread_default ());
}

static void
on_ctrl_alt_del_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;

  /* a refusal (or a process already exiting) only means we wait less */
  banger_fc_client_call_finish (result, NULL, &error);
  if (banger_vmm_has_exited (BANGER_VMM (self)))
    {
      stop_done (task);
      return;
    }
  stop_wait (task, banger_vmm_get_stop_timeout (BANGER_VMM (self)) * 1000);
}

static void
stop_rung (GTask *task)
{
  BangerVmmFirecracker *self = g_task_get_source_object (task);
  BangerVmm *vmm = BANGER_VMM (self);
  StopData *d = g_task_get_task_data (task);
  int pidfd = banger_vmm_get_pidfd (vmm);

  switch (d->rung)
    {
    case RUNG_CTRL_ALT_DEL:
      /* only a booted x86 guest can take Ctrl-Alt-Del; a paused one cannot
       * act on it */
      if (banger_vmm_get_state (vmm) == BANGER_VMM_STATE_RUNNING && self->client != NULL)
        {
          g_autoptr (JsonNode) body = body_action ("SendCtrlAltDel");
          self->stop_method = "ctrl-alt-del";
          banger_fc_client_call_async (self->client, "PUT", "/actions", body,
                                       CTRL_ALT_DEL_TIMEOUT_MS, NULL, on_ctrl_alt_del_sent,
                                       task);
          return;
        }
      d->rung = RUNG_TERM;
      G_GNUC_FALLTHROUGH;
    case RUNG_TERM:
      /* Under the jailer with --new-pid-ns, Firecracker is PID 1 of its pid
       * namespace: the kernel drops signals from an ancestor namespace that
       * PID 1 has no handler for, and Firecracker installs none for TERM.
       * TERM would only burn the timeout; go to KILL. */
      if (!(self->jailer != NULL && self->jailer->new_pid_ns))
        {
          self->stop_method = "term";
          if (pidfd_signal (pidfd, SIGTERM) < 0 && errno != ESRCH)
            {
              d->rung = RUNG_KILL;
              stop_rung (task);
              return;
            }
          stop_wait (task, banger_vmm_get_stop_timeout (vmm) * 1000);
          return;
        }
      d->rung = RUNG_KILL;
      G_GNUC_FALLTHROUGH;
    case RUNG_KILL:
      self->stop_method = "kill";
      if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        {
          int errsv = errno;
          stop_sources_clear (d);
          g_task_return_new_error (task, BANGER_ERROR, banger_error_code_from_errno (errsv),
                                   "Cannot kill Firecracker for VM '%s': %s", cfg_id (self),
                                   g_strerror (errsv));
          g_object_unref (task);
          return;
        }
      stop_wait (task, KILL_WAIT_S * 1000);
      return;
    }
}

static void
banger_vmm_firecracker_stop (BangerVmm *vmm, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  GTask *task = new_task (self, cancellable, callback, user_data, banger_vmm_firecracker_stop);
  StopData *d = g_new0 (StopData, 1);

  g_task_set_task_data (task, d, (GDestroyNotify) stop_data_free);
  if (banger_vmm_get_pidfd (vmm) < 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                               "Firecracker for VM '%s' has not been launched", cfg_id (self));
      g_object_unref (task);
      return;
    }
  if (banger_vmm_has_exited (vmm))
    {
      self->stop_method = "already-exited";
      stop_done (task);
      return;
    }
  d->rung = RUNG_CTRL_ALT_DEL;
  stop_rung (task);
}

static gboolean
banger_vmm_firecracker_kill (BangerVmm *vmm, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  int pidfd = banger_vmm_get_pidfd (vmm);
  gint64 deadline = g_get_monotonic_time () + KILL_WAIT_S * G_TIME_SPAN_SECOND;

  if (pidfd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Firecracker for VM '%s' has not been launched", cfg_id (self));
      return FALSE;
    }
  if (!banger_vmm_has_exited (vmm))
    {
      self->stop_method = "kill";
      if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
        return banger_set_error_from_errno (error, errno,
                                            "Cannot kill Firecracker for VM '%s'", cfg_id (self));
      while (!banger_vmm_has_exited (vmm))
        {
          struct pollfd p = { pidfd, POLLIN, 0 };
          gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
          if (left <= 0)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                           "Firecracker for VM '%s' survived SIGKILL for %d s", cfg_id (self),
                           KILL_WAIT_S);
              return FALSE;
            }
          poll (&p, 1, (int) MIN (left, 100));
        }
    }
  return finish_exited (self, error);
}

gboolean
banger_vmm_firecracker_cleanup (BangerVmmFirecracker *self, GError **error)
{
  g_return_val_if_fail (BANGER_IS_VMM_FIRECRACKER (self), FALSE);
  if (banger_vmm_get_pidfd (BANGER_VMM (self)) >= 0 && !banger_vmm_has_exited (BANGER_VMM (self)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "Firecracker for VM '%s' is still running", cfg_id (self));
      return FALSE;
    }
  if (self->jailer != NULL && !self->jail_removed)
    {
      if (!banger_fc_jailer_config_validate (self->jailer, error)
          || !banger_fc_jail_remove (self->jailer, self->fc_path, cfg_id (self), error))
        return FALSE;
      self->jail_removed = TRUE;
    }
  reap_jailer (self);
  return TRUE;
}

/* ------------------------------------------------------------------- stats */

static gboolean
banger_vmm_firecracker_read_stats (BangerVmm *vmm, BangerVmmStats *out, GError **error)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  BangerVmmStats s = { 0 };
  const BangerFcMetricsTotals *t;

  if (banger_vmm_get_pidfd (vmm) < 0 || banger_vmm_has_exited (vmm))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Firecracker for VM '%s' is not running", cfg_id (self));
      return FALSE;
    }
  drain_log (self);
  if (!banger_vmm_proc_stats_read (banger_vmm_get_pid (vmm), &s, error))
    return FALSE;
  if (self->metrics != NULL)
    {
      if (!banger_fc_metrics_update (self->metrics, error))
        return FALSE;
      t = banger_fc_metrics_get_totals (self->metrics);
      s.net_rx_bytes = t->net_rx_bytes;
      s.net_tx_bytes = t->net_tx_bytes;
      s.block_read_bytes = t->block_read_bytes;
      s.block_write_bytes = t->block_write_bytes;
    }
  *out = s;
  return TRUE;
}

/* -------------------------------------------------------------------- class */

static void
banger_vmm_firecracker_class_init (BangerVmmFirecrackerClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  BangerVmmClass *vc = BANGER_VMM_CLASS (klass);

  oc->finalize = banger_vmm_firecracker_finalize;
  vc->driver_name = "firecracker";
  vc->prepare = banger_vmm_firecracker_prepare;
  vc->launch = banger_vmm_firecracker_launch;
  vc->configure = banger_vmm_firecracker_configure;
  vc->start = banger_vmm_firecracker_start;
  vc->pause = banger_vmm_firecracker_pause;
  vc->resume = banger_vmm_firecracker_resume;
  vc->stop = banger_vmm_firecracker_stop;
  vc->snapshot_create = banger_vmm_firecracker_snapshot_create;
  vc->snapshot_load = banger_vmm_firecracker_snapshot_load;
  vc->refresh_state = banger_vmm_firecracker_refresh_state;
  vc->kill = banger_vmm_firecracker_kill;
  vc->read_stats = banger_vmm_firecracker_read_stats;
}

static void
banger_vmm_firecracker_init (BangerVmmFirecracker *self)
{
  memcpy (self->timeouts, default_timeouts, sizeof self->timeouts);
  self->jail_root_fd = -1;
  self->jailer_pidfd = -1;
  self->log_fifo_fd = -1;
  self->log_file_fd = -1;
  self->drive_args = g_ptr_array_new_with_free_func (g_free);
}
