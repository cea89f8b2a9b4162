/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's method table (see banger-engine-ops.h, doc/daemon.md). */
#include "config.h"

#include <unistd.h>

#include "banger-engine-doctor.h"
#include "banger-engine-events.h"
#include "banger-engine-exec.h"
#include "banger-engine-ops.h"
#include "banger-engine-ops-private.h"
#include "banger-engine-ops-reach.h"
#include "banger-engine-private.h"
#include "banger-engine-pull.h"
#include "banger-engine-reach.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-executor.h"

static BangerEngine *
engine_of (BangerPrivState *state)
{
  return BANGER_ENGINE (state->table_data);
}

BangerPrivState *
banger_engine_ops_state_new (BangerEngine *engine)
{
  g_autoptr (BangerInstallConfig) ic = banger_install_config_new ();
  const BangerEngineConfig *c = banger_engine_get_config (engine);
  BangerPrivState *state;

  ic->owner_uid = getuid ();
  ic->owner_gid = getgid ();
  g_free (ic->runtime_dir);
  ic->runtime_dir = g_strdup (c->runtime_dir);
  g_free (ic->state_dir);
  ic->state_dir = g_strdup (c->state_dir);
  state = banger_priv_state_new (ic);
  state->table_data = engine;
  return state;
}

/* --------------------------------------------------------------- output */

void
banger_engine_json_add_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
banger_engine_json_add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
banger_engine_ops_add_vm (JsonBuilder *b, const BangerEngineVmInfo *info)
{
  const BangerStoreVm *vm = info->vm;

  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "id", vm->id);
  banger_engine_json_add_str (b, "name", vm->name);
  banger_engine_json_add_str (b, "state", banger_store_vm_state_to_string (vm->state));
  banger_engine_json_add_str (b, "vmm", banger_store_vmm_to_string (vm->vmm));
  banger_engine_json_add_str (b, "image", info->image);
  banger_engine_json_add_str (b, "kernel", info->kernel);
  banger_engine_json_add_int (b, "vcpus", vm->vcpus);
  banger_engine_json_add_int (b, "memory_mib", (gint64)vm->memory_mib);
  banger_engine_json_add_int (b, "work_disk_bytes", (gint64)vm->work_disk_bytes);
  banger_engine_json_add_str (b, "rootfs_cow", banger_store_rootfs_cow_to_string (vm->rootfs_cow));
  banger_engine_json_add_int (b, "pid", info->pid);
  banger_engine_json_add_str (b, "ip", info->ip);
  banger_engine_json_add_str (b, "tap", info->tap);
  banger_engine_json_add_str (b, "publish", info->publish);
  banger_engine_json_add_str (b, "egress", info->egress);
  banger_engine_json_add_int (b, "created_at", vm->created_at);
  banger_engine_json_add_str (b, "failed_step", vm->failed_step);
  banger_engine_json_add_str (b, "error", vm->error);
  json_builder_end_object (b);
}

static void
add_kernel (JsonBuilder *b, const BangerStoreKernel *k)
{
  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "id", k->id);
  banger_engine_json_add_str (b, "name", k->name);
  banger_engine_json_add_str (b, "kernel", k->kernel_path);
  banger_engine_json_add_str (b, "initrd", k->initrd_path);
  banger_engine_json_add_str (b, "cmdline", k->cmdline);
  banger_engine_json_add_str (b, "ref", k->ref);
  banger_engine_json_add_str (b, "digest", k->digest);
  banger_engine_json_add_int (b, "created_at", k->created_at);
  json_builder_end_object (b);
}

static void
add_image (JsonBuilder *b, const BangerStoreImage *i)
{
  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "id", i->id);
  banger_engine_json_add_str (b, "name", i->name);
  banger_engine_json_add_str (b, "rootfs", i->rootfs_path);
  banger_engine_json_add_int (b, "size_bytes", (gint64)i->size_bytes);
  banger_engine_json_add_str (b, "ref", i->ref);
  banger_engine_json_add_str (b, "digest", i->digest);
  banger_engine_json_add_int (b, "created_at", i->created_at);
  json_builder_end_object (b);
}

void
banger_engine_ops_add_image (JsonBuilder *b, const BangerStoreImage *image)
{
  add_image (b, image);
}

void
banger_engine_ops_add_kernel (JsonBuilder *b, const BangerStoreKernel *kernel)
{
  add_kernel (b, kernel);
}

/* ------------------------------------------------------------- handlers */

