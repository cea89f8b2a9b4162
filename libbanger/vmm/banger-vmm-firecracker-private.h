/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver's shared insides: the instance struct, the names
 * and limits, the request sequence (banger-fc-requests.c) and the helpers
 * its files share.  Not installed; only vmm/banger-fc-*.c and
 * banger-vmm-firecracker.c include it. */
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <json-glib/json-glib.h>

#include "banger-fc-http.h"
#include "banger-fc-metrics.h"
#include "banger-vmm-firecracker.h"

G_BEGIN_DECLS

#define SUN_PATH_MAX (sizeof (((struct sockaddr_un *) NULL)->sun_path))
#define PROBE_TIMEOUT_MS 1000
#define CTRL_ALT_DEL_TIMEOUT_MS 2000

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
/* Firecracker's default --http-api-max-payload-size (and so --mmds-size-limit) */
#define FC_DEFAULT_PAYLOAD_LIMIT 51200

struct _BangerVmmFirecracker
{
  BangerVmm parent_instance;

  char *fc_path;
  BangerFcJailerConfig *jailer; /* NULL: direct */
  guint timeouts[BANGER_FC_TIMEOUT_N];
  gboolean metrics_fifo;
  gboolean log_fifo;
  gboolean track_dirty_pages;
  guint api_payload_limit; /* 0: FC_DEFAULT_PAYLOAD_LIMIT */
  guint mmds_size_limit;   /* 0: the payload limit */
  gboolean clock_realtime; /* snapshot load: advance kvmclock */

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
  char *vsock_host; /* direct: removed after exit (a jail goes as a whole) */
  char *kernel_arg, *initrd_arg;
  GPtrArray *drive_args; /* parallel to config->drives */
  char *output_path;
  BangerFcClient *client;
  BangerFcMetrics *metrics;

  /* the jailer process when Firecracker is another one (--new-pid-ns) */
  GPid jailer_pid;
  int jailer_pidfd;

  gboolean jail_removed;
  /* the launcher jailed Firecracker (bangerd-root's jailer): the jail is
   * its to remove; the driver stages the VM's files into it before the
   * first request that needs them */
  gboolean launcher_jail;
  char *restore_state; /* nullable: a restore's files, named in the launch */
  char *restore_mem;   /* request so a launcher can mount them into the jail */
  gboolean jail_staged;
};

/* One API call of a request sequence. */
typedef struct
{
  char *method;
  char *path;
  JsonNode *body; /* nullable */
  guint timeout_ms;
} Step;

/* A request sequence: its steps run in order on the one client
 * (banger-fc-requests.c). */
typedef struct
{
  GPtrArray *steps;
  guint next;
  BangerVmmState final_state; /* NEW: leave the state alone */
  JsonNode *last_reply;
  /* jail files to move out after success (snapshot create) */
  char *collect_state, *collect_mem;
  /* a file written after success (snapshot create: the device record) */
  char *after_path, *after_text;
} Seq;

/* JSON bodies: B_BEGIN () declares the builder `b`, B_END () is the node. */
#define B_BEGIN() g_autoptr (JsonBuilder) b = json_builder_new (); json_builder_begin_object (b)
#define B_STR(k, v) (json_builder_set_member_name (b, k), json_builder_add_string_value (b, v))
#define B_INT(k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))
#define B_BOOL(k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
#define B_END() (json_builder_end_object (b), banger_fc_obj_node (b))

/* banger-vmm-firecracker.c: small utilities and the logger FIFO */
const char *banger_fc_vm_id (BangerVmmFirecracker *self);
int banger_fc_pidfd_signal (int pidfd, int sig);
char *banger_fc_describe_exit (BangerVmmFirecracker *self);
void banger_fc_drain_log (BangerVmmFirecracker *self);
gboolean banger_fc_on_log_readable (int fd, GIOCondition cond, gpointer user_data);
void banger_fc_close_log_fifo (BangerVmmFirecracker *self);

/* banger-fc-requests.c: the request sequence and state checks */
Seq *banger_fc_seq_new (void);
/* @body: (transfer full) (nullable) */
void banger_fc_seq_add (Seq *s, const char *method, const char *path, JsonNode *body,
                        guint timeout_ms);
/* Run @seq (taken); the task then completes with a boolean. */
void banger_fc_seq_run (BangerVmmFirecracker *self, Seq *seq, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data, gpointer tag);
GTask *banger_fc_new_task (BangerVmmFirecracker *self, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data, gpointer tag);
gboolean banger_fc_require_state (BangerVmmFirecracker *self, const char *what,
                                  GAsyncReadyCallback callback, gpointer user_data, gpointer tag,
                                  guint n, ...);
GError *banger_fc_explain_failure (BangerVmmFirecracker *self, const Step *st, GError *error);
JsonNode *banger_fc_obj_node (JsonBuilder *b);
JsonNode *banger_fc_body_action (const char *action);
JsonNode *banger_fc_body_vm_state (const char *state);

/* banger-fc-configure.c: @data serialized must fit the effective MMDS
 * limit (LIMIT_EXCEEDED otherwise), checked before anything is sent */
guint banger_fc_mmds_limit (BangerVmmFirecracker *self);
gboolean banger_fc_check_mmds_size (BangerVmmFirecracker *self, JsonNode *data, GError **error);
/* the MMDS steps a configure or a restore ends with */
void banger_fc_seq_add_mmds (BangerVmmFirecracker *self, Seq *seq, gboolean with_config);
void banger_fc_seq_add_logger_metrics (BangerVmmFirecracker *self, Seq *seq);

/* banger-fc-prepare.c */
gboolean banger_fc_remove_stale_socket (const char *path, GError **error);
/* A jail the launcher made (@jail_root, from BangerVmmLaunched): every
 * argument becomes chroot-relative (after launch) */
void banger_fc_use_launcher_jail (BangerVmmFirecracker *self, const char *jail_root);
/* ... and the VM's files staged into it (once; before configure or a load) */
gboolean banger_fc_stage_launcher_jail (BangerVmmFirecracker *self, GError **error);
/* a file into the jail, whoever made it (the snapshot files of a load) */
gboolean banger_fc_stage_file (BangerVmmFirecracker *self, const char *src, const char *name,
                               GError **error);
gboolean banger_vmm_firecracker_prepare (BangerVmm *vmm, GError **error);

/* banger-fc-launch.c */
void banger_fc_reap_jailer (BangerVmmFirecracker *self);
void banger_vmm_firecracker_launch (BangerVmm *vmm, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);

/* banger-fc-configure.c */
void banger_vmm_firecracker_configure (BangerVmm *vmm, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
void banger_vmm_firecracker_start (BangerVmm *vmm, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);

/* banger-fc-running.c */
void banger_vmm_firecracker_pause (BangerVmm *vmm, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
void banger_vmm_firecracker_resume (BangerVmm *vmm, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
void banger_vmm_firecracker_refresh_state (BangerVmm *vmm, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);

/* banger-fc-snapshot.c */
void banger_vmm_firecracker_snapshot_create (BangerVmm *vmm, const char *snapshot_path,
                                             const char *mem_path, gboolean diff,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
void banger_vmm_firecracker_snapshot_load (BangerVmm *vmm, const char *snapshot_path,
                                           const char *mem_path, gboolean resume,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);

/* banger-fc-stop.c */
void banger_vmm_firecracker_stop (BangerVmm *vmm, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean banger_vmm_firecracker_kill (BangerVmm *vmm, GError **error);

G_END_DECLS
