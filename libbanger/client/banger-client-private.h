/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client's insides: the value types made from the engine's JSON. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-client-events.h"
#include "banger-client-stream.h"
#include "banger-client.h"
#include "banger-doctor-check.h"
#include "banger-engine.h"
#include "banger-priv-client.h"
#include "banger-priv-op.h"
#include "banger-vm-types.h"
#include "banger-snapshot-types.h"

G_BEGIN_DECLS

struct _BangerClient
{
  GObject parent_instance;
  char *socket_path; /* socket mode */
  BangerPrivClient *priv_client;
  BangerEngine *engine; /* embedded mode */
  BangerPrivState *state;
  /* the event stream (banger-client-events.c) */
  BangerClientStreamCall *events;
  gboolean subscribed;      /* the subscription answered and is alive */
  GPtrArray *subscribe_waiters; /* GTask*: subscribe calls waiting for it */
};

/* "c" + 16 hex digits: the op id of one call, which @self starts in this
 * thread (banger_client_get_last_op_id() returns it from now on). */
char *banger_client_new_op_id (BangerClient *self);
void banger_client_emit_vm_state_changed (BangerClient *self, const char *name,
                                          BangerVmState state);

/* A call of @method (the ordinary one-reply kind), completing a task of
 * @source_tag with the value @convert makes of the result. */
typedef gpointer (*BangerClientConvertFunc) (JsonObject *result, GError **error);
void banger_client_call (BangerClient *self, const char *method, JsonObject *params,
                         BangerClientConvertFunc convert, GDestroyNotify destroy,
                         gpointer source_tag, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
gpointer banger_client_call_finish (BangerClient *self, GAsyncResult *result, gpointer source_tag,
                                    GError **error);

BangerDoctorCheck *banger_doctor_check_new (const char *name, BangerCheckStatus status,
                                            const char *message);

/* banger-client-events.c: the progress signal, and the subscription's end. */
void banger_client_events_class_init (GObjectClass *klass);
void banger_client_events_finalize (BangerClient *self);
gboolean banger_client_is_subscribed (BangerClient *self);

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

/* The "image" / "kernel" member of a reply as the value type. */
gpointer banger_client_convert_image (JsonObject *result, GError **error);
gpointer banger_client_convert_kernel (JsonObject *result, GError **error);
/* banger_client_call() with @emits: the value is a BangerVmInfo, emit
 * vm-state-changed (banger-client-snapshot.c). */
void banger_client_call_full (BangerClient *self, const char *method, JsonObject *params,
                              BangerClientConvertFunc convert, GDestroyNotify destroy,
                              gboolean emits, gpointer source_tag, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
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