#define HANDLER(fn)                                                                                \
  static gboolean fn (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,    \
                      JsonBuilder *result, GCancellable *cancellable, GError **error)

static const char *
opt_str (JsonObject *params, const char *name)
{
  return json_object_get_string_member_with_default (params, name, NULL);
}

/* The operations table of the store: a row per mutating request (kind,
 * target, start/end, state, error), under the request's op id. */
char *
banger_engine_ops_record_begin (BangerPrivState *state, const char *kind, const char *target)
{
  BangerEngine *e = BANGER_ENGINE (state->table_data);
  g_autoptr (BangerStoreOp) op = banger_store_op_begin (
      banger_engine_get_store (e), banger_priv_current_op_id (), kind, target, NULL);
  return op ? g_strdup (op->id) : NULL;
}

gboolean
banger_engine_ops_record_end (BangerPrivState *state, char *id, gboolean ok, GError **error)
{
  BangerEngine *e = BANGER_ENGINE (state->table_data);
  BangerStoreOpState st = BANGER_STORE_OP_SUCCEEDED;

  if (!ok)
    st = (*error)->domain == BANGER_ERROR && (*error)->code == BANGER_ERROR_CANCELLED
             ? BANGER_STORE_OP_CANCELLED
             : BANGER_STORE_OP_FAILED;
  if (id != NULL)
    banger_store_op_finish (banger_engine_get_store (e), id, st, ok ? NULL : *error, NULL);
  g_free (id);
  return ok;
}

/* HANDLER_RECORDED (fn, kind): the handler fn##_run, recorded as @kind. */
#define HANDLER_RECORDED(fn, kind)                                                                 \
  static gboolean fn##_run (BangerPrivState *state, JsonObject *params, JsonBuilder *result,       \
                            GCancellable *cancellable, GError **error);                            \
  HANDLER (fn)                                                                                     \
  {                                                                                                \
    char *id = banger_engine_ops_record_begin (                                                    \
        state, kind, json_object_get_string_member_with_default (params, "name", NULL));           \
    return banger_engine_ops_record_end (                                                          \
        state, id, fn##_run (state, params, result, cancellable, error), error);                   \
  }                                                                                                \
  static gboolean fn##_run (BangerPrivState *state, JsonObject *params, JsonBuilder *result,       \
                            GCancellable *cancellable, GError **error)

/* The op id of the request being served (set by the server or the embedded
 * client around the call): it names the work in every log line, here and
 * in bangerd-root. */
#define OP_ID banger_priv_current_op_id ()

HANDLER (op_status)
{
  BangerEngine *e = engine_of (state);
  const BangerEngineConfig *c = banger_engine_get_config (e);

  banger_engine_json_add_str (result, "version", PACKAGE_VERSION);
  banger_engine_json_add_str (result, "backend", banger_priv_backend_describe (banger_engine_get_backend (e)));
  banger_engine_json_add_str (result, "state_dir", c->state_dir);
  banger_engine_json_add_str (result, "runtime_dir", c->runtime_dir);
  banger_engine_json_add_str (result, "subnet", c->subnet);
  banger_engine_status_host (e, result); /* rootfs_cow, tap pool */
  return TRUE;
}

HANDLER_RECORDED (op_kernel_add, "kernel.add")
{
  g_autoptr (BangerStoreKernel) k = banger_engine_kernel_add (
      engine_of (state), opt_str (params, "name"), opt_str (params, "kernel"),
      opt_str (params, "initrd"), opt_str (params, "cmdline"), OP_ID, cancellable, error);
  if (k == NULL)
    return FALSE;
  json_builder_set_member_name (result, "kernel");
  add_kernel (result, k);
  return TRUE;
}

HANDLER (op_kernel_list)
{
  g_autoptr (GPtrArray) list = banger_engine_kernel_list (engine_of (state), error);

  if (list == NULL)
    return FALSE;
  json_builder_set_member_name (result, "kernels");
  json_builder_begin_array (result);
  for (guint i = 0; i < list->len; i++)
    add_kernel (result, list->pdata[i]);
  json_builder_end_array (result);
  return TRUE;
}

HANDLER_RECORDED (op_kernel_delete, "kernel.delete")
{
  return banger_engine_kernel_delete (engine_of (state), opt_str (params, "name"), OP_ID, error);
}

HANDLER_RECORDED (op_image_import, "image.import")
{
  g_autoptr (BangerStoreImage) i
      = banger_engine_image_import (engine_of (state), opt_str (params, "name"),
                                    opt_str (params, "rootfs"), OP_ID, cancellable, error);
  if (i == NULL)
    return FALSE;
  json_builder_set_member_name (result, "image");
  add_image (result, i);
  return TRUE;
}

