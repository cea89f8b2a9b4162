/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmFirecracker: the Firecracker driver of BangerVmm.  It speaks
 * Firecracker's HTTP API on the per-VM unix socket (banger-fc-http.h), runs
 * Firecracker directly or under the jailer (banger-fc-jailer.h), and reads
 * its metrics (banger-fc-metrics.h).  See doc/vmm.md for the calls it makes,
 * the timeouts, the stop ladder and the jail layout. */
#pragma once

#include "banger-fc-jailer.h"
#include "banger-vmm.h"

G_BEGIN_DECLS

#define BANGER_TYPE_VMM_FIRECRACKER (banger_vmm_firecracker_get_type ())
G_DECLARE_FINAL_TYPE (BangerVmmFirecracker, banger_vmm_firecracker, BANGER, VMM_FIRECRACKER,
                      BangerVmm)

/* @config: (transfer full).  @firecracker_path: the firecracker binary
 * (absolute; under the jailer, its --exec-file). */
BangerVmm *banger_vmm_firecracker_new (BangerVmmConfig *config, const char *firecracker_path);

/* Run under the jailer (copied; before prepare).  NULL: run directly. */
void banger_vmm_firecracker_set_jailer (BangerVmmFirecracker *self,
                                        const BangerFcJailerConfig *jailer);

typedef enum
{
  BANGER_FC_TIMEOUT_API,      /* each configuration / query call: 5000 ms */
  BANGER_FC_TIMEOUT_START,    /* InstanceStart: 15000 ms */
  BANGER_FC_TIMEOUT_RESUME,   /* PATCH /vm Resumed: 30000 ms */
  BANGER_FC_TIMEOUT_SNAPSHOT, /* snapshot create and load: 120000 ms */
  BANGER_FC_TIMEOUT_SOCKET,   /* launch: process start to API answering: 5000 ms */
  BANGER_FC_TIMEOUT_N,
} BangerFcTimeout;

void banger_vmm_firecracker_set_timeout (BangerVmmFirecracker *self, BangerFcTimeout which,
                                         guint milliseconds);
guint banger_vmm_firecracker_get_timeout (BangerVmmFirecracker *self, BangerFcTimeout which);

/* Metrics through a FIFO instead of a file (before prepare). */
void banger_vmm_firecracker_set_metrics_fifo (BangerVmmFirecracker *self, gboolean fifo);
/* The logger through a FIFO (before prepare): the driver drains it into
 * <run dir>/fc.log (get_log_path) whenever its main context runs. */
void banger_vmm_firecracker_set_log_fifo (BangerVmmFirecracker *self, gboolean fifo);
/* A restore (before launch): the snapshot state and memory files the load
 * will use, named in the launch request so that bangerd-root bind-mounts
 * them into the jail it makes (any filesystem, no copy). */
void banger_vmm_firecracker_set_restore_files (BangerVmmFirecracker *self, const char *state,
                                               const char *mem);
/* machine-config track_dirty_pages (and on load): needed for real Diff
 * snapshots (before configure). */
void banger_vmm_firecracker_set_track_dirty_pages (BangerVmmFirecracker *self, gboolean track);

/* Firecracker's --http-api-max-payload-size (default 51200) and
 * --mmds-size-limit (default: the payload limit); 0 keeps the default
 * (before prepare).  The driver refuses MMDS data larger than the effective
 * limit before sending it.  Not through bangerd-root (its install config
 * owns Firecracker's command line). */
void banger_vmm_firecracker_set_api_payload_limit (BangerVmmFirecracker *self, guint bytes);
void banger_vmm_firecracker_set_mmds_size_limit (BangerVmmFirecracker *self, guint bytes);
/* The largest MMDS data store (serialized JSON bytes) the driver sends. */
guint banger_vmm_firecracker_get_mmds_limit (BangerVmmFirecracker *self);
/* Snapshot load option: clock_realtime (x86_64; host Linux >= 5.16), so
 * kvmclock advances by the wall-clock time since the snapshot instead of
 * resuming at snapshot time.  Off by default (before snapshot load). */
void banger_vmm_firecracker_set_clock_realtime (BangerVmmFirecracker *self, gboolean realtime);

/* The device record snapshot create writes next to @snapshot_path
 * ("<snapshot_path>.devices.json": the iface ids and whether a vsock was
 * there); snapshot load checks the new config's NICs against it. */
char *banger_vmm_firecracker_snapshot_devices_path (const char *snapshot_path);

/* After prepare: the argv that launch runs, and host-side paths. */
const char *const *banger_vmm_firecracker_get_argv (BangerVmmFirecracker *self);
const char *banger_vmm_firecracker_get_jail_root (BangerVmmFirecracker *self); /* NULL: direct */
const char *banger_vmm_firecracker_get_log_path (BangerVmmFirecracker *self);
const char *banger_vmm_firecracker_get_output_path (BangerVmmFirecracker *self);
const char *banger_vmm_firecracker_get_metrics_path (BangerVmmFirecracker *self);

/* Which rung of the stop ladder ended the process: "ctrl-alt-del", "term",
 * "kill", "already-exited"; NULL before a stop. */
const char *banger_vmm_firecracker_get_stop_method (BangerVmmFirecracker *self);

/* Post-boot extras, each an _async/_finish pair. */
/* PATCH /balloon {amount_mib}. */
void banger_vmm_firecracker_set_balloon_async (BangerVmmFirecracker *self, guint amount_mib,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data);
gboolean banger_vmm_firecracker_set_balloon_finish (BangerVmmFirecracker *self,
                                                    GAsyncResult *result, GError **error);
/* PUT /actions FlushMetrics; read_stats then sees the new lines. */
void banger_vmm_firecracker_flush_metrics_async (BangerVmmFirecracker *self,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
gboolean banger_vmm_firecracker_flush_metrics_finish (BangerVmmFirecracker *self,
                                                      GAsyncResult *result, GError **error);
/* PATCH /mmds (JSON merge-patch of the metadata); @patch not taken. */
void banger_vmm_firecracker_patch_mmds_async (BangerVmmFirecracker *self, JsonNode *patch,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
gboolean banger_vmm_firecracker_patch_mmds_finish (BangerVmmFirecracker *self,
                                                   GAsyncResult *result, GError **error);
/* GET /balloon/statistics (the balloon must have been configured). */
void banger_vmm_firecracker_get_balloon_stats_async (BangerVmmFirecracker *self,
                                                     GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data);
JsonObject *banger_vmm_firecracker_get_balloon_stats_finish (BangerVmmFirecracker *self,
                                                             GAsyncResult *result,
                                                             GError **error);

/* Remove the jail and its cgroup (the jailer never does).  stop and kill do
 * it themselves once the process is gone; this is for callers that saw the
 * process exit on its own.  Refused while the process runs. */
gboolean banger_vmm_firecracker_cleanup (BangerVmmFirecracker *self, GError **error);

/* The --api-sock for a direct launch: <run_dir>/fc.sock when it fits
 * sun_path, else a hashed name under $XDG_RUNTIME_DIR, else under the
 * temporary directory (the first of them we may write to).
 * NULL (with an error) when nothing fits.  Exposed for tests. */
char *banger_fc_choose_api_socket (const char *run_dir, GError **error);

G_END_DECLS
