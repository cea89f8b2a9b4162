/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: snapshot create (paused) and load (into a fresh
 * process), through the jail when there is one. */
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

/* ---------------------------------------------------------------- snapshot */

void
banger_vmm_firecracker_snapshot_create (BangerVmm *vmm, const char *snapshot_path,
                                        const char *mem_path, gboolean diff,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  gpointer tag = banger_vmm_firecracker_snapshot_create;
  Seq *seq;

  if (!banger_fc_require_state (self, "snapshot", callback, user_data, tag, 1,
                                BANGER_VMM_STATE_PAUSED))
    return;
  if (!g_path_is_absolute (snapshot_path) || !g_path_is_absolute (mem_path))
    {
      g_task_report_new_error (self, callback, user_data, tag, BANGER_ERROR,
                               BANGER_ERROR_INVALID_ARGUMENT,
                               "Snapshot paths must be absolute");
      return;
    }
  seq = banger_fc_seq_new ();
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
    banger_fc_seq_add (seq, "PUT", "/snapshot/create", B_END (),
                       self->timeouts[BANGER_FC_TIMEOUT_SNAPSHOT]);
  }
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}

void
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
  if (!banger_fc_require_state (self, "load a snapshot into", callback, user_data, tag, 1,
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
  seq = banger_fc_seq_new ();
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
    banger_fc_seq_add (seq, "PUT", "/snapshot/load", B_END (),
                       self->timeouts[BANGER_FC_TIMEOUT_SNAPSHOT]);
  }
  seq->final_state = resume ? BANGER_VMM_STATE_RUNNING : BANGER_VMM_STATE_PAUSED;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}
