/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workspace sync planner (see banger-ws-plan.h, doc/workspace.md). */
#include "config.h"

#include <string.h>

#include "banger-ws-plan.h"

static void
step_free (BangerWsStep *s)
{
  g_free (s->path);
  banger_ws_entry_free (s->entry);
  g_free (s);
}

void
banger_ws_plan_free (BangerWsPlan *plan)
{
  if (plan == NULL)
    return;
  g_ptr_array_unref (plan->steps);
  g_ptr_array_unref (plan->conflicts);
  g_ptr_array_unref (plan->host_changes);
  g_ptr_array_unref (plan->guest_changes);
  g_hash_table_unref (plan->agreed);
  g_free (plan);
}

gboolean
banger_ws_entry_changed (const BangerWsEntry *base, const BangerWsEntry *now)
{
  if (base == NULL || now == NULL)
    return base != now;
  if (base->type != now->type)
    return TRUE;
  switch (now->type)
    {
    case BANGER_WS_DIR:
      return base->mode != now->mode;
    case BANGER_WS_SYMLINK:
      return g_strcmp0 (base->target, now->target) != 0;
    case BANGER_WS_FILE:
    default:
      if (base->mode != now->mode || base->size != now->size)
        return TRUE;
      if (base->mtime_ns == now->mtime_ns)
        return FALSE;
      /* size and mode alike, mtime not: the content decides when known */
      return base->hash == NULL || now->hash == NULL || !g_str_equal (base->hash, now->hash);
    }
}

gboolean
banger_ws_entries_agree (const BangerWsEntry *host, const BangerWsEntry *guest)
{
  if (host == NULL || guest == NULL)
    return host == guest;
  if (host->type != guest->type)
    return FALSE;
  switch (host->type)
    {
    case BANGER_WS_DIR:
      return host->mode == guest->mode;
    case BANGER_WS_SYMLINK:
      return g_strcmp0 (host->target, guest->target) == 0;
    case BANGER_WS_FILE:
    default:
      return host->mode == guest->mode && host->size == guest->size && host->hash != NULL
             && guest->hash != NULL && g_str_equal (host->hash, guest->hash);
    }
}

static void
add_union (GHashTable *set, const BangerWsManifest *m)
{
  g_autoptr (GPtrArray) paths = NULL;

  if (m == NULL)
    return;
  paths = banger_ws_manifest_paths (m);
  for (guint i = 0; i < paths->len; i++)
    g_hash_table_add (set, paths->pdata[i]);
}

static int
cmp_str_ptr (gconstpointer a, gconstpointer b)
{
  /* the manifest order: '/' before every other byte */
  const guchar *x = *(const guchar *const *)a;
  const guchar *y = *(const guchar *const *)b;

  for (; *x && *x == *y; x++, y++)
    ;
  if (*x == *y)
    return 0;
  if (*x == '/')
    return *y == '\0' ? 1 : -1;
  if (*y == '/')
    return *x == '\0' ? -1 : 1;
  return (int)*x - (int)*y;
}

static gboolean
is_under (const char *path, const char *dir)
{
  gsize n = strlen (dir);
  return strncmp (path, dir, n) == 0 && path[n] == '/';
}

