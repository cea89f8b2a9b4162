/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's event stream (banger-engine-events.h). */
#include "config.h"

#include "banger-engine-events.h"
#include "banger-engine-private.h"
#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-priv-stream.h"
#include "banger-engine-ops-private.h"

typedef struct
{
  guint id;
  BangerEngineEventFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Subscriber;

struct _BangerEngineEvents
{
  GMutex lock; /* held while an event is delivered: one order for everyone */
  GPtrArray *subscribers; /* Subscriber* */
  guint next_id;
};

static void
subscriber_free (Subscriber *s)
{
  if (s->destroy != NULL)
    s->destroy (s->data);
  g_free (s);
}

BangerEngineEvents *
banger_engine_events_new (void)
{
  BangerEngineEvents *ev = g_new0 (BangerEngineEvents, 1);

  g_mutex_init (&ev->lock);
  ev->subscribers = g_ptr_array_new_with_free_func ((GDestroyNotify)subscriber_free);
  ev->next_id = 1;
  return ev;
}

void
banger_engine_events_free (BangerEngineEvents *ev)
{
  if (ev == NULL)
    return;
  g_ptr_array_unref (ev->subscribers);
  g_mutex_clear (&ev->lock);
  g_free (ev);
}

guint
banger_engine_subscribe (BangerEngine *self, BangerEngineEventFunc func, gpointer user_data,
                         GDestroyNotify destroy)
{
  BangerEngineEvents *ev = self->events;
  Subscriber *s = g_new0 (Subscriber, 1);
  guint id;

  s->func = func;
  s->data = user_data;
  s->destroy = destroy;
  g_mutex_lock (&ev->lock);
  id = s->id = ev->next_id++;
  g_ptr_array_add (ev->subscribers, s);
  g_mutex_unlock (&ev->lock);
  return id;
}

void
banger_engine_unsubscribe (BangerEngine *self, guint id)
{
  BangerEngineEvents *ev = self->events;
  Subscriber *gone = NULL;

  g_mutex_lock (&ev->lock);
  for (guint i = 0; i < ev->subscribers->len; i++)
    if (((Subscriber *)ev->subscribers->pdata[i])->id == id)
      {
        gone = g_ptr_array_steal_index (ev->subscribers, i);
        break;
      }
  g_mutex_unlock (&ev->lock);
  if (gone != NULL)
    subscriber_free (gone);
}

guint
banger_engine_get_n_subscribers (BangerEngine *self)
{
  guint n;

  g_mutex_lock (&self->events->lock);
  n = self->events->subscribers->len;
  g_mutex_unlock (&self->events->lock);
  return n;
}

static void
emit (BangerEngine *self, JsonNode *event)
{
  BangerEngineEvents *ev = self->events;
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func ((GDestroyNotify)subscriber_free);

  g_mutex_lock (&ev->lock);
  for (guint i = 0; i < ev->subscribers->len;)
    {
      Subscriber *s = ev->subscribers->pdata[i];
      if (s->func (event, s->data))
        i++;
      else
        g_ptr_array_add (gone, g_ptr_array_steal_index (ev->subscribers, i));
    }
  g_mutex_unlock (&ev->lock);
  /* destroyed outside the lock: a destroy notify may take other locks */
}

static void
on_vm_changed (BangerStore *store, const char *vm_id, const char *name, int state,
               gpointer user_data)
{
  BangerEngine *self = user_data;
  g_autoptr (BangerStoreVm) vm = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) event = NULL;

  if (banger_engine_get_n_subscribers (self) == 0)
    return;
  if (name == NULL)
    {
      vm = banger_store_vm_get_by_id (store, vm_id, NULL);
      if (vm == NULL)
        return;
      name = vm->name;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "type", "vm-state-changed");
  banger_engine_json_add_str (b, "vm_id", vm_id);
  banger_engine_json_add_str (b, "name", name);
  banger_engine_json_add_str (b, "state",
           state < 0 ? "deleted" : banger_store_vm_state_to_string ((BangerStoreVmState)state));
  banger_engine_json_add_str (b, "op_id", banger_priv_current_op_id ());
  json_builder_end_object (b);
  event = json_builder_get_root (b);
  emit (self, event);
}

void
banger_engine_events_attach_store (BangerEngine *self)
{
  banger_store_set_vm_changed_func (self->store, on_vm_changed, self);
}

