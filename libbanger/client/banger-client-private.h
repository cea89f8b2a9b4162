/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client's insides: the value types made from the engine's JSON. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-client.h"
#include "banger-vm-types.h"
#include "banger-snapshot-types.h"

G_BEGIN_DECLS

typedef enum
{
  CLIENT_FIELD_STRING,
  CLIENT_FIELD_STRING_NULLABLE,
  CLIENT_FIELD_INT,
} ClientFieldType;

typedef struct
{
  const char *name;
  ClientFieldType type;
} ClientField;

/* Every field present with its type; PROTOCOL naming the first that is not. */
gboolean banger_client_check_fields (JsonObject *obj, const ClientField *fields, const char *what,
                                     GError **error);

gboolean banger_vm_state_from_string (const char *s, BangerVmState *out);
gboolean banger_vmm_kind_from_string (const char *s, BangerVmmKind *out);
BangerVmInfo *banger_vm_info_new_from_json (JsonObject *obj, GError **error);
BangerImageInfo *banger_image_info_new_from_json (JsonObject *obj, GError **error);
BangerKernelInfo *banger_kernel_info_new_from_json (JsonObject *obj, GError **error);

/* The call machinery of banger-client.c, for the other client files
 * (banger-client-snapshot.c): run @method with @params (taken) and
 * complete a task of @source_tag with what @convert makes of the result;
 * @emits: the value is a BangerVmInfo, emit vm-state-changed. */
typedef gpointer (*BangerClientConvertFunc) (JsonObject *result, GError **error);
void banger_client_call_async (BangerClient *self, const char *method, JsonObject *params,
                               BangerClientConvertFunc convert, GDestroyNotify destroy,
                               gboolean emits, gpointer source_tag, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gpointer banger_client_call_finish (BangerClient *self, GAsyncResult *result, gpointer source_tag,
                                    GError **error);
/* {"vm": VM} → BangerVmInfo; anything → TRUE; {member: [objects]} → a
 * GPtrArray of what @item makes of each; the object @name of @result. */
gpointer banger_client_convert_vm (JsonObject *result, GError **error);
gpointer banger_client_convert_true (JsonObject *result, GError **error);
gpointer banger_client_convert_list (JsonObject *result, const char *member,
                                     BangerClientConvertFunc item, GDestroyNotify free_item,
                                     GError **error);
JsonObject *banger_client_member_object (JsonObject *result, const char *name, GError **error);

BangerSnapshotInfo *banger_snapshot_info_new_from_json (JsonObject *obj, GError **error);
BangerVmStats *banger_vm_stats_new_from_json (JsonObject *obj, GError **error);

G_END_DECLS
