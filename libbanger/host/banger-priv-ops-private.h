/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the operation files: declarations of each operation, parameter
 * and result helpers, and the state helpers the operations use. */
#pragma once

#include <sys/stat.h>

#include "banger-install-config.h"
#include "banger-netlink.h"
#include "banger-priv-ops.h"

G_BEGIN_DECLS

#define BANGER_PRIV_OP_DECLARE(sym)                                                            \
  extern const BangerParamSpec sym##_params[];                                                 \
  gboolean sym (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,      \
                JsonBuilder *result, GCancellable *cancellable, GError **error)

BANGER_PRIV_OP_DECLARE (banger_op_status);
BANGER_PRIV_OP_DECLARE (banger_op_create_tap);
BANGER_PRIV_OP_DECLARE (banger_op_delete_tap);
BANGER_PRIV_OP_DECLARE (banger_op_create_bridge);
BANGER_PRIV_OP_DECLARE (banger_op_delete_bridge);
BANGER_PRIV_OP_DECLARE (banger_op_nat_enable);
BANGER_PRIV_OP_DECLARE (banger_op_nat_disable);
BANGER_PRIV_OP_DECLARE (banger_op_dm_snapshot_create);
BANGER_PRIV_OP_DECLARE (banger_op_dm_snapshot_remove);
BANGER_PRIV_OP_DECLARE (banger_op_mkfs_work_disk);
BANGER_PRIV_OP_DECLARE (banger_op_launch_vmm);
BANGER_PRIV_OP_DECLARE (banger_op_signal_process);
BANGER_PRIV_OP_DECLARE (banger_op_kill_process);
BANGER_PRIV_OP_DECLARE (banger_op_cleanup_vm);
BANGER_PRIV_OP_DECLARE (banger_op_pool_tap_create);
BANGER_PRIV_OP_DECLARE (banger_op_pool_tap_claim);
BANGER_PRIV_OP_DECLARE (banger_op_neigh_set);
BANGER_PRIV_OP_DECLARE (banger_op_pool_tap_return);
BANGER_PRIV_OP_DECLARE (banger_op_pool_tap_delete);
BANGER_PRIV_OP_DECLARE (banger_op_list_host_objects);
BANGER_PRIV_OP_DECLARE (banger_op_publish_set);
BANGER_PRIV_OP_DECLARE (banger_op_publish_list);
BANGER_PRIV_OP_DECLARE (banger_op_egress_set);
BANGER_PRIV_OP_DECLARE (banger_op_resolved_link);

/* ---------------------------------------------------------- parameters
 * The executor has already checked presence, types and ranges against the
 * table; these read the values (NULL / default when an optional one is
 * absent).  Handlers still re-validate what they use. */
const char *banger_priv_param_string (JsonObject *params, const char *name);
gint64 banger_priv_param_int (JsonObject *params, const char *name, gint64 default_value);
gboolean banger_priv_param_bool (JsonObject *params, const char *name, gboolean default_value);
/* The "vm_id" parameter, validated (banger_validate_vm_name). */
const char *banger_priv_param_vm_id (JsonObject *params, GError **error);

/* Validators with the BangerParamSpec signature. */
gboolean banger_priv_validate_signal (const char *value, GError **error);
gboolean banger_priv_validate_ipv4 (const char *value, GError **error);
gboolean banger_priv_validate_ipv4_cidr (const char *value, GError **error);
gboolean banger_priv_validate_abs_path (const char *value, GError **error);

/* PERMISSION_DENIED unless @ip (an IPv4 address) is a host address inside
 * the VM network (not its network or broadcast address); @what names it in
 * the message.  (banger-op-publish.c) */
gboolean banger_priv_check_guest_address (BangerPrivState *state, const char *what, const char *ip,
                                          GError **error);

/* -------------------------------------------------------------- state */
/* The registry, created on first use.  Call with state->lock held. */
GHashTable *banger_priv_state_vmms_locked (BangerPrivState *state);
/* A launch of @vm_id under way: from before the VMM is cloned until it is
 * registered (or has failed), across the wait for its exec, which runs
 * without the executor lock.  NULL with ALREADY_EXISTS when a VMM of the VM
 * is registered or another launch of it is under way.  Freeing it ends the
 * reservation. */
typedef struct _BangerPrivLaunch BangerPrivLaunch;
BangerPrivLaunch *banger_priv_state_reserve_launch (BangerPrivState *state, const char *vm_id,
                                                    GError **error);
void banger_priv_launch_free (BangerPrivLaunch *launch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPrivLaunch, banger_priv_launch_free)
/* Is a launch of @vm_id under way? */
gboolean banger_priv_state_is_launching (BangerPrivState *state, const char *vm_id);
/* banger's cgroup2 directory: state->cgroup_root, or <cgroup2 mount>/banger.slice. */
char *banger_priv_state_cgroup_root (BangerPrivState *state, GError **error);
/* Relative to the cgroup2 mount: what /proc/<pid>/cgroup's 0:: line shows
 * for a process in @vm_id's scope ("/banger.slice/banger-<vm>.scope"). */