void
banger_engine_emit_progress (BangerEngine *self, const char *op_id, const char *kind,
                             const char *target, const char *step, guint index, guint count,
                             guint64 bytes_done, guint64 bytes_total)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) event = NULL;

  if (banger_engine_get_n_subscribers (self) == 0)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "type", "progress");
  banger_engine_json_add_str (b, "op_id", op_id);
  banger_engine_json_add_str (b, "kind", kind);
  banger_engine_json_add_str (b, "target", target);
  banger_engine_json_add_str (b, "step", step);
  banger_engine_json_add_int (b, "index", index);
  banger_engine_json_add_int (b, "count", count);
  banger_engine_json_add_int (b, "bytes_done", (gint64)MIN (bytes_done, (guint64)G_MAXINT64));
  banger_engine_json_add_int (b, "bytes_total", (gint64)MIN (bytes_total, (guint64)G_MAXINT64));
  json_builder_end_object (b);
  event = json_builder_get_root (b);
  emit (self, event);
}

/* ---------------------------------------------------------------- steps */

#define STEP_BYTES_INTERVAL_US (100 * 1000) /* at most 10 byte reports a second */

static GPrivate current_step; /* BangerEngineStep* of this thread */

void
banger_engine_step_begin (BangerEngineStep *step)
{
  step->last_us = 0;
  step->last_done = 0;
  step->outer = g_private_get (&current_step);
  g_private_set (&current_step, step);
  if (step->kind != NULL)
    banger_engine_emit_progress (step->engine, step->op_id, step->kind, step->target, step->step,
                                 step->index, step->count, 0, 0);
}

void
banger_engine_step_end (BangerEngineStep *step)
{
  if (g_private_get (&current_step) == step)
    g_private_set (&current_step, step->outer);
}

void
banger_engine_step_next (BangerEngineStep *step, const char *name)
{
  banger_engine_step_end (step);
  step->step = name;
  step->index++;
  banger_engine_step_begin (step);
}

void
banger_engine_step_bytes (guint64 done, guint64 total)
{
  BangerEngineStep *step = g_private_get (&current_step);
  gint64 now = g_get_monotonic_time ();

  if (step == NULL || step->kind == NULL || total == 0)
    return;
  done = MIN (done, total);
  if (done < step->last_done)
    done = step->last_done; /* never backwards */
  if (done != total && step->last_us != 0 && now - step->last_us < STEP_BYTES_INTERVAL_US)
    return;
  if (done == step->last_done && step->last_us != 0)
    return; /* nothing new (the total already told) */
  step->last_us = now;
  step->last_done = done;
  banger_engine_emit_progress (step->engine, step->op_id, step->kind, step->target, step->step,
                               step->index, step->count, done, total);
}

void
banger_engine_step_bytes_func (guint64 done, guint64 total, gpointer user_data G_GNUC_UNUSED)
{
  banger_engine_step_bytes (done, total);
}

void
banger_engine_emit_snapshot_changed (BangerEngine *self, const char *op_id, gboolean created,
                                     const char *name, const char *vm_name)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) event = NULL;

  if (banger_engine_get_n_subscribers (self) == 0)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "type", created ? "snapshot-created" : "snapshot-deleted");
  banger_engine_json_add_str (b, "name", name);
  banger_engine_json_add_str (b, "vm", vm_name);
  banger_engine_json_add_str (b, "op_id", op_id);
  json_builder_end_object (b);
  event = json_builder_get_root (b);
  emit (self, event);
}

/* A subscriber that is a stream: events are pushed without waiting (a
 * subscriber that does not keep up loses its stream, never holds up the
 * engine); a closed stream unsubscribes. */
static gboolean
push_to_stream (JsonNode *event, gpointer user_data)
{
  return banger_priv_stream_push (user_data, event, FALSE, NULL, NULL);
}

gboolean
banger_engine_op_subscribe (BangerPrivState *state, const BangerPeerCred *caller,
                            JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                            GError **error)
{
  BangerEngine *self = BANGER_ENGINE (state->table_data);
  BangerPrivStream *stream = banger_priv_current_stream ();
  guint id;

  if (stream == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "engine.subscribe needs a connection that carries events");
      return FALSE;
    }
  banger_priv_stream_keep (stream);
  id = banger_engine_subscribe (self, push_to_stream, banger_priv_stream_ref (stream),
                                (GDestroyNotify)banger_priv_stream_unref);
  banger_engine_log (banger_priv_current_op_id (), "subscriber %u of uid %u", id,
                     (guint)caller->uid);
  json_builder_set_member_name (result, "subscribed");
  json_builder_add_boolean_value (result, TRUE);
  return TRUE;
}