BangerWsPlan *
banger_ws_plan_make (const BangerWsManifest *base_host, const BangerWsManifest *base_guest,
                     const BangerWsManifest *host, const BangerWsManifest *guest,
                     BangerWsDirection direction, gboolean force)
{
  BangerWsPlan *plan = g_new0 (BangerWsPlan, 1);
  g_autoptr (GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GPtrArray) deletes = g_ptr_array_new ();
  g_autoptr (GPtrArray) puts = g_ptr_array_new ();
  g_autoptr (GHashTable) deleted = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean push = direction == BANGER_WS_DIRECTION_PUSH;
  const BangerWsManifest *far = push ? guest : host;

  plan->direction = direction;
  plan->steps = g_ptr_array_new_with_free_func ((GDestroyNotify)step_free);
  plan->conflicts = g_ptr_array_new_with_free_func (g_free);
  plan->host_changes = g_ptr_array_new_with_free_func (g_free);
  plan->guest_changes = g_ptr_array_new_with_free_func (g_free);
  plan->agreed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  add_union (all, base_host);
  add_union (all, base_guest);
  add_union (all, host);
  add_union (all, guest);
  {
    GHashTableIter it;
    gpointer key;
    paths = g_ptr_array_sized_new (g_hash_table_size (all));
    g_hash_table_iter_init (&it, all);
    while (g_hash_table_iter_next (&it, &key, NULL))
      g_ptr_array_add (paths, key);
  }
  g_ptr_array_sort (paths, cmp_str_ptr);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *p = paths->pdata[i];
      const BangerWsEntry *bh = banger_ws_manifest_lookup (base_host, p);
      const BangerWsEntry *bg = banger_ws_manifest_lookup (base_guest, p);
      const BangerWsEntry *h = banger_ws_manifest_lookup (host, p);
      const BangerWsEntry *g = banger_ws_manifest_lookup (guest, p);
      gboolean hc = banger_ws_entry_changed (bh, h);
      gboolean gc = banger_ws_entry_changed (bg, g);
      gboolean mine, theirs; /* changed on the near side / on the far side */
      const BangerWsEntry *src;

      if (!hc && !gc)
        continue;
      if (hc && gc && banger_ws_entries_agree (h, g))
        {
          g_hash_table_add (plan->agreed, g_strdup (p));
          continue;
        }
      if (direction == BANGER_WS_DIRECTION_STATUS)
        {
          g_ptr_array_add (hc && gc ? plan->conflicts : hc ? plan->host_changes
                                                            : plan->guest_changes,
                           g_strdup (p));
          continue;
        }
      mine = push ? hc : gc;
      theirs = push ? gc : hc;
      if (!mine)
        {
          g_ptr_array_add (push ? plan->guest_changes : plan->host_changes, g_strdup (p));
          continue;
        }
      if (theirs && !force)
        {
          g_ptr_array_add (plan->conflicts, g_strdup (p));
          continue;
        }
      src = push ? h : g;
      if (src == NULL)
        {
          if (banger_ws_manifest_lookup (far, p) != NULL)
            g_ptr_array_add (deletes, (gpointer)p);
          /* else: gone on both sides already */
        }
      else
        g_ptr_array_add (puts, (gpointer)p);
    }

  /* a directory is deleted only when everything the far side holds under
   * it goes too: otherwise it (and what stays) is a conflict */
  for (guint i = 0; i < deletes->len; i++)
    g_hash_table_add (deleted, deletes->pdata[i]);
  for (guint i = deletes->len; i-- > 0;)
    {
      const char *d = deletes->pdata[i];
      const BangerWsEntry *fe = banger_ws_manifest_lookup (far, d);
      g_autoptr (GPtrArray) fpaths = NULL;
      gboolean blocked = FALSE;

      if (fe == NULL || fe->type != BANGER_WS_DIR)
        continue;
      fpaths = banger_ws_manifest_paths (far);
      for (guint j = 0; j < fpaths->len && !blocked; j++)
        if (is_under (fpaths->pdata[j], d) && !g_hash_table_contains (deleted, fpaths->pdata[j]))
          blocked = TRUE;
      if (blocked)
        {
          g_hash_table_remove (deleted, d);
          g_ptr_array_add (plan->conflicts, g_strdup (d));
        }
    }
  for (guint i = deletes->len; i-- > 0;)
    if (g_hash_table_contains (deleted, deletes->pdata[i]))
      {
        BangerWsStep *s = g_new0 (BangerWsStep, 1);
        s->kind = BANGER_WS_STEP_DELETE;
        s->path = g_strdup (deletes->pdata[i]);
        g_ptr_array_add (plan->steps, s);
      }
  for (guint i = 0; i < puts->len; i++)
    {
      BangerWsStep *s = g_new0 (BangerWsStep, 1);
      const BangerWsEntry *src
          = banger_ws_manifest_lookup (push ? host : guest, (const char *)puts->pdata[i]);
      s->kind = BANGER_WS_STEP_PUT;
      s->path = g_strdup (puts->pdata[i]);
      s->entry = banger_ws_entry_copy (src);
      g_ptr_array_add (plan->steps, s);
    }
  g_ptr_array_sort (plan->conflicts, cmp_str_ptr);
  return plan;
}

