/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver: configure (the pre-boot calls, in order) and
 * start (InstanceStart). */
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

/* ------------------------------------------------------------------- MMDS */

/* What a PUT /mmds may carry: the body must fit the HTTP payload limit, and
 * the data store the MMDS limit (which defaults to the payload limit). */
guint
banger_fc_mmds_limit (BangerVmmFirecracker *self)
{
  guint payload = self->api_payload_limit ? self->api_payload_limit : FC_DEFAULT_PAYLOAD_LIMIT;
  guint mmds = self->mmds_size_limit ? self->mmds_size_limit : payload;
  return MIN (payload, mmds);
}

gboolean
banger_fc_check_mmds_size (BangerVmmFirecracker *self, JsonNode *data, GError **error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len = 0;
  guint limit = banger_fc_mmds_limit (self);

  /* compact, as the client sends it and as Firecracker measures it */
  json_generator_set_root (gen, data);
  text = json_generator_to_data (gen, &len);
  if (len > limit)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "MMDS data for VM '%s' is %" G_GSIZE_FORMAT " bytes, over Firecracker's "
                   "limit of %u (--http-api-max-payload-size / --mmds-size-limit)",
                   banger_fc_vm_id (self), len, limit);
      return FALSE;
    }
  return TRUE;
}

void
banger_fc_seq_add_mmds (BangerVmmFirecracker *self, Seq *seq, gboolean with_config)
{
  const BangerVmmConfig *c = banger_vmm_get_config (BANGER_VMM (self));
  guint t = self->timeouts[BANGER_FC_TIMEOUT_API];

  if (c->mmds == NULL)
    return;
  if (with_config)
    {
      BangerVmmNic *n = c->nics->pdata[0];
      B_BEGIN ();
      B_STR ("version", "V2");
      json_builder_set_member_name (b, "network_interfaces");
      json_builder_begin_array (b);
      json_builder_add_string_value (b, n->id);
      json_builder_end_array (b);
      banger_fc_seq_add (seq, "PUT", "/mmds/config", B_END (), t);
    }
  banger_fc_seq_add (seq, "PUT", "/mmds", json_node_copy (c->mmds), t);
}

/* -------------------------------------------------------------- configure */

/* PUT /logger and PUT /metrics: the first calls of a boot and of a restore */
void
banger_fc_seq_add_logger_metrics (BangerVmmFirecracker *self, Seq *seq)
{
  guint t = self->timeouts[BANGER_FC_TIMEOUT_API];
  {
    B_BEGIN ();
    B_STR ("log_path", self->log_arg);
    B_STR ("level", "Info");
    B_BOOL ("show_level", TRUE);
    B_BOOL ("show_log_origin", FALSE);
    banger_fc_seq_add (seq, "PUT", "/logger", B_END (), t);
  }
  {
    B_BEGIN ();
    B_STR ("metrics_path", self->metrics_arg);
    banger_fc_seq_add (seq, "PUT", "/metrics", B_END (), t);
  }
}

void
banger_vmm_firecracker_configure (BangerVmm *vmm, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  const BangerVmmConfig *c = banger_vmm_get_config (vmm);
  guint t = self->timeouts[BANGER_FC_TIMEOUT_API];
  Seq *seq;

  GError *error = NULL;

  if (!banger_fc_require_state (self, "configure", callback, user_data,
                                banger_vmm_firecracker_configure, 1, BANGER_VMM_STATE_LAUNCHED))
    return;
  if ((c->mmds != NULL && !banger_fc_check_mmds_size (self, c->mmds, &error))
      || !banger_fc_stage_launcher_jail (self, &error))
    {
      g_task_report_error (self, callback, user_data, banger_vmm_firecracker_configure, error);
      return;
    }
  seq = banger_fc_seq_new ();
  banger_fc_seq_add_logger_metrics (self, seq);
  {
    B_BEGIN ();
    B_INT ("vcpu_count", c->vcpus);
    B_INT ("mem_size_mib", c->mem_mib);
    B_BOOL ("smt", FALSE);
    B_BOOL ("track_dirty_pages", self->track_dirty_pages);
    banger_fc_seq_add (seq, "PUT", "/machine-config", B_END (), t);
  }
  {
    g_autofree char *args = banger_vmm_build_boot_args (c, "ttyS0");
    B_BEGIN ();
    B_STR ("kernel_image_path", self->kernel_arg);
    B_STR ("boot_args", args);
    if (self->initrd_arg != NULL)
      B_STR ("initrd_path", self->initrd_arg);
    banger_fc_seq_add (seq, "PUT", "/boot-source", B_END (), t);
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
      banger_fc_seq_add (seq, "PUT", path, B_END (), t);
    }
  for (guint i = 0; i < c->nics->len; i++)
    {
      BangerVmmNic *n = c->nics->pdata[i];
      g_autofree char *path = g_strconcat ("/network-interfaces/", n->id, NULL);
      B_BEGIN ();
      B_STR ("iface_id", n->id);
      B_STR ("host_dev_name", n->tap);
      B_STR ("guest_mac", n->mac);
      banger_fc_seq_add (seq, "PUT", path, B_END (), t);
    }
  if (c->vsock_cid != 0)
    {
      B_BEGIN ();
      B_INT ("guest_cid", c->vsock_cid);
      B_STR ("uds_path", self->vsock_arg);
      banger_fc_seq_add (seq, "PUT", "/vsock", B_END (), t);
    }
  if (c->balloon_mib != 0 || c->balloon_device)
    {
      B_BEGIN ();
      B_INT ("amount_mib", c->balloon_mib);
      B_BOOL ("deflate_on_oom", TRUE);
      B_INT ("stats_polling_interval_s", 1);
      banger_fc_seq_add (seq, "PUT", "/balloon", B_END (), t);
    }
  if (c->entropy)
    {
      B_BEGIN ();
      banger_fc_seq_add (seq, "PUT", "/entropy", B_END (), t);
    }
  banger_fc_seq_add_mmds (self, seq, TRUE);
  seq->final_state = BANGER_VMM_STATE_CONFIGURED;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_configure);
}

void
banger_vmm_firecracker_start (BangerVmm *vmm, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  BangerVmmFirecracker *self = BANGER_VMM_FIRECRACKER (vmm);
  Seq *seq;

  if (!banger_fc_require_state (self, "start", callback, user_data, banger_vmm_firecracker_start, 1,
                                BANGER_VMM_STATE_CONFIGURED))
    return;
  seq = banger_fc_seq_new ();
  banger_fc_seq_add (seq, "PUT", "/actions", banger_fc_body_action ("InstanceStart"),
                     self->timeouts[BANGER_FC_TIMEOUT_START]);
  seq->final_state = BANGER_VMM_STATE_RUNNING;
  banger_fc_seq_run (self, seq, cancellable, callback, user_data, banger_vmm_firecracker_start);
}
