/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vm.exec's output pushed as events (banger-engine-exec.h). */
#include "config.h"

#include <json-glib/json-glib.h>

#include "banger-engine-exec.h"
#include "banger-error.h"

#define BANGER_TYPE_EXEC_OUTPUT (banger_exec_output_get_type ())
G_DECLARE_FINAL_TYPE (BangerExecOutput, banger_exec_output, BANGER, EXEC_OUTPUT, GOutputStream)

struct _BangerExecOutput
{
  GOutputStream parent_instance;
  BangerPrivStream *stream;
  int fd;
};

G_DEFINE_FINAL_TYPE (BangerExecOutput, banger_exec_output, G_TYPE_OUTPUT_STREAM)

static gssize
exec_output_write (GOutputStream *stream, const void *buffer, gsize count,
                   GCancellable *cancellable, GError **error)
{
  BangerExecOutput *self = BANGER_EXEC_OUTPUT (stream);
  gsize n = MIN (count, BANGER_ENGINE_EXEC_CHUNK);
  g_autofree char *data = g_base64_encode (buffer, n);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) event = NULL;

  if (n == 0)
    return 0;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "output");
  json_builder_set_member_name (b, "fd");
  json_builder_add_int_value (b, self->fd);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, data);
  json_builder_end_object (b);
  event = json_builder_get_root (b);
  if (!banger_priv_stream_push (self->stream, event, TRUE, cancellable, error))
    return -1;
  return (gssize)n;
}

static void
exec_output_finalize (GObject *object)
{
  BangerExecOutput *self = BANGER_EXEC_OUTPUT (object);

  g_clear_pointer (&self->stream, banger_priv_stream_unref);
  G_OBJECT_CLASS (banger_exec_output_parent_class)->finalize (object);
}

static void
banger_exec_output_class_init (BangerExecOutputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = exec_output_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = exec_output_write;
}

static void
banger_exec_output_init (BangerExecOutput *self)
{
}

GOutputStream *
banger_engine_exec_output_new (BangerPrivStream *stream, int fd)
{
  BangerExecOutput *self = g_object_new (BANGER_TYPE_EXEC_OUTPUT, NULL);

  self->stream = banger_priv_stream_ref (stream);
  self->fd = fd;
  return G_OUTPUT_STREAM (self);
}
