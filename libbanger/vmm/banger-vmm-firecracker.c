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
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "banger-pidfd.h"
#include "banger-error-private.h"
#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-proc.h"
#include "banger-quote.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-firecracker-private.h"

static const guint default_timeouts[BANGER_FC_TIMEOUT_N] = {
  [BANGER_FC_TIMEOUT_API] = 5000,
  [BANGER_FC_TIMEOUT_START] = 15000,
  [BANGER_FC_TIMEOUT_RESUME] = 30000,
  [BANGER_FC_TIMEOUT_SNAPSHOT] = 120000,
  [BANGER_FC_TIMEOUT_SOCKET] = 5000,
};

G_DEFINE_FINAL_TYPE (BangerVmmFirecracker, banger_vmm_firecracker, BANGER_TYPE_VMM)

const char *
banger_fc_vm_id (BangerVmmFirecracker *self)
{
  return banger_vmm_get_config (BANGER_VMM (self))->vm_id;
}

/* ------------------------------------------------------------ small utils */

int
banger_fc_pidfd_signal (int pidfd, int sig)
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

char *
banger_fc_describe_exit (BangerVmmFirecracker *self)
{
  g_autofree char *tail = output_tail (self);
  return g_strdup_printf ("%s; see %s", tail, self->output_path);
}

/* ------------------------------------------------------------- log FIFO */

/* Move what Firecracker wrote to the logger FIFO into the log file (up to
 * LOG_FILE_MAX; beyond that it is read and dropped, so Firecracker's
 * non-blocking writes never fill the pipe). */
void
banger_fc_drain_log (BangerVmmFirecracker *self)
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

gboolean
banger_fc_on_log_readable (int fd, GIOCondition cond, gpointer user_data)
{
  banger_fc_drain_log (user_data);
  return G_SOURCE_CONTINUE;
}

void
banger_fc_close_log_fifo (BangerVmmFirecracker *self)
{
  if (self->log_drain != NULL)
    {
      g_source_destroy (self->log_drain);
      g_clear_pointer (&self->log_drain, g_source_unref);
    }
  banger_fc_drain_log (self);
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
  banger_fc_close_log_fifo (self);
  g_free (self->metrics_arg);
  g_free (self->metrics_host);
  g_free (self->vsock_arg);
  g_free (self->vsock_host);
  g_free (self->kernel_arg);
  g_free (self->restore_state);
  g_free (self->restore_mem);
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

void
banger_vmm_firecracker_set_api_payload_limit (BangerVmmFirecracker *self, guint bytes)
{
  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  self->api_payload_limit = bytes;
}

void
banger_vmm_firecracker_set_mmds_size_limit (BangerVmmFirecracker *self, guint bytes)
{
  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  self->mmds_size_limit = bytes;
}

guint
banger_vmm_firecracker_get_mmds_limit (BangerVmmFirecracker *self)
{
  g_return_val_if_fail (BANGER_IS_VMM_FIRECRACKER (self), 0);
  return banger_fc_mmds_limit (self);
}

void
banger_vmm_firecracker_set_clock_realtime (BangerVmmFirecracker *self, gboolean realtime)
{
  g_return_if_fail (BANGER_IS_VMM_FIRECRACKER (self));
  self->clock_realtime = realtime;
}

char *
banger_vmm_firecracker_snapshot_devices_path (const char *snapshot_path)
{
  return g_strconcat (snapshot_path, ".devices.json", NULL);
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

void
banger_vmm_firecracker_set_restore_files (BangerVmmFirecracker *self, const char *state,
                                          const char *mem)
{
  g_free (self->restore_state);
  g_free (self->restore_mem);
  self->restore_state = g_strdup (state);
  self->restore_mem = g_strdup (mem);
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
  return banger_vmm_get_stop_method (BANGER_VMM (self));
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
                   "Firecracker for VM '%s' is not running", banger_fc_vm_id (self));
      return FALSE;
    }
  banger_fc_drain_log (self);
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
