/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap pool (see banger-tap-pool.h, doc/engine.md "The tap pool"). */
#include "config.h"

#include "banger-error.h"
#include "banger-names.h"
#include "banger-pool-tap-names.h"
#include "banger-store-tap.h"
#include "banger-tap-pool.h"

#define BACKOFF_MIN_MS_DEFAULT 200
#define BACKOFF_MAX_MS_DEFAULT 30000

struct _BangerTapPool
{
  GObject parent_instance;
  BangerPrivBackend *backend; /* not owned: the engine's */
  BangerStore *store;         /* a ref */
  guint size;
  char *bridge;
  char *bridge_address;

  GMutex lock; /* guards everything below */
  GCond cond;  /* the refiller waits on it; so does wait_full */
  GThread *refiller;
  gboolean stopping;
  gboolean bridge_ready;
  guint backoff_min_ms;
  guint backoff_max_ms;
  guint backoff_ms;         /* 0: not backing off */
  BangerTapPoolStats stats;
};

G_DEFINE_FINAL_TYPE (BangerTapPool, banger_tap_pool, G_TYPE_OBJECT)

static void
banger_tap_pool_finalize (GObject *object)
{
  BangerTapPool *self = BANGER_TAP_POOL (object);

  banger_tap_pool_stop (self);
  g_clear_pointer (&self->store, banger_store_unref);
  g_free (self->bridge);
  g_free (self->bridge_address);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (banger_tap_pool_parent_class)->finalize (object);
}

static void
banger_tap_pool_class_init (BangerTapPoolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_tap_pool_finalize;
}

static void
banger_tap_pool_init (BangerTapPool *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->backoff_min_ms = BACKOFF_MIN_MS_DEFAULT;
  self->backoff_max_ms = BACKOFF_MAX_MS_DEFAULT;
}

/**
 * banger_tap_pool_new:
 * @backend: the privileged backend that makes and renames the taps (not
 *   copied: it must outlive the pool)
 * @store: the store whose taps table records the pool
 * @size: how many free taps to keep, at most %BANGER_TAP_POOL_MAX_SIZE;
 *   0 makes none (every VM gets a tap made for it)
 * @bridge: (nullable): the bridge the pool's taps are enslaved to
 *   (banger_validate_ifname())
 * @bridge_address: (nullable): the bridge's address ("a.b.c.d/len"), made
 *   with the bridge before the first tap
 *
 * Makes a pool; nothing happens on the host until
 * banger_tap_pool_reconcile() or banger_tap_pool_start().
 *
 * Returns: (transfer full): the pool
 *
 * Since: 0.2
 */
BangerTapPool *
banger_tap_pool_new (BangerPrivBackend *backend, BangerStore *store, guint size,
                     const char *bridge, const char *bridge_address)
{
  BangerTapPool *self;

  g_return_val_if_fail (backend != NULL && store != NULL, NULL);
  g_return_val_if_fail (size <= BANGER_TAP_POOL_MAX_SIZE, NULL);
  g_return_val_if_fail (bridge == NULL || banger_validate_ifname (bridge, NULL), NULL);
  self = g_object_new (BANGER_TYPE_TAP_POOL, NULL);
  self->backend = backend;
  self->store = banger_store_ref (store);
  self->size = size;
  self->bridge = g_strdup (bridge);
  self->bridge_address = g_strdup (bridge_address);
  return self;
}

/**
 * banger_tap_pool_get_size:
 * @self: a pool
 *
 * Returns: how many free taps the pool keeps
 *
 * Since: 0.2
 */
guint
banger_tap_pool_get_size (BangerTapPool *self)
{
  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), 0);
  return self->size;
}

/**
 * banger_tap_pool_count_free:
 * @self: a pool
 * @out_count: (out): how many taps are free now
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the store's error
 *
 * Since: 0.2
 */
gboolean
banger_tap_pool_count_free (BangerTapPool *self, guint *out_count, GError **error)
{
  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), FALSE);
  return banger_store_tap_count_free (self->store, out_count, error);
}