HANDLER (op_image_list)
{
  g_autoptr (GPtrArray) list = banger_engine_image_list (engine_of (state), error);

  if (list == NULL)
    return FALSE;
  json_builder_set_member_name (result, "images");
  json_builder_begin_array (result);
  for (guint i = 0; i < list->len; i++)
    add_image (result, list->pdata[i]);
  json_builder_end_array (result);
  return TRUE;
}

HANDLER_RECORDED (op_image_delete, "image.delete")
{
  return banger_engine_image_delete (engine_of (state), opt_str (params, "name"), OP_ID, error);
}

static gboolean
reply_vm (BangerPrivState *state, const char *name, JsonBuilder *result, GError **error)
{
  g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (engine_of (state), name, error);

  if (info == NULL)
    return FALSE;
  json_builder_set_member_name (result, "vm");
  banger_engine_ops_add_vm (result, info);
  return TRUE;
}

HANDLER_RECORDED (op_vm_create, "vm.create")
{
  BangerEngineVmSpec spec = { 0 };
  const char *vmm = opt_str (params, "vmm");
  g_auto (GStrv) publish = NULL;
  g_autoptr (BangerEngineVmInfo) info = NULL;
  /* a reference that is no local image is pulled first (banger-engine-pull.c) */
  g_autofree char *image = banger_engine_image_resolve (
      engine_of (state), opt_str (params, "image"), OP_ID, cancellable, error);

  if (image == NULL)
    return FALSE;
  spec.name = opt_str (params, "name");
  spec.image = image;
  spec.kernel = opt_str (params, "kernel");
  spec.vcpus = (guint)json_object_get_int_member_with_default (params, "vcpus", 0);
  spec.memory_mib = (guint64)json_object_get_int_member_with_default (params, "memory_mib", 0);
  spec.work_disk_bytes
      = (guint64)json_object_get_int_member_with_default (params, "work_disk_bytes", 0);
  spec.no_start = json_object_get_boolean_member_with_default (params, "no_start", FALSE);
  spec.workspace = opt_str (params, "workspace");
  /* publish: comma-joined texts (the tables have no arrays); egress as given */
  publish
      = g_strsplit (json_object_get_string_member_with_default (params, "publish", ""), ",", -1);
  spec.publish
      = (const char *const *)(publish[0] != NULL && publish[0][0] != '\0' ? publish : NULL);
  spec.egress = opt_str (params, "egress");
  spec.vmm = -1;
  if (vmm != NULL)
    {
      BangerStoreVmm v;
      if (!banger_store_vmm_from_string (vmm, &v))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "VMM '%s' is not firecracker or qemu", vmm);
          return FALSE;
        }
      spec.vmm = (int)v;
    }
  info = banger_engine_vm_create (engine_of (state), &spec, OP_ID, cancellable, error);
  if (info == NULL)
    return FALSE;
  json_builder_set_member_name (result, "vm");
  banger_engine_ops_add_vm (result, info);
  return TRUE;
}

/* vm.port: the VM's publishes (stored), its egress and, while it runs,
 * what banger's nftables table holds for it. */
HANDLER (op_vm_port)
{
  g_autofree char *publish = NULL;
  g_autofree char *egress = NULL;
  g_autofree char *active = NULL;

  if (!banger_engine_vm_ports (engine_of (state), opt_str (params, "name"), &publish, &egress,
                               &active, error))
    return FALSE;
  banger_engine_json_add_str (result, "publish", publish);
  banger_engine_json_add_str (result, "egress", egress);
  banger_engine_json_add_str (result, "active", active);
  return TRUE;
}

HANDLER (op_vm_get) { return reply_vm (state, opt_str (params, "name"), result, error); }

HANDLER (op_vm_list)
{
  g_autoptr (GPtrArray) list = banger_engine_vm_list (engine_of (state), error);

  if (list == NULL)
    return FALSE;
  json_builder_set_member_name (result, "vms");
  json_builder_begin_array (result);
  for (guint i = 0; i < list->len; i++)
    banger_engine_ops_add_vm (result, list->pdata[i]);
  json_builder_end_array (result);
  return TRUE;
}

HANDLER_RECORDED (op_vm_start, "vm.start")
{
  const char *name = opt_str (params, "name");
  return banger_engine_vm_start (engine_of (state), name, OP_ID, cancellable, error)
         && reply_vm (state, name, result, error);
}

