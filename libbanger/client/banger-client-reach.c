/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's calls for reaching VMs: SSH (vm.ssh_info, ssh.config)
 * and the workspace (vm.workspace_push|pull|status).  doc/ssh.md,
 * doc/workspace.md. */
#include "config.h"

#include "banger-client-private.h"
#include "banger-client-reach.h"
#include "banger-error.h"

/* --------------------------------------------------------------- ssh info */

struct _BangerSshInfo
{
  gatomicrefcount ref;
  char *name;
  char *address;
  guint port;
  char *user;
  char *identity_file;
  char *known_hosts;
  char *host_alias;
  char *config_file;
};

G_DEFINE_BOXED_TYPE (BangerSshInfo, banger_ssh_info, banger_ssh_info_ref, banger_ssh_info_unref)

/**
 * banger_ssh_info_ref:
 * @info: a #BangerSshInfo
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerSshInfo *
banger_ssh_info_ref (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_ssh_info_unref:
 * @info: (transfer full): a #BangerSshInfo
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_ssh_info_unref (BangerSshInfo *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  g_free (info->name);
  g_free (info->address);
  g_free (info->user);
  g_free (info->identity_file);
  g_free (info->known_hosts);
  g_free (info->host_alias);
  g_free (info->config_file);
  g_free (info);
}

/**
 * banger_ssh_info_get_name:
 * @info: a #BangerSshInfo
 *
 * Returns: the VM's name
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_name (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->name;
}

/**
 * banger_ssh_info_get_address:
 * @info: a #BangerSshInfo
 *
 * Returns: the VM's IP address
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_address (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->address;
}

/**
 * banger_ssh_info_get_port:
 * @info: a #BangerSshInfo
 *
 * Returns: the guest's SSH port
 *
 * Since: 0.2
 */
guint
banger_ssh_info_get_port (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return info->port;
}

/**
 * banger_ssh_info_get_user:
 * @info: a #BangerSshInfo
 *
 * Returns: the user to log in as (root)
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_user (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->user;
}

/**
 * banger_ssh_info_get_identity_file:
 * @info: a #BangerSshInfo
 *
 * Returns: the path of the install's private key
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_identity_file (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->identity_file;
}

/**
 * banger_ssh_info_get_known_hosts_file:
 * @info: a #BangerSshInfo
 *
 * Returns: the path of the known-hosts file banger keeps for this VM
 *   (its host key, recorded at the VM's first boot)
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_known_hosts_file (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->known_hosts;
}

/**
 * banger_ssh_info_get_host_alias:
 * @info: a #BangerSshInfo
 *
 * Returns: the VM's name in the included ssh_config (`NAME.DOMAIN`)
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_host_alias (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->host_alias;
}

/**
 * banger_ssh_info_get_config_file:
 * @info: a #BangerSshInfo
 *
 * Returns: the path of the ssh_config file the engine keeps for its VMs
 *
 * Since: 0.2
 */
const char *
banger_ssh_info_get_config_file (BangerSshInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->config_file;
}

static const ClientField ssh_fields[] = {
  { "name", CLIENT_FIELD_STRING },
  { "address", CLIENT_FIELD_STRING },
  { "port", CLIENT_FIELD_INT },
  { "user", CLIENT_FIELD_STRING },
  { "identity_file", CLIENT_FIELD_STRING },
  { "known_hosts", CLIENT_FIELD_STRING },
  { "host_alias", CLIENT_FIELD_STRING },
  { "config_file", CLIENT_FIELD_STRING },
  { NULL, 0 },
};

static gpointer
convert_ssh_info (JsonObject *result, GError **error)
{
  JsonNode *n = json_object_get_member (result, "ssh");
  JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  BangerSshInfo *info;

  if (o == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The engine's vm.ssh_info reply has no 'ssh' object");
      return NULL;
    }
  if (!banger_client_check_fields (o, ssh_fields, "vm.ssh_info", error))
    return NULL;
  info = g_new0 (BangerSshInfo, 1);
  g_atomic_ref_count_init (&info->ref);
  info->name = g_strdup (json_object_get_string_member (o, "name"));
  info->address = g_strdup (json_object_get_string_member (o, "address"));
  info->port = (guint)json_object_get_int_member (o, "port");
  info->user = g_strdup (json_object_get_string_member (o, "user"));
  info->identity_file = g_strdup (json_object_get_string_member (o, "identity_file"));
  info->known_hosts = g_strdup (json_object_get_string_member (o, "known_hosts"));
  info->host_alias = g_strdup (json_object_get_string_member (o, "host_alias"));
  info->config_file = g_strdup (json_object_get_string_member (o, "config_file"));
  return info;
}

