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

/* The devices a snapshot holds that a restore must name again: the iface
 * ids (network_overrides may only name these) and whether there is a vsock
 * (vsock_override needs one).  Firecracker keeps them inside its state
 * file, in a format that is not an API; we keep our own record next to it. */
static char *
devices_record (BangerVmmFirecracker *self, const BangerVmmConfig *c)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  B_BEGIN ();
  B_INT ("version", 1);
  json_builder_set_member_name (b, "ifaces");
  json_builder_begin_array (b);
  for (guint i = 0; i < c->nics->len; i++)
    json_builder_add_string_value (b, ((BangerVmmNic *) c->nics->pdata[i])->id);
  json_builder_end_array (b);
  B_BOOL ("vsock", c->vsock_cid != 0);
  B_BOOL ("mmds", c->mmds != NULL);
  /* jailed: the drive paths inside the state file are chroot-relative */
  B_BOOL ("jailed", self->jail_root != NULL);
  root = B_END ();
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static gboolean
strv_has (JsonArray *a, const char *s)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
          && g_str_equal (json_node_get_string (n), s))
        return TRUE;
    }
  return FALSE;
}

/* The new config's NICs must be the snapshot's ifaces, each overridden
 * (an iface left out would reopen the snapshotted VM's own tap), and a
 * vsock override needs the snapshot to have a vsock. */
static gboolean
check_against_snapshot (BangerVmmFirecracker *self, const char *snapshot_path, GError **error)
{
  const BangerVmmConfig *c = banger_vmm_get_config (BANGER_VMM (self));
  g_autofree char *path = banger_vmm_firecracker_snapshot_devices_path (snapshot_path);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *rec;
  JsonArray *ifaces;

  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      gboolean missing = g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      g_set_error (error, BANGER_ERROR,
                   missing ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_INVALID_ARGUMENT,
                   "Snapshot '%s' has no readable device record '%s': %s", snapshot_path, path,
                   local->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (rec = json_node_get_object (root), "ifaces")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (rec, "ifaces")))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The device record '%s' of snapshot '%s' is malformed", path, snapshot_path);
      return FALSE;
    }
  ifaces = json_object_get_array_member (rec, "ifaces");
  for (guint i = 0; i < c->nics->len; i++)
    {
      BangerVmmNic *n = c->nics->pdata[i];
      if (!strv_has (ifaces, n->id))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Snapshot '%s' has no network interface '%s' to override",
                       snapshot_path, n->id);
          return FALSE;
        }
    }
  for (guint i = 0; i < json_array_get_length (ifaces); i++)
    {
      JsonNode *e = json_array_get_element (ifaces, i);
      const char *id = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_string (e) : NULL;
      gboolean named = FALSE;
      for (guint j = 0; id != NULL && j < c->nics->len; j++)
        named = named || g_str_equal (((BangerVmmNic *) c->nics->pdata[j])->id, id);
      if (!named)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Snapshot '%s' has network interface '%s', which the restored VM's "
                       "configuration does not re-point to a tap of its own",
                       snapshot_path, id ? id : "?");
          return FALSE;
        }
    }
  if (json_object_get_boolean_member_with_default (rec, "jailed", FALSE)
      != (self->jail_root != NULL))
    {
      /* the drive paths in the state file are chroot-relative, or host
       * paths: only the same kind of process finds the disks they mean */
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   self->jail_root != NULL
                       ? "Snapshot '%s' was taken of a Firecracker running without the jailer: "
                         "its drive paths name that VM's own disks, not this jail's"
                       : "Snapshot '%s' was taken in a jail: its drive paths are relative to "
                         "a jail, and this Firecracker runs without the jailer",
                   snapshot_path);
      return FALSE;
    }
  if (c->vsock_cid != 0 && !json_object_get_boolean_member_with_default (rec, "vsock", FALSE))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Snapshot '%s' has no vsock device to override", snapshot_path);
      return FALSE;
    }
  return TRUE;
}

/* Progress of a snapshot create: PUT /snapshot/create is one synchronous
 * request, so while it runs the memory file is looked at (every
 * MEM_POLL_MS): its allocated bytes, of the guest's memory (Firecracker
 * sizes the file first, then writes the pages).  The wrapper of the
 * sequence's callback stops the look and, on success, reports the whole. */
#define MEM_POLL_MS 100

typedef struct
{
  BangerVmmFirecracker *self; /* ref */
  char *mem_path;             /* direct: the host path; jailed: NULL */
  guint64 total;
  guint64 done;
  GSource *poll;
  GAsyncReadyCallback callback;
  gpointer user_data;
} MemWatch;