/**
 * banger_tap_pool_set_backoff:
 * @self: a pool
 * @min_ms: the first wait after a failed refill
 * @max_ms: the longest wait (the wait doubles after each failure)
 *
 * Since: 0.2
 */
void
banger_tap_pool_set_backoff (BangerTapPool *self, guint min_ms, guint max_ms)
{
  g_return_if_fail (BANGER_IS_TAP_POOL (self));
  g_return_if_fail (min_ms > 0 && min_ms <= max_ms);
  g_mutex_lock (&self->lock);
  self->backoff_min_ms = min_ms;
  self->backoff_max_ms = max_ms;
  g_mutex_unlock (&self->lock);
}

/**
 * banger_tap_pool_get_stats:
 * @self: a pool
 * @out_stats: (out caller-allocates): the counters
 *
 * Since: 0.2
 */
void
banger_tap_pool_get_stats (BangerTapPool *self, BangerTapPoolStats *out_stats)
{
  g_return_if_fail (BANGER_IS_TAP_POOL (self) && out_stats != NULL);
  g_mutex_lock (&self->lock);
  *out_stats = self->stats;
  g_mutex_unlock (&self->lock);
}

static JsonObject *
call (BangerTapPool *self, const char *method, JsonObject *params, const char *op_id,
      GCancellable *cancellable, GError **error)
{
  return banger_priv_backend_call (self->backend, method, params, op_id, cancellable, error);
}

