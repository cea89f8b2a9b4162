/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pull methods of the engine's table: image.pull, kernel.pull,
 * image.prune (doc/daemon.md). */
#include "config.h"

#include "banger-engine-ops-private.h"
#include "banger-engine-pull.h"
#include "banger-error.h"
#include "banger-priv-executor.h"

const BangerParamSpec banger_engine_no_params[] = { { NULL } };

const BangerParamSpec banger_engine_image_pull_params[] = {
  { "ref", BANGER_PARAM_STRING, TRUE, 1, BANGER_ENGINE_REF_MAX, NULL },
  { "name", BANGER_PARAM_STRING, FALSE, 1, 128, NULL },
  /* at most 1 TiB (banger_rootfs_build_ext4's limit) */
  { "size_bytes", BANGER_PARAM_INT, FALSE, 0, G_GINT64_CONSTANT (1099511627776), NULL },
  { NULL },
};

const BangerParamSpec banger_engine_kernel_pull_params[] = {
  { "source", BANGER_PARAM_STRING, TRUE, 1, BANGER_ENGINE_REF_MAX, NULL },
  { "name", BANGER_PARAM_STRING, FALSE, 1, 128, NULL },
  { "sha256", BANGER_PARAM_STRING, FALSE, 64, 64, NULL },
  { NULL },
};

static BangerEngine *
engine_of (BangerPrivState *state)
{
  return BANGER_ENGINE (state->table_data);
}

static const char *
opt_str (JsonObject *params, const char *name)
{
  return json_object_get_string_member_with_default (params, name, NULL);
}

static const char *
target_of (JsonObject *params, const char *source_key)
{
  const char *name = opt_str (params, "name");
  return name ? name : opt_str (params, source_key);
}

gboolean
banger_engine_op_image_pull (BangerPrivState *state, const BangerPeerCred *caller,
                             JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                             GError **error)
{
  char *id = banger_engine_ops_record_begin (state, "image.pull", target_of (params, "ref"));
  g_autoptr (BangerStoreImage) image = banger_engine_image_pull (
      engine_of (state), opt_str (params, "ref"), opt_str (params, "name"),
      (guint64)json_object_get_int_member_with_default (params, "size_bytes", 0),
      banger_priv_current_op_id (), cancellable, error);

  if (image != NULL)
    {
      json_builder_set_member_name (result, "image");
      banger_engine_ops_add_image (result, image);
    }
  return banger_engine_ops_record_end (state, id, image != NULL, error);
}

gboolean
banger_engine_op_kernel_pull (BangerPrivState *state, const BangerPeerCred *caller,
                              JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                              GError **error)
{
  char *id = banger_engine_ops_record_begin (state, "kernel.pull", target_of (params, "source"));
  g_autoptr (BangerStoreKernel) kernel = banger_engine_kernel_pull (
      engine_of (state), opt_str (params, "source"), opt_str (params, "name"),
      opt_str (params, "sha256"), banger_priv_current_op_id (), cancellable, error);

  if (kernel != NULL)
    {
      json_builder_set_member_name (result, "kernel");
      banger_engine_ops_add_kernel (result, kernel);
    }
  return banger_engine_ops_record_end (state, id, kernel != NULL, error);
}

gboolean
banger_engine_op_image_prune (BangerPrivState *state, const BangerPeerCred *caller,
                              JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                              GError **error)
{
  char *id = banger_engine_ops_record_begin (state, "image.prune", NULL);
  guint removed = 0;
  guint64 bytes = 0;
  gboolean ok = banger_engine_image_prune (engine_of (state), &removed, &bytes,
                                           banger_priv_current_op_id (), error);

  if (ok)
    {
      json_builder_set_member_name (result, "removed_blobs");
      json_builder_add_int_value (result, removed);
      json_builder_set_member_name (result, "removed_bytes");
      json_builder_add_int_value (result, (gint64)bytes);
    }
  return banger_engine_ops_record_end (state, id, ok, error);
}
