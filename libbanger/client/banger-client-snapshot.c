/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's running-VM calls: pause, resume, snapshots, restore,
 * stats, the balloon (doc/client.md). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-client-snapshot.h"

static gpointer
convert_snapshot (JsonObject *result, GError **error)
{
  JsonObject *o = banger_client_member_object (result, "snapshot", error);
  return o ? banger_snapshot_info_new_from_json (o, error) : NULL;
}

static gpointer
convert_snapshot_list (JsonObject *result, GError **error)
{
  return banger_client_convert_list (result, "snapshots",
                                     (BangerClientConvertFunc)banger_snapshot_info_new_from_json,
                                     (GDestroyNotify)banger_snapshot_info_unref, error);
}

static gpointer
convert_stats (JsonObject *result, GError **error)
{
  JsonObject *o = banger_client_member_object (result, "stats", error);
  return o ? banger_vm_stats_new_from_json (o, error) : NULL;
}

/**
 * banger_client_vm_pause_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Pauses a running VM: its vCPUs stop, its VMM, tap and address stay.  %BANGER_ERROR_BUSY unless it
 * is running.
 *
 * Since: 0.2
 */
void
banger_client_vm_pause_async (BangerClient *client, const char *name, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  banger_client_call_full (client, "vm.pause", p, banger_client_convert_vm,
                           (GDestroyNotify)banger_vm_info_unref, TRUE, banger_client_vm_pause_async,
                           cancellable, callback, user_data);
}

/**
 * banger_client_vm_pause_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, paused, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_pause_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_pause_async, error);
}

/**
 * banger_client_vm_resume_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Resumes a paused VM.  %BANGER_ERROR_BUSY unless it is paused.
 *
 * Since: 0.2
 */
void
banger_client_vm_resume_async (BangerClient *client, const char *name, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  banger_client_call_full (client, "vm.resume", p, banger_client_convert_vm,
                           (GDestroyNotify)banger_vm_info_unref, TRUE,
                           banger_client_vm_resume_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_resume_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, running, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_resume_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_resume_async, error);
}

/**
 * banger_client_vm_snapshot_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @snapshot_name: (nullable): the snapshot's name; %NULL: the VM's name and the time
 * @diff: a Diff snapshot over the VM's newest Full one (Firecracker only)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Snapshots a running or paused VM: its memory and device state and a copy-on-write point of its
 * disks, recorded by the engine.  A running VM is paused for it and resumed after.
 *
 * Since: 0.2
 */
void
banger_client_vm_snapshot_async (BangerClient *client, const char *name, const char *snapshot_name,
                                 gboolean diff, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  if (snapshot_name != NULL)
    json_object_set_string_member (p, "snapshot", snapshot_name);
  if (diff)
    json_object_set_boolean_member (p, "diff", TRUE);
  banger_client_call_full (client, "vm.snapshot", p, convert_snapshot,
                           (GDestroyNotify)banger_snapshot_info_unref, FALSE,
                           banger_client_vm_snapshot_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_snapshot_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the snapshot, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerSnapshotInfo *
banger_client_vm_snapshot_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_snapshot_async, error);
}

/**
 * banger_client_vm_restore_async:
 * @client: a #BangerClient
 * @snapshot: the snapshot's name
 * @name: (nullable): the new VM's name; %NULL: the snapshotted VM's name and 6 hex digits
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Makes a new VM that resumes from snapshot @name, with copy-on-write disks of its own over the
 * snapshot's, a fresh address and its own tap; several VMs may be restored from one snapshot.
 *
 * Since: 0.2
 */
void
banger_client_vm_restore_async (BangerClient *client, const char *snapshot, const char *name,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (snapshot != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "snapshot", snapshot);
  if (name != NULL)
    json_object_set_string_member (p, "name", name);
  banger_client_call_full (client, "vm.restore", p, banger_client_convert_vm,
                           (GDestroyNotify)banger_vm_info_unref, TRUE,
                           banger_client_vm_restore_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_restore_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new VM, running, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_restore_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_restore_async, error);
}

/**
 * banger_client_vm_stats_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Reads a running or paused VM's figures: CPU time and resident memory of its VMM, its balloon,
 * disk and network bytes.
 *
 * Since: 0.2
 */
void
banger_client_vm_stats_async (BangerClient *client, const char *name, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  banger_client_call_full (client, "vm.stats", p, convert_stats,
                           (GDestroyNotify)banger_vm_stats_unref, FALSE,
                           banger_client_vm_stats_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_stats_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the figures, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmStats *
banger_client_vm_stats_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_stats_async, error);
}

/**
 * banger_client_vm_set_balloon_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @balloon_mib: MiB the balloon takes from the guest (0: none)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Sets the balloon of a running or paused VM (Firecracker's balloon device, QEMU's virtio-balloon):
 * the memory it takes back from the guest.
 *
 * Since: 0.2
 */
void
banger_client_vm_set_balloon_async (BangerClient *client, const char *name, guint64 balloon_mib,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  json_object_set_int_member (p, "balloon_mib", (gint64)balloon_mib);
  banger_client_call_full (client, "vm.set", p, banger_client_convert_vm,
                           (GDestroyNotify)banger_vm_info_unref, FALSE,
                           banger_client_vm_set_balloon_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_set_balloon_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_set_balloon_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_vm_set_balloon_async, error);
}

/**
 * banger_client_snapshot_list_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Lists the snapshots.
 *
 * Since: 0.2
 */
void
banger_client_snapshot_list_async (BangerClient *client, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  p = json_object_new ();
  banger_client_call_full (client, "snapshot.list", p, convert_snapshot_list,
                           (GDestroyNotify)g_ptr_array_unref, FALSE,
                           banger_client_snapshot_list_async, cancellable, callback, user_data);
}

/**
 * banger_client_snapshot_list_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BangerSnapshotInfo): the snapshots by name, or %NULL
 * with @error set
 *
 * Since: 0.2
 */
GPtrArray *
banger_client_snapshot_list_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_snapshot_list_async, error);
}

/**
 * banger_client_snapshot_delete_async:
 * @client: a #BangerClient
 * @name: the snapshot's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Deletes snapshot @name and its files.  %BANGER_ERROR_BUSY while a Diff snapshot follows it.
 *
 * Since: 0.2
 */
void
banger_client_snapshot_delete_async (BangerClient *client, const char *name,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  banger_client_call_full (client, "snapshot.delete", p, banger_client_convert_true, NULL, FALSE,
                           banger_client_snapshot_delete_async, cancellable, callback, user_data);
}

/**
 * banger_client_snapshot_delete_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_snapshot_delete_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_snapshot_delete_async, error)
         != NULL;
}