static void
put_copy (BangerWsManifest *m, const BangerWsEntry *e)
{
  if (e != NULL)
    banger_ws_manifest_add (m, banger_ws_entry_copy (e));
}

/* An entry as the guest records it: mtime in whole seconds. */
static BangerWsEntry *
as_guest (const BangerWsEntry *e)
{
  BangerWsEntry *c = banger_ws_entry_copy (e);
  c->mtime_ns = (c->mtime_ns / G_GINT64_CONSTANT (1000000000)) * G_GINT64_CONSTANT (1000000000);
  return c;
}

void
banger_ws_plan_next_base (const BangerWsPlan *plan, const BangerWsManifest *base_host,
                          const BangerWsManifest *base_guest, const BangerWsManifest *host,
                          const BangerWsManifest *guest, BangerWsManifest **out_base_host,
                          BangerWsManifest **out_base_guest)
{
  BangerWsManifest *nh = banger_ws_manifest_new ();
  BangerWsManifest *ng = banger_ws_manifest_new ();
  g_autoptr (GHashTable) pending = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) all = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) stepped = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  gpointer key;

  for (guint i = 0; i < plan->conflicts->len; i++)
    g_hash_table_add (pending, plan->conflicts->pdata[i]);
  for (guint i = 0; i < plan->host_changes->len; i++)
    g_hash_table_add (pending, plan->host_changes->pdata[i]);
  for (guint i = 0; i < plan->guest_changes->len; i++)
    g_hash_table_add (pending, plan->guest_changes->pdata[i]);
  for (guint i = 0; i < plan->steps->len; i++)
    {
      BangerWsStep *s = plan->steps->pdata[i];
      g_hash_table_add (stepped, s->path);
      if (s->kind != BANGER_WS_STEP_PUT)
        continue;
      if (plan->direction == BANGER_WS_DIRECTION_PUSH)
        {
          put_copy (nh, s->entry);
          banger_ws_manifest_add (ng, as_guest (s->entry));
        }
      else
        {
          put_copy (ng, s->entry);
          put_copy (nh, s->entry);
        }
    }
  add_union (all, base_host);
  add_union (all, base_guest);
  add_union (all, host);
  add_union (all, guest);
  g_hash_table_iter_init (&it, all);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      const char *p = key;
      const BangerWsEntry *h = banger_ws_manifest_lookup (host, p);
      const BangerWsEntry *bh = banger_ws_manifest_lookup (base_host, p);

      if (g_hash_table_contains (stepped, p))
        continue; /* done above (a delete leaves both absent) */
      if (g_hash_table_contains (pending, p))
        {
          put_copy (nh, banger_ws_manifest_lookup (base_host, p));
          put_copy (ng, banger_ws_manifest_lookup (base_guest, p));
          continue;
        }
      /* in sync: unchanged, or agreed */
      if (h != NULL)
        {
          BangerWsEntry *c = banger_ws_entry_copy (h);
          if (c->hash == NULL && bh != NULL && bh->hash != NULL && !banger_ws_entry_changed (bh, h))
            c->hash = g_strdup (bh->hash);
          banger_ws_manifest_add (nh, c);
        }
      {
        const BangerWsEntry *g = banger_ws_manifest_lookup (guest, p);
        const BangerWsEntry *bg = banger_ws_manifest_lookup (base_guest, p);
        if (g != NULL)
          {
            BangerWsEntry *c = banger_ws_entry_copy (g);
            if (c->hash == NULL && bg != NULL && bg->hash != NULL
                && !banger_ws_entry_changed (bg, g))
              c->hash = g_strdup (bg->hash);
            banger_ws_manifest_add (ng, c);
          }
      }
    }
  *out_base_host = nh;
  *out_base_guest = ng;
}