HANDLER_RECORDED (op_vm_stop, "vm.stop")
{
  const char *name = opt_str (params, "name");
  return banger_engine_vm_stop (engine_of (state), name, OP_ID, cancellable, error)
         && reply_vm (state, name, result, error);
}

HANDLER_RECORDED (op_vm_kill, "vm.kill")
{
  const char *name = opt_str (params, "name");
  return banger_engine_vm_kill (engine_of (state), name, OP_ID, cancellable, error)
         && reply_vm (state, name, result, error);
}

HANDLER_RECORDED (op_vm_delete, "vm.delete")
{
  return banger_engine_vm_delete (engine_of (state), opt_str (params, "name"), OP_ID, cancellable,
                                  error);
}

HANDLER_RECORDED (op_vm_set, "vm.set")
{
  const char *name = opt_str (params, "name");
  if (json_object_has_member (params, "balloon_mib"))
    return banger_engine_ops_set_balloon (state, params, result, cancellable, error);
  return banger_engine_vm_set (
             engine_of (state), name,
             (guint)json_object_get_int_member_with_default (params, "vcpus", 0),
             (guint64)json_object_get_int_member_with_default (params, "memory_mib", 0), OP_ID,
             error)
         && reply_vm (state, name, result, error);
}

/* argv travels as the text of a JSON array of strings (the parameter
 * tables have no array type): parsed here strictly. */
static GStrv
parse_argv (const char *text, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  JsonNode *root;
  JsonArray *a;

  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_ARRAY (root)
      || json_array_get_length (a = json_node_get_array (root)) == 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "vm.exec: parameter 'argv' is not a non-empty JSON array of strings");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "vm.exec: argv[%u] is not a string", i);
          return NULL;
        }
      g_strv_builder_add (b, json_node_get_string (n));
    }
  return g_strv_builder_end (b);
}

HANDLER (op_vm_exec)
{
  g_auto (GStrv) argv = parse_argv (opt_str (params, "argv"), error);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) err = g_memory_output_stream_new_resizable ();
  int status = -1;
  gsize n_out, n_err;

  if (argv == NULL)
    return FALSE;
  if (json_object_get_boolean_member_with_default (params, "stream", FALSE))
    {
      /* the output as events while it runs (banger-engine-exec.h) */
      g_autoptr (GOutputStream) so = NULL, se = NULL;
      BangerPrivStream *stream = banger_priv_current_stream ();

      if (stream == NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                               "vm.exec: 'stream' needs a connection that carries events");
          return FALSE;
        }
      so = banger_engine_exec_output_new (stream, 1);
      se = banger_engine_exec_output_new (stream, 2);
      if (!banger_engine_vm_exec (engine_of (state), opt_str (params, "name"),
                                  (const char *const *)argv, so, se, &status, cancellable, error))
        return FALSE;
      banger_engine_json_add_int (result, "exit_status", status);
      return TRUE;
    }
  if (!banger_engine_vm_exec (engine_of (state), opt_str (params, "name"),
                              (const char *const *)argv, out, err, &status, cancellable, error))
    return FALSE;
  g_output_stream_close (out, NULL, NULL);
  g_output_stream_close (err, NULL, NULL);
  n_out = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
  n_err = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (err));
  if (n_out + n_err > BANGER_ENGINE_EXEC_OUTPUT_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "vm.exec: the command wrote %" G_GSIZE_FORMAT
                   " bytes; this version carries at most %d (no streaming yet)",
                   n_out + n_err, BANGER_ENGINE_EXEC_OUTPUT_MAX);
      return FALSE;
    }
  {
    g_autofree char *o
        = g_base64_encode (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)), n_out);
    g_autofree char *e
        = g_base64_encode (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (err)), n_err);
    banger_engine_json_add_int (result, "exit_status", status);
    banger_engine_json_add_str (result, "stdout", o);
    banger_engine_json_add_str (result, "stderr", e);
  }
  return TRUE;
}

/* ---------------------------------------------------------------- table */

#define NAME_PARAM(validator)                                                                      \
  {                                                                                                \
    "name", BANGER_PARAM_STRING, TRUE, 1, 128, validator                                           \
  }
#define PATH_PARAM(n, req)                                                                         \
  {                                                                                                \
    n, BANGER_PARAM_STRING, req, 1, 4095, NULL                                                     \
  }