static gboolean
ensure_bridge (BangerTapPool *self, const char *op_id, GError **error)
{
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) r = NULL;
  gboolean ready;

  g_mutex_lock (&self->lock);
  ready = self->bridge_ready || self->bridge == NULL;
  g_mutex_unlock (&self->lock);
  if (ready)
    return TRUE;
  p = json_object_new ();
  json_object_set_string_member (p, "name", self->bridge);
  if (self->bridge_address != NULL)
    json_object_set_string_member (p, "address", self->bridge_address);
  r = call (self, "priv.create_bridge", p, op_id, NULL, error);
  if (r == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  self->bridge_ready = TRUE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
delete_tap (BangerTapPool *self, const char *name, const char *op_id, GError **error)
{
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;

  json_object_set_string_member (p, "tap", name);
  r = call (self, "priv.pool_tap_delete", p, op_id, NULL, error);
  return r != NULL;
}

/* One refill: a fresh tap on the host, then its row.  A crash in between
 * leaves a pool tap the store does not know: reconcile removes it. */
static gboolean
refill_one (BangerTapPool *self, GError **error)
{
  g_autofree char *name = banger_pool_tap_name_new ();
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;

  if (!ensure_bridge (self, "pool", error))
    return FALSE;
  json_object_set_string_member (p, "tap", name);
  if (self->bridge != NULL)
    json_object_set_string_member (p, "bridge", self->bridge);
  r = call (self, "priv.pool_tap_create", p, "pool", NULL, error);
  if (r == NULL)
    return FALSE;
  /* (counted together with the row: wait_full sees both or neither) */
  g_mutex_lock (&self->lock);
  if (!banger_store_tap_add (self->store, name, error))
    {
      g_mutex_unlock (&self->lock);
      if (!delete_tap (self, name, "pool", &local))
        g_message ("tap pool: cannot remove '%s' again: %s", name, local->message);
      return FALSE;
    }
  self->stats.made++;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gpointer
refiller_main (gpointer data)
{
  BangerTapPool *self = data;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      guint n_free = 0;
      g_autoptr (GError) error = NULL;
      gboolean ok;

      g_mutex_unlock (&self->lock);
      ok = banger_store_tap_count_free (self->store, &n_free, &error);
      g_mutex_lock (&self->lock);
      if (self->stopping)
        break;
      if (ok && n_free >= self->size)
        {
          g_cond_broadcast (&self->cond); /* wait_full */
          g_cond_wait (&self->cond, &self->lock);
          continue;
        }
      if (ok)
        {
          g_mutex_unlock (&self->lock);
          ok = refill_one (self, &error);
          g_mutex_lock (&self->lock);
        }
      if (ok)
        {
          self->backoff_ms = 0;
          g_cond_broadcast (&self->cond);
          continue;
        }
      self->stats.failures++;
      self->backoff_ms = self->backoff_ms == 0 ? self->backoff_min_ms
                                               : MIN (self->backoff_ms * 2, self->backoff_max_ms);
      g_message ("tap pool: refill failed (retrying in %u ms): %s", self->backoff_ms,
                 error->message);
      {
        gint64 until = g_get_monotonic_time () + (gint64) self->backoff_ms * 1000;
        while (!self->stopping && g_cond_wait_until (&self->cond, &self->lock, until))
          ;
      }
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/**
 * banger_tap_pool_start:
 * @self: a pool
 *
 * Starts the background refiller (a thread): while fewer than the pool's
 * size are free it makes one tap at a time; a failure is logged and retried
 * after a back-off that doubles up to its maximum.  Nothing when the size
 * is 0 or it already runs.
 *
 * Since: 0.2
 */
void
banger_tap_pool_start (BangerTapPool *self)
{
  g_return_if_fail (BANGER_IS_TAP_POOL (self));
  g_mutex_lock (&self->lock);
  if (self->size > 0 && self->refiller == NULL)
    {
      self->stopping = FALSE;
      self->refiller = g_thread_new ("banger-tap-pool", refiller_main, self);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * banger_tap_pool_stop:
 * @self: a pool
 *
 * Stops the refiller and waits for it (a refill under way completes).  The
 * pool's taps stay.
 *
 * Since: 0.2
 */
void
banger_tap_pool_stop (BangerTapPool *self)
{
  GThread *thread;

  g_return_if_fail (BANGER_IS_TAP_POOL (self));
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  thread = g_steal_pointer (&self->refiller);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (thread != NULL)
    g_thread_join (thread);
}

/**
 * banger_tap_pool_wait_full:
 * @self: a pool
 * @timeout_ms: how long to wait at most
 *
 * Waits until the pool holds its size of free taps.
 *
 * Returns: %TRUE when it does, %FALSE after @timeout_ms
 *
 * Since: 0.2
 */
gboolean
banger_tap_pool_wait_full (BangerTapPool *self, guint timeout_ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), FALSE);
  for (;;)
    {
      guint n = 0;
      gboolean full;

      g_mutex_lock (&self->lock);
      full = banger_store_tap_count_free (self->store, &n, NULL) && n >= self->size;
      g_mutex_unlock (&self->lock);
      if (full)
        return TRUE;
      if (g_get_monotonic_time () >= until)
        return FALSE;
      /* the refiller broadcasts after each tap; poll too, in case a VM
       * gave one back without it */
      g_mutex_lock (&self->lock);
      g_cond_wait_until (&self->cond, &self->lock, MIN (until, g_get_monotonic_time () + 50000));
      g_mutex_unlock (&self->lock);
    }
}

static void
wake_refiller (BangerTapPool *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Takes the oldest free row out of the store (one write): concurrent
 * takers race on the row's removal, the loser tries the next. */
static char *
take_row (BangerTapPool *self, GError **error)
{
  g_autoptr (GPtrArray) rows = banger_store_tap_list (self->store, error);
  BangerStoreTap *best = NULL;

  if (rows == NULL)
    return NULL;
  for (;;)
    {
      g_autoptr (GError) local = NULL;

      best = NULL;
      for (guint i = 0; i < rows->len; i++)
        {
          BangerStoreTap *t = rows->pdata[i];
          if (t->vm_id == NULL && t->name != NULL
              && (best == NULL || t->created_at < best->created_at
                  || (t->created_at == best->created_at && g_strcmp0 (t->name, best->name) < 0)))
            best = t;
        }
      if (best == NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "The tap pool has no free tap; retry once it is refilled");
          return NULL;
        }
      if (banger_store_tap_remove (self->store, best->name, &local))
        return g_strdup (best->name);
      if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND)
          && !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_BUSY))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      /* taken by someone else in between */
      g_clear_pointer (&best->name, g_free);
    }
}

