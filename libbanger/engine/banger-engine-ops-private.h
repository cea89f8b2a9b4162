/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the method table's files share (banger-engine-ops.c and the
 * service files that add methods to it: banger-engine-ops-pull.c, -reach,
 * snapshot-ops; the event stream's JSON too). */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-engine.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

/* Longest image reference accepted on the wire (vm.create's image too). */
#define BANGER_ENGINE_REF_MAX 1024

/* A reply or event member: a string (NULL: null), an integer. */
void banger_engine_json_add_str (JsonBuilder *b, const char *name, const char *value);
void banger_engine_json_add_int (JsonBuilder *b, const char *name, gint64 value);

/* The image and kernel objects of the replies (doc/daemon.md). */
void banger_engine_ops_add_image (JsonBuilder *b, const BangerStoreImage *image);
void banger_engine_ops_add_kernel (JsonBuilder *b, const BangerStoreKernel *kernel);

/* A row of the operations table for the request being served; end takes
 * the id and returns @ok. */
char *banger_engine_ops_record_begin (BangerPrivState *state, const char *kind,
                                      const char *target);
gboolean banger_engine_ops_record_end (BangerPrivState *state, char *id, gboolean ok,
                                       GError **error);

/* image.pull, kernel.pull, image.prune (banger-engine-ops-pull.c) */
extern const BangerParamSpec banger_engine_image_pull_params[];
extern const BangerParamSpec banger_engine_kernel_pull_params[];
gboolean banger_engine_op_image_pull (BangerPrivState *state, const BangerPeerCred *caller,
                                      JsonObject *params, JsonBuilder *result,
                                      GCancellable *cancellable, GError **error);
gboolean banger_engine_op_kernel_pull (BangerPrivState *state, const BangerPeerCred *caller,
                                       JsonObject *params, JsonBuilder *result,
                                       GCancellable *cancellable, GError **error);
gboolean banger_engine_op_image_prune (BangerPrivState *state, const BangerPeerCred *caller,
                                       JsonObject *params, JsonBuilder *result,
                                       GCancellable *cancellable, GError **error);

#define BANGER_ENGINE_PULL_OPS                                                                     \
  { "image.pull", banger_engine_image_pull_params, banger_engine_op_image_pull,                    \
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },                                           \
  { "kernel.pull", banger_engine_kernel_pull_params, banger_engine_op_kernel_pull,               \
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },                                           \
  { "image.prune", banger_engine_no_params, banger_engine_op_image_prune,                         \
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER }

extern const BangerParamSpec banger_engine_no_params[];

G_END_DECLS