static void
mem_watch_free (MemWatch *w)
{
  if (w->poll != NULL)
    {
      g_source_destroy (w->poll);
      g_source_unref (w->poll);
    }
  g_object_unref (w->self);
  g_free (w->mem_path);
  g_free (w);
}

static void
mem_watch_report (MemWatch *w, guint64 done)
{
  done = MIN (done, w->total);
  if (done <= w->done)
    return;
  w->done = done;
  banger_vmm_report_snapshot_progress (BANGER_VMM (w->self), done, w->total);
}

static gboolean
mem_watch_tick (gpointer user_data)
{
  MemWatch *w = user_data;
  struct stat st;
  int r = w->mem_path != NULL
              ? stat (w->mem_path, &st)
              : fstatat (w->self->jail_root_fd, NAME_SNAP_MEM, &st, AT_SYMLINK_NOFOLLOW);

  if (r == 0 && S_ISREG (st.st_mode))
    mem_watch_report (w, (guint64)st.st_blocks * 512);
  return G_SOURCE_CONTINUE;
}

static void
mem_watch_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MemWatch *w = user_data;

  if (!g_task_had_error (G_TASK (result)))
    mem_watch_report (w, w->total);
  w->callback (source, result, w->user_data);
  mem_watch_free (w);
}

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
  seq->after_path = banger_vmm_firecracker_snapshot_devices_path (snapshot_path);
  seq->after_text = devices_record (self, banger_vmm_get_config (vmm));
  {
    MemWatch *w = g_new0 (MemWatch, 1);

    w->self = g_object_ref (self);
    w->mem_path = self->jail_root != NULL ? NULL : g_strdup (mem_path);
    w->total = (guint64)banger_vmm_get_config (vmm)->mem_mib * 1024 * 1024;
    w->callback = callback;
    w->user_data = user_data;
    w->poll = g_timeout_source_new (MEM_POLL_MS);
    g_source_set_callback (w->poll, mem_watch_tick, w, NULL);
    g_source_attach (w->poll, g_main_context_get_thread_default ());
    banger_fc_seq_run (self, seq, cancellable, mem_watch_done, w, tag);
  }
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
  /* everything refusable is refused before the first request (a failed
   * load ends the Firecracker process) */
  if (!check_against_snapshot (self, snapshot_path, &error)
      || (c->mmds != NULL && !banger_fc_check_mmds_size (self, c->mmds, &error)))
    {
      g_task_report_error (self, callback, user_data, tag, error);
      return;
    }
  /* a jail the launcher made: the drives go in under the names they had in
   * the snapshotted VM's jail (Firecracker reopens those) */
  if (!banger_fc_stage_launcher_jail (self, &error))
    {
      g_task_report_error (self, callback, user_data, tag, error);
      return;
    }
  if (self->jail_root != NULL)
    {
      if (!banger_fc_stage_file (self, snapshot_path, NAME_RESTORE_STATE, &error)
          || !banger_fc_stage_file (self, mem_path, NAME_RESTORE_MEM, &error))
        {
          g_task_report_error (self, callback, user_data, tag, error);
          return;
        }
      state_arg = "/" NAME_RESTORE_STATE;
      mem_arg = "/" NAME_RESTORE_MEM;
    }
  seq = banger_fc_seq_new ();
  /* logger and metrics are not in the snapshot, and are the only things
   * Firecracker takes before a load */
  banger_fc_seq_add_logger_metrics (self, seq);
  {
    B_BEGIN ();
    B_STR ("snapshot_path", state_arg);
    json_builder_set_member_name (b, "mem_backend");
    json_builder_begin_object (b);
    B_STR ("backend_type", "File");
    B_STR ("backend_path", mem_arg);
    json_builder_end_object (b);
    /* with MMDS data to put back, resume only once it is there */
    B_BOOL ("resume_vm", resume && c->mmds == NULL);
    if (self->clock_realtime)
      B_BOOL ("clock_realtime", TRUE);
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
  /* the MMDS config is in the snapshot, its data store is not */
  banger_fc_seq_add_mmds (self, seq, FALSE);
  if (resume && c->mmds != NULL)
    banger_fc_seq_add (seq, "PATCH", "/vm", banger_fc_body_vm_state ("Resumed"),
                       self->timeouts[BANGER_FC_TIMEOUT_RESUME]);
  seq->final_state = resume ? BANGER_VMM_STATE_RUNNING : BANGER_VMM_STATE_PAUSED;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, tag);
}