static const BangerParamSpec no_params[] = { { NULL } };
static const BangerParamSpec object_name_params[] = { NAME_PARAM (NULL), { NULL } };
static const BangerParamSpec vm_name_params[] = { NAME_PARAM (banger_validate_vm_name), { NULL } };
static const BangerParamSpec kernel_add_params[] = {
  NAME_PARAM (NULL),
  PATH_PARAM ("kernel", TRUE),
  PATH_PARAM ("initrd", FALSE),
  { "cmdline", BANGER_PARAM_STRING, FALSE, 0, 2048, NULL },
  { NULL },
};
static const BangerParamSpec image_import_params[] = {
  NAME_PARAM (NULL),
  PATH_PARAM ("rootfs", TRUE),
  { NULL },
};
static const BangerParamSpec vm_create_params[] = {
  NAME_PARAM (banger_validate_vm_name),
  { "image", BANGER_PARAM_STRING, TRUE, 1, BANGER_ENGINE_REF_MAX, NULL },
  { "kernel", BANGER_PARAM_STRING, TRUE, 1, 128, NULL },
  { "vcpus", BANGER_PARAM_INT, FALSE, 1, 32, NULL },
  { "memory_mib", BANGER_PARAM_INT, FALSE, 64, 262144, NULL },
  { "work_disk_bytes", BANGER_PARAM_INT, FALSE, 0, G_GINT64_CONSTANT (17592186044416), NULL },
  { "vmm", BANGER_PARAM_STRING, FALSE, 1, 16, NULL },
  { "no_start", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "workspace", BANGER_PARAM_STRING, FALSE, 1, 8192, NULL },
  { "publish", BANGER_PARAM_STRING, FALSE, 0, 32 * 65, NULL },
  { "egress", BANGER_PARAM_STRING, FALSE, 1, 32 * 19, NULL },
  { NULL },
};
static const BangerParamSpec vm_set_params[] = {
  NAME_PARAM (banger_validate_vm_name),
  { "vcpus", BANGER_PARAM_INT, FALSE, 1, 32, NULL },
  { "memory_mib", BANGER_PARAM_INT, FALSE, 64, 262144, NULL },
  { "balloon_mib", BANGER_PARAM_INT, FALSE, 0, 262144, NULL },
  { NULL },
};
static const BangerParamSpec vm_exec_params[] = {
  NAME_PARAM (banger_validate_vm_name),
  { "argv", BANGER_PARAM_STRING, TRUE, 2, 60000, NULL },
  { "stream", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { NULL },
};

/* Every method is CONCURRENT: the engine is thread-safe (per-VM locks, the
 * store's transactions), so a slow create does not hold up `vm ls`; and
 * WORKER: each runs in a worker thread, never on the server's main thread
 * (which answers root's quick CONCURRENT requests inline). */
static const BangerPrivOp ops[] = {
  { "engine.status", no_params, op_status, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "engine.subscribe", no_params, banger_engine_op_subscribe,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "engine.doctor", no_params, banger_engine_op_doctor,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "kernel.add", kernel_add_params, op_kernel_add,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "kernel.list", no_params, op_kernel_list, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "kernel.delete", object_name_params, op_kernel_delete,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "image.import", image_import_params, op_image_import,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "image.list", no_params, op_image_list, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "image.delete", object_name_params, op_image_delete,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  BANGER_ENGINE_PULL_OPS,
  { "vm.create", vm_create_params, op_vm_create,
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.get", vm_name_params, op_vm_get, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.list", no_params, op_vm_list, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.start", vm_name_params, op_vm_start, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.stop", vm_name_params, op_vm_stop, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.kill", vm_name_params, op_vm_kill, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.delete", vm_name_params, op_vm_delete, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.set", vm_set_params, op_vm_set, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "vm.exec", vm_exec_params, op_vm_exec, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  BANGER_ENGINE_REACH_OPS,
  { "vm.port", vm_name_params, op_vm_port, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { NULL, NULL, NULL, 0 },
};

/* The table: ops above, then the method tables of other engine files
 * (each NULL-terminated), concatenated once. */
const BangerPrivOp *
banger_engine_ops_table (void)
{
  static gsize once = 0;
  static BangerPrivOp *all;

  if (g_once_init_enter (&once))
    {
      const BangerPrivOp *const parts[] = { ops, banger_engine_snapshot_ops };
      GArray *a = g_array_new (TRUE, TRUE, sizeof (BangerPrivOp));

      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        for (const BangerPrivOp *op = parts[i]; op->method != NULL; op++)
          g_array_append_val (a, *op);
      all = (BangerPrivOp *)g_array_free (a, FALSE);
      g_once_init_leave (&once, 1);
    }
  return all;
}