/**
 * banger_client_vm_ssh_info_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * Asks how to reach running VM @name with OpenSSH (what `banger vm ssh`
 * execs `ssh` with).  A VM that is not running is %BANGER_ERROR_BUSY.
 *
 * Since: 0.2
 */
void
banger_client_vm_ssh_info_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  banger_client_call (client, "vm.ssh_info", p, convert_ssh_info,
                      (GDestroyNotify)banger_ssh_info_unref, banger_client_vm_ssh_info_async,
                      cancellable, callback, user_data);
}

/**
 * banger_client_vm_ssh_info_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the answer, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerSshInfo *
banger_client_vm_ssh_info_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_ssh_info_async, error);
}

typedef struct
{
  char *path;
  char *domain;
} SshConfig;

static void
ssh_config_free (SshConfig *c)
{
  g_free (c->path);
  g_free (c->domain);
  g_free (c);
}

static gpointer
convert_ssh_config (JsonObject *result, GError **error)
{
  static const ClientField fields[] = {
    { "config_file", CLIENT_FIELD_STRING },
    { "domain", CLIENT_FIELD_STRING },
    { NULL, 0 },
  };
  SshConfig *c;

  if (!banger_client_check_fields (result, fields, "ssh.config", error))
    return NULL;
  c = g_new0 (SshConfig, 1);
  c->path = g_strdup (json_object_get_string_member (result, "config_file"));
  c->domain = g_strdup (json_object_get_string_member (result, "domain"));
  return c;
}

/**
 * banger_client_ssh_config_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * Asks for the ssh_config file the engine keeps (one `Host NAME.DOMAIN
 * NAME` block per VM), brought up to date first: the file a user's
 * `~/.ssh/config` includes.
 *
 * Since: 0.2
 */
void
banger_client_ssh_config_async (BangerClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  banger_client_call (client, "ssh.config", json_object_new (), convert_ssh_config,
                      (GDestroyNotify)ssh_config_free, banger_client_ssh_config_async, cancellable,
                      callback, user_data);
}

/**
 * banger_client_ssh_config_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @out_domain: (out) (optional) (transfer full): the DNS domain of VM names
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (type filename): the path of the file, or
 *   %NULL with @error set
 *
 * Since: 0.2
 */
char *
banger_client_ssh_config_finish (BangerClient *client, GAsyncResult *result, char **out_domain,
                                 GError **error)
{
  SshConfig *c = banger_client_call_finish (client, result, banger_client_ssh_config_async, error);
  char *path;

  if (c == NULL)
    return NULL;
  path = g_steal_pointer (&c->path);
  if (out_domain != NULL)
    *out_domain = g_steal_pointer (&c->domain);
  ssh_config_free (c);
  return path;
}

/* ---------------------------------------------------------- workspace */

struct _BangerWorkspaceReport
{
  gatomicrefcount ref;
  gboolean bound;
  gboolean skipped;
  char *host_dir;
  char *guest_dir;
  guint copied;
  guint deleted;
  guint64 bytes;
  GStrv conflicts;
  GStrv host_changes;
  GStrv guest_changes;
};

G_DEFINE_BOXED_TYPE (BangerWorkspaceReport, banger_workspace_report, banger_workspace_report_ref,
                     banger_workspace_report_unref)

/**
 * banger_workspace_report_ref:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (transfer full): @report, with one more reference
 *
 * Since: 0.2
 */
BangerWorkspaceReport *
banger_workspace_report_ref (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  g_atomic_ref_count_inc (&report->ref);
  return report;
}

/**
 * banger_workspace_report_unref:
 * @report: (transfer full): a #BangerWorkspaceReport
 *
 * Drops one reference; the last one frees @report.
 *
 * Since: 0.2
 */
void
banger_workspace_report_unref (BangerWorkspaceReport *report)
{
  g_return_if_fail (report != NULL);
  if (!g_atomic_ref_count_dec (&report->ref))
    return;
  g_free (report->host_dir);
  g_free (report->guest_dir);
  g_strfreev (report->conflicts);
  g_strfreev (report->host_changes);
  g_strfreev (report->guest_changes);
  g_free (report);
}

/**
 * banger_workspace_report_get_bound:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: whether the VM has a workspace at all (when not, nothing else
 *   in the report is set)
 *
 * Since: 0.2
 */