/**
 * banger_tap_pool_take:
 * @self: a pool
 * @vm_id: the VM that gets the tap
 * @op_id: (nullable): the operation, for the logs
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Hands the oldest free tap to @vm_id: its row leaves the store (one
 * write), then the helper renames it to the VM's own tap name (which this
 * returns); the refiller is woken to make a new one.  A crash in between
 * leaves a pool tap the store does not know, which the next reconcile
 * removes.
 *
 * Returns: (transfer full): the VM's tap name, or %NULL with
 *   %BANGER_ERROR_BUSY when no tap is free (make one for the VM instead),
 *   or another error of the store or the backend (the tap then goes back
 *   to the pool, unless it has gone from the host)
 *
 * Since: 0.2
 */
char *
banger_tap_pool_take (BangerTapPool *self, const char *vm_id, const char *op_id,
                      GCancellable *cancellable, GError **error)
{
  g_autofree char *pool_name = NULL;
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;
  const char *name;

  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), NULL);
  g_return_val_if_fail (vm_id != NULL, NULL);
  if (self->size == 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_BUSY, "The tap pool is off");
      return NULL;
    }
  pool_name = take_row (self, error);
  if (pool_name == NULL)
    return NULL;
  p = json_object_new ();
  json_object_set_string_member (p, "tap", pool_name);
  json_object_set_string_member (p, "vm_id", vm_id);
  r = call (self, "priv.pool_tap_claim", p, op_id, cancellable, &local);
  if (r == NULL)
    {
      /* back to the pool, unless the host no longer has it */
      if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND)
          && !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED))
        banger_store_tap_add (self->store, pool_name, NULL);
      wake_refiller (self);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  name = json_object_get_string_member_with_default (r, "name", NULL);
  if (name == NULL || !banger_validate_ifname (name, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                     "priv.pool_tap_claim returned no name");
      return NULL;
    }
  g_mutex_lock (&self->lock);
  self->stats.taken++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_message ("op %s: tap pool: %s gets '%s' (was '%s')", op_id ? op_id : "-", vm_id, name,
             pool_name);
  return g_strdup (name);
}

/**
 * banger_tap_pool_give_back:
 * @self: a pool
 * @vm_id: a VM whose VMM has exited
 * @op_id: (nullable): the operation, for the logs
 * @out_returned: (out) (optional): whether the tap went back to the pool
 * @error: return location for a #GError
 *
 * While fewer than the pool's size are free, turns @vm_id's tap back into
 * a pool tap (a new pool name); otherwise leaves it, for the VM's clean-up
 * to delete.  A VM without a tap is not an error.
 *
 * Returns: %TRUE, or %FALSE with the error of the backend or the store (the
 *   tap is then left to the clean-up)
 *
 * Since: 0.2
 */
gboolean
banger_tap_pool_give_back (BangerTapPool *self, const char *vm_id, const char *op_id,
                           gboolean *out_returned, GError **error)
{
  g_autofree char *name = NULL;
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;
  guint n_free = 0;

  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), FALSE);
  g_return_val_if_fail (vm_id != NULL, FALSE);
  if (out_returned != NULL)
    *out_returned = FALSE;
  if (self->size == 0)
    return TRUE;
  if (!banger_store_tap_count_free (self->store, &n_free, error))
    return FALSE;
  if (n_free >= self->size)
    return TRUE;
  name = banger_pool_tap_name_new ();
  p = json_object_new ();
  json_object_set_string_member (p, "vm_id", vm_id);
  json_object_set_string_member (p, "tap", name);
  r = call (self, "priv.pool_tap_return", p, op_id, NULL, &local);
  if (r == NULL)
    {
      if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        return TRUE; /* the VM has no tap */
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!banger_store_tap_add (self->store, name, &local))
    {
      g_autoptr (GError) ignored = NULL;
      delete_tap (self, name, op_id, &ignored);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  self->stats.returned++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  g_message ("op %s: tap pool: %s's tap is back in the pool as '%s'", op_id ? op_id : "-", vm_id,
             name);
  if (out_returned != NULL)
    *out_returned = TRUE;
  return TRUE;
}

