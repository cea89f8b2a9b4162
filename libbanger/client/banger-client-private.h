/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client's insides: the value types made from the engine's JSON. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-client.h"
#include "banger-vm-types.h"

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

/* call_async()/finish() of banger-client.c, for the client's other files:
 * runs @method with @params (taken); the task's value is what @convert
 * makes of the result (freed with @destroy). */
void banger_client_call_internal_async (BangerClient *self, const char *method, JsonObject *params,
                                        gpointer (*convert) (JsonObject *, GError **),
                                        GDestroyNotify destroy, gpointer source_tag,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
gpointer banger_client_call_internal_finish (BangerClient *self, GAsyncResult *result,
                                             gpointer source_tag, GError **error);

G_END_DECLS
