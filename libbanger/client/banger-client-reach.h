/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-client.h>
#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BangerWorkspaceFlags:
 * @BANGER_WORKSPACE_FLAGS_NONE: no flag.
 * @BANGER_WORKSPACE_FLAGS_FORCE: a path changed on both sides goes the
 *   sync's way (push: the host's version wins; pull: the guest's) instead
 *   of being reported as a conflict and left alone.
 * @BANGER_WORKSPACE_FLAGS_IF_DIRTY: push only: do nothing, without
 *   contacting the guest, unless the host side changed since the last sync
 *   (what `banger vm exec` does before running a command).
 *
 * Flags of the workspace calls.  Unknown bits are refused.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/
{
  BANGER_WORKSPACE_FLAGS_NONE = 0,
  BANGER_WORKSPACE_FLAGS_FORCE = 1 << 0,
  BANGER_WORKSPACE_FLAGS_IF_DIRTY = 1 << 1,
} BangerWorkspaceFlags;

/**
 * BANGER_WORKSPACE_FLAGS_ALL:
 *
 * Every flag this version knows.
 *
 * Since: 0.2
 */
#define BANGER_WORKSPACE_FLAGS_ALL (BANGER_WORKSPACE_FLAGS_FORCE | BANGER_WORKSPACE_FLAGS_IF_DIRTY)

/**
 * BangerSshInfo:
 *
 * How to reach a running VM with OpenSSH: its address, the user, banger's
 * key and the known-hosts file banger keeps for that VM.  Immutable,
 * reference counted.
 *
 * Since: 0.2
 */
typedef struct _BangerSshInfo BangerSshInfo;

BANGER_AVAILABLE_IN_0_2
GType banger_ssh_info_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerSshInfo *banger_ssh_info_ref (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
void banger_ssh_info_unref (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_name (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_address (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
guint banger_ssh_info_get_port (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_user (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_identity_file (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_known_hosts_file (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_host_alias (BangerSshInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_ssh_info_get_config_file (BangerSshInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerSshInfo, banger_ssh_info_unref)

/**
 * BangerWorkspaceReport:
 *
 * What a workspace push, pull or status found and did.  Immutable,
 * reference counted.
 *
 * Since: 0.2
 */
typedef struct _BangerWorkspaceReport BangerWorkspaceReport;

BANGER_AVAILABLE_IN_0_2
GType banger_workspace_report_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerWorkspaceReport *banger_workspace_report_ref (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
void banger_workspace_report_unref (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
gboolean banger_workspace_report_get_bound (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
gboolean banger_workspace_report_get_skipped (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
const char *banger_workspace_report_get_host_dir (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
const char *banger_workspace_report_get_guest_dir (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
guint banger_workspace_report_get_copied (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
guint banger_workspace_report_get_deleted (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
guint64 banger_workspace_report_get_bytes (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
const char *const *banger_workspace_report_get_conflicts (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
const char *const *banger_workspace_report_get_host_changes (BangerWorkspaceReport *report);
BANGER_AVAILABLE_IN_0_2
const char *const *banger_workspace_report_get_guest_changes (BangerWorkspaceReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerWorkspaceReport, banger_workspace_report_unref)

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_ssh_info_async (BangerClient *client, const char *name,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerSshInfo *banger_client_vm_ssh_info_finish (BangerClient *client, GAsyncResult *result,
                                                 GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_ssh_config_async (BangerClient *client, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
char *banger_client_ssh_config_finish (BangerClient *client, GAsyncResult *result,
                                       char **out_domain, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_client_vm_workspace_push_async (BangerClient *client, const char *name,
                                            BangerWorkspaceFlags flags, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerWorkspaceReport *banger_client_vm_workspace_push_finish (BangerClient *client,
                                                               GAsyncResult *result,
                                                               GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_workspace_pull_async (BangerClient *client, const char *name,
                                            BangerWorkspaceFlags flags, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerWorkspaceReport *banger_client_vm_workspace_pull_finish (BangerClient *client,
                                                               GAsyncResult *result,
                                                               GError **error);
BANGER_AVAILABLE_IN_0_2
void banger_client_vm_workspace_status_async (BangerClient *client, const char *name,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
BangerWorkspaceReport *banger_client_vm_workspace_status_finish (BangerClient *client,
                                                                 GAsyncResult *result,
                                                                 GError **error);

G_END_DECLS