gboolean
banger_workspace_report_get_bound (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, FALSE);
  return report->bound;
}

/**
 * banger_workspace_report_get_skipped:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: whether a push with %BANGER_WORKSPACE_FLAGS_IF_DIRTY found the
 *   host side clean and did nothing
 *
 * Since: 0.2
 */
gboolean
banger_workspace_report_get_skipped (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, FALSE);
  return report->skipped;
}

/**
 * banger_workspace_report_get_host_dir:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (nullable) (type filename): the host directory
 *
 * Since: 0.2
 */
const char *
banger_workspace_report_get_host_dir (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  return report->host_dir;
}

/**
 * banger_workspace_report_get_guest_dir:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (nullable): the directory in the guest
 *
 * Since: 0.2
 */
const char *
banger_workspace_report_get_guest_dir (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  return report->guest_dir;
}

/**
 * banger_workspace_report_get_copied:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: how many files, directories and symlinks were written
 *
 * Since: 0.2
 */
guint
banger_workspace_report_get_copied (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, 0);
  return report->copied;
}

/**
 * banger_workspace_report_get_deleted:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: how many entries were removed
 *
 * Since: 0.2
 */
guint
banger_workspace_report_get_deleted (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, 0);
  return report->deleted;
}

/**
 * banger_workspace_report_get_bytes:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: the file bytes sent or received
 *
 * Since: 0.2
 */
guint64
banger_workspace_report_get_bytes (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, 0);
  return report->bytes;
}

/**
 * banger_workspace_report_get_conflicts:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (array zero-terminated=1) (transfer none): the paths changed on
 *   both sides since the last sync, left alone on both
 *
 * Since: 0.2
 */
const char *const *
banger_workspace_report_get_conflicts (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  return (const char *const *)report->conflicts;
}

/**
 * banger_workspace_report_get_host_changes:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (array zero-terminated=1) (transfer none): the paths changed on
 *   the host and not pushed by this call
 *
 * Since: 0.2
 */
const char *const *
banger_workspace_report_get_host_changes (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  return (const char *const *)report->host_changes;
}

/**
 * banger_workspace_report_get_guest_changes:
 * @report: a #BangerWorkspaceReport
 *
 * Returns: (array zero-terminated=1) (transfer none): the paths changed in
 *   the guest and not pulled by this call
 *
 * Since: 0.2
 */
const char *const *
banger_workspace_report_get_guest_changes (BangerWorkspaceReport *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  return (const char *const *)report->guest_changes;
}

static GStrv
strv_member (JsonObject *o, const char *name, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  JsonArray *a;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The engine's workspace reply has no array '%s'", name);
      return NULL;
    }
  a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "The engine's workspace reply: '%s'[%u] is not a string", name, i);
          return NULL;
        }
      g_strv_builder_add (b, json_node_get_string (e));
    }
  return g_strv_builder_end (b);
}

static gpointer
convert_report (JsonObject *result, GError **error)
{
  static const ClientField fields[] = {
    { "host_dir", CLIENT_FIELD_STRING_NULLABLE },
    { "guest_dir", CLIENT_FIELD_STRING_NULLABLE },
    { "copied", CLIENT_FIELD_INT },
    { "deleted", CLIENT_FIELD_INT },
    { "bytes", CLIENT_FIELD_INT },
    { NULL, 0 },
  };
  JsonNode *n = json_object_get_member (result, "workspace");
  JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
  g_autoptr (BangerWorkspaceReport) r = NULL;

  if (o == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The engine's workspace reply has no 'workspace' object");
      return NULL;
    }
  if (!banger_client_check_fields (o, fields, "workspace", error))
    return NULL;
  r = g_new0 (BangerWorkspaceReport, 1);
  g_atomic_ref_count_init (&r->ref);
  r->bound = json_object_get_boolean_member_with_default (o, "bound", FALSE);
  r->skipped = json_object_get_boolean_member_with_default (o, "skipped", FALSE);
  r->host_dir = g_strdup (json_object_get_string_member_with_default (o, "host_dir", NULL));
  r->guest_dir = g_strdup (json_object_get_string_member_with_default (o, "guest_dir", NULL));
  r->copied = (guint)json_object_get_int_member (o, "copied");
  r->deleted = (guint)json_object_get_int_member (o, "deleted");
  r->bytes = (guint64)json_object_get_int_member (o, "bytes");
  if ((r->conflicts = strv_member (o, "conflicts", error)) == NULL
      || (r->host_changes = strv_member (o, "host_changes", error)) == NULL
      || (r->guest_changes = strv_member (o, "guest_changes", error)) == NULL)
    return NULL;
  return g_steal_pointer (&r);
}