/**
 * banger_tap_pool_reconcile:
 * @self: a pool (its refiller not started)
 * @op_id: (nullable): the operation, for the logs
 * @error: return location for a #GError
 *
 * Makes the store and the host agree, after a crash: a row still given to
 * a VM (a take interrupted) is freed; a row whose tap is gone from the host
 * is forgotten; a pool tap on the host that the store does not know, one
 * beyond the pool's size, and a tap left half-way through a take or a
 * give-back (its name and its marker disagree) are deleted.  A VM's own
 * tap is left to the engine's orphan reconcile.
 *
 * Returns: %TRUE, or %FALSE when the host or the store could not be read
 *   (each removal that fails is only logged)
 *
 * Since: 0.2
 */
gboolean
banger_tap_pool_reconcile (BangerTapPool *self, const char *op_id, GError **error)
{
  g_autoptr (JsonObject) listed = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GHashTable) on_host = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *taps;
  guint n_kept = 0;

  g_return_val_if_fail (BANGER_IS_TAP_POOL (self), FALSE);
  listed = call (self, "priv.list_host_objects", NULL, op_id, NULL, error);
  if (listed == NULL)
    return FALSE;
  taps = json_object_get_array_member (listed, "taps");
  for (guint i = 0; taps != NULL && i < json_array_get_length (taps); i++)
    {
      JsonObject *t = json_array_get_object_element (taps, i);
      const char *name = t ? json_object_get_string_member_with_default (t, "name", NULL) : NULL;
      const char *owner = t ? json_object_get_string_member_with_default (t, "owner", "") : "";

      if (name != NULL && json_object_get_boolean_member_with_default (t, "consistent", FALSE)
          && g_str_has_prefix (owner, BANGER_POOL_TAP_OWNER_PREFIX))
        g_hash_table_add (on_host, (gpointer) name);
    }
  rows = banger_store_tap_list (self->store, error);
  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      BangerStoreTap *row = rows->pdata[i];
      g_autoptr (GError) local = NULL;

      if (row->vm_id != NULL && !banger_store_tap_release (self->store, row->name, &local))
        {
          g_message ("tap pool: reconcile: releasing '%s': %s", row->name, local->message);
          continue;
        }
      if (!g_hash_table_contains (on_host, row->name) || n_kept >= self->size)
        {
          g_message ("tap pool: reconcile: '%s' %s: forgotten", row->name,
                     g_hash_table_contains (on_host, row->name) ? "is beyond the pool's size"
                                                                : "is gone from the host");
          if (!banger_store_tap_remove (self->store, row->name, &local))
            g_message ("tap pool: reconcile: '%s': %s", row->name, local->message);
          continue;
        }
      g_hash_table_add (kept, row->name);
      n_kept++;
    }
  for (guint i = 0; taps != NULL && i < json_array_get_length (taps); i++)
    {
      JsonObject *t = json_array_get_object_element (taps, i);
      const char *name = t ? json_object_get_string_member_with_default (t, "name", NULL) : NULL;
      const char *owner = t ? json_object_get_string_member_with_default (t, "owner", "") : "";
      gboolean consistent = t && json_object_get_boolean_member_with_default (t, "consistent", FALSE);
      g_autoptr (GError) local = NULL;

      if (name == NULL || g_hash_table_contains (kept, name))
        continue;
      /* a VM's own tap, named from its id: the orphan reconcile's */
      if (consistent && !g_str_has_prefix (owner, BANGER_POOL_TAP_OWNER_PREFIX))
        continue;
      g_message ("tap pool: reconcile: removing %s tap '%s' (owner %s)",
                 consistent ? "unrecorded" : "half-moved", name, owner);
      if (!delete_tap (self, name, op_id, &local))
        g_message ("tap pool: reconcile: '%s': %s", name, local->message);
    }
  return TRUE;
}