char *banger_priv_state_scope_relpath (BangerPrivState *state, const char *vm_id,
                                       GError **error);

/* ------------------------------------------------------- file checks */
/* Open @path (absolute, strictly under @root, no "."/".." components) with
 * banger_open_beneath(O_PATH), component by component, and check it is a regular file with
 * st_nlink == 1 owned by @uid (or by root when @allow_root).  Returns an
 * O_PATH fd; @out_st gets its stat. */
int banger_priv_open_owned_file (const char *root, const char *path, uid_t uid,
                                 gboolean allow_root, struct stat *out_st, GError **error);
/* The same, with the owner's primary group: every directory on the way is
 * looked up only after checking (mode bits) that the owner @uid/@gid could
 * search it, so a path the owner could not stat itself and a missing one get
 * the same NOT_FOUND answer.  (The variant above passes no group.) */
int banger_priv_open_owned_file_as (const char *root, const char *path, uid_t uid, gid_t gid,
                                    gboolean allow_root, struct stat *out_st, GError **error);
/* Re-open an O_PATH fd for I/O through /proc/self/fd and check it is still
 * the same inode. */
int banger_priv_reopen (int path_fd, const struct stat *st, int flags, GError **error);

/* Create @name in @dir_fd (a directory the owner controls) fresh: unlink
 * whatever is there (never following or opening it), then
 * O_CREAT|O_EXCL|O_NOFOLLOW|O_NONBLOCK|O_NOCTTY with @flags and @mode, owned
 * by @uid:@gid.  Something that re-appears in between is ALREADY_EXISTS; a
 * directory in the way is PERMISSION_DENIED.  Returns the fd. */
int banger_priv_create_fresh (int dir_fd, const char *name, int flags, mode_t mode, uid_t uid,
                              gid_t gid, GError **error);

/* Remove the permanent neighbour entries priv.neigh_set made for @vm_id on
 * this install's bridges; *out_count gets how many.  (banger-op-neigh.c) */
gboolean banger_priv_neigh_clear_vm (BangerPrivState *state, const char *vm_id, guint *out_count,
                                     GError **error);

/* ------------------------------------------- ownership (banger-priv-owned.c) */
/* PERMISSION_DENIED unless @info (the link @name) is @vm_id's tap made by
 * this install: a tun device owned by the owner uid carrying the marker. */
gboolean banger_priv_check_own_tap (BangerPrivState *state, const char *vm_id, const char *name,
                                    const BangerLinkInfo *info, GError **error);
/* PERMISSION_DENIED unless @info is a bridge carrying this install's marker. */
gboolean banger_priv_check_own_bridge (BangerPrivState *state, const char *name,
                                       const BangerLinkInfo *info, GError **error);
/* A tap/bridge address "a.b.c.d/len": special addresses (loopback, link-local,
 * multicast, reserved, broadcast, 0/8) and a subnet's network/broadcast
 * address are INVALID_ARGUMENT; outside the VM network or a prefix wider
 * than it PERMISSION_DENIED; an address already on another interface than
 * @own_ifindex (0: none yet) ALREADY_EXISTS. */
gboolean banger_priv_check_vm_address (BangerPrivState *state, const char *cidr,
                                       int own_ifindex, GError **error);

/* ------------------------------------------------------ launch_vmm */
/* What priv.launch_vmm runs: the one builder of each VMM (launch/) fed from
 * the install config and the (already table-checked) params.  Exposed for
 * the tests.  @tap: the VM's tap name, or NULL for no NIC. */
GStrv banger_host_launch_firecracker_argv (BangerPrivState *state, const char *vm_id,
                                          const char *scope_rel, char **out_api_sock,
                                          GError **error);
GStrv banger_host_launch_qemu_argv (BangerPrivState *state, const char *vm_id,
                                   JsonObject *params, const char *tap, char **out_qmp_sock,
                                   char **out_console, GError **error);

/* ------------------------------------------------- shared with cleanup */
/* Delete @vm_id's tap if it is there and is this install's (see above). */
gboolean banger_priv_delete_vm_tap (BangerPrivState *state, const char *vm_id,
                                    gboolean *out_deleted, GError **error);

/* ------------------------------------------------------------- results */
void banger_priv_result_string (JsonBuilder *result, const char *name, const char *value);
void banger_priv_result_int (JsonBuilder *result, const char *name, gint64 value);
void banger_priv_result_bool (JsonBuilder *result, const char *name, gboolean value);

G_END_DECLS