static void
workspace_call (BangerClient *client, const char *method, const char *name,
                BangerWorkspaceFlags flags, gpointer source_tag, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  if ((flags & ~BANGER_WORKSPACE_FLAGS_ALL) != 0)
    {
      g_task_report_new_error (client, callback, user_data, source_tag, BANGER_ERROR,
                               BANGER_ERROR_INVALID_ARGUMENT, "Unknown workspace flags 0x%x",
                               (guint)flags);
      return;
    }
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  if (flags & BANGER_WORKSPACE_FLAGS_FORCE)
    json_object_set_boolean_member (p, "force", TRUE);
  if (flags & BANGER_WORKSPACE_FLAGS_IF_DIRTY)
    json_object_set_boolean_member (p, "if_dirty", TRUE);
  banger_client_call (client, method, p, convert_report,
                      (GDestroyNotify)banger_workspace_report_unref, source_tag, cancellable,
                      callback, user_data);
}

static BangerWorkspaceReport *
workspace_finish (BangerClient *client, GAsyncResult *result, gpointer source_tag, GError **error)
{
  /* also the task g_task_report_new_error() made for refused flags */
  return banger_client_call_finish (client, result, source_tag, error);
}

/**
 * banger_client_vm_workspace_push_async:
 * @client: a #BangerClient
 * @name: the VM's name (running)
 * @flags: #BangerWorkspaceFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the push is done
 * @user_data: data for @callback
 *
 * Pushes the host's changes since the last sync into the guest over SFTP
 * (doc/workspace.md).  Paths changed on both sides are reported as
 * conflicts and left alone unless @flags has
 * %BANGER_WORKSPACE_FLAGS_FORCE.  A VM without a workspace gives a report
 * whose banger_workspace_report_get_bound() is %FALSE.
 *
 * Since: 0.2
 */
void
banger_client_vm_workspace_push_async (BangerClient *client, const char *name,
                                       BangerWorkspaceFlags flags, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  workspace_call (client, "vm.workspace_push", name, flags, banger_client_vm_workspace_push_async,
                  cancellable, callback, user_data);
}

/**
 * banger_client_vm_workspace_push_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the report, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerWorkspaceReport *
banger_client_vm_workspace_push_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return workspace_finish (client, result, banger_client_vm_workspace_push_async, error);
}

/**
 * banger_client_vm_workspace_pull_async:
 * @client: a #BangerClient
 * @name: the VM's name (running)
 * @flags: #BangerWorkspaceFlags (%BANGER_WORKSPACE_FLAGS_IF_DIRTY is refused)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the pull is done
 * @user_data: data for @callback
 *
 * Pulls the guest's changes since the last sync onto the host (what a
 * graceful stop does first).  Conflicts as for the push, with
 * %BANGER_WORKSPACE_FLAGS_FORCE letting the guest win.
 *
 * Since: 0.2
 */
void
banger_client_vm_workspace_pull_async (BangerClient *client, const char *name,
                                       BangerWorkspaceFlags flags, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  workspace_call (client, "vm.workspace_pull", name, flags, banger_client_vm_workspace_pull_async,
                  cancellable, callback, user_data);
}

/**
 * banger_client_vm_workspace_pull_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the report, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerWorkspaceReport *
banger_client_vm_workspace_pull_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return workspace_finish (client, result, banger_client_vm_workspace_pull_async, error);
}

/**
 * banger_client_vm_workspace_status_async:
 * @client: a #BangerClient
 * @name: the VM's name (running)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the report
 * @user_data: data for @callback
 *
 * Compares both sides with the last sync without changing anything: the
 * report lists the host's changes, the guest's and the conflicts.
 *
 * Since: 0.2
 */
void
banger_client_vm_workspace_status_async (BangerClient *client, const char *name,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  workspace_call (client, "vm.workspace_status", name, BANGER_WORKSPACE_FLAGS_NONE,
                  banger_client_vm_workspace_status_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_workspace_status_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the report, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerWorkspaceReport *
banger_client_vm_workspace_status_finish (BangerClient *client, GAsyncResult *result,
                                          GError **error)
{
  return workspace_finish (client, result, banger_client_vm_workspace_status_async, error);
}
