/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's pull service: joined fetches, image pulls, prune, and
 * vm.create's pull-if-missing (see banger-engine-pull.h, doc/engine.md). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "banger-digest.h"
#include "banger-engine-private.h"
#include "banger-engine-pull-private.h"
#include "banger-error.h"
#include "banger-image-build.h"
#include "banger-image-ref.h"
#include "banger-quote.h"
#include "banger-rootfs-ext4.h"

/* One fetch of a reference into the content store, shared by every
 * operation that asks for the same reference while it runs. */
typedef struct
{
  gatomicrefcount refs;
  GMutex lock;
  GCond cond;
  gboolean done;
  char *manifest_digest; /* the result */
  guint64 total_size;    /* config + layers, from the last progress report */
  GError *error;
  GPtrArray *joined_ops; /* op ids of the operations waiting on it */
} Fetch;

struct _BangerEnginePulls
{
  GMutex lock;
  GHashTable *fetches;    /* normalised ref -> Fetch* (while it runs) */
  GHashTable *name_locks; /* "image/NAME" or "kernel/NAME" -> GMutex* (never removed) */
  BangerBlobStore *blobs; /* <state>/oci, opened on first use */
  GRWLock prune_lock;     /* pulls read-hold it from fetch to record; prune writes */
  guint fetch_count;      /* registry fetches started (tests) */
  BangerEngineProgressFunc func;
  gpointer func_data;
  GDestroyNotify func_destroy;
};

static void
fetch_unref (Fetch *f)
{
  if (f == NULL || !g_atomic_ref_count_dec (&f->refs))
    return;
  g_mutex_clear (&f->lock);
  g_cond_clear (&f->cond);
  g_free (f->manifest_digest);
  g_clear_error (&f->error);
  g_ptr_array_unref (f->joined_ops);
  g_free (f);
}

static void
free_mutex (gpointer p)
{
  g_mutex_clear (p);
  g_free (p);
}

BangerEnginePulls *
banger_engine_pulls_new (void)
{
  BangerEnginePulls *p = g_new0 (BangerEnginePulls, 1);

  g_mutex_init (&p->lock);
  g_rw_lock_init (&p->prune_lock);
  p->fetches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->name_locks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_mutex);
  return p;
}

void
banger_engine_pulls_free (BangerEnginePulls *p)
{
  if (p == NULL)
    return;
  g_hash_table_unref (p->fetches);
  g_hash_table_unref (p->name_locks);
  g_clear_object (&p->blobs);
  if (p->func_destroy != NULL)
    p->func_destroy (p->func_data);
  g_rw_lock_clear (&p->prune_lock);
  g_mutex_clear (&p->lock);
  g_free (p);
}

const char *
banger_engine_pull_phase_to_string (BangerEnginePullPhase phase)
{
  switch (phase)
    {
    case BANGER_ENGINE_PULL_RESOLVE:
      return "resolve";
    case BANGER_ENGINE_PULL_DOWNLOAD:
      return "download";
    case BANGER_ENGINE_PULL_UNPACK:
      return "unpack";
    case BANGER_ENGINE_PULL_DONE:
      return "done";
    }
  return "unknown";
}

void
banger_engine_set_progress_func (BangerEngine *self, BangerEngineProgressFunc func,
                                 gpointer user_data, GDestroyNotify destroy)
{
  BangerEnginePulls *p = self->pulls;
  GDestroyNotify old_destroy;
  gpointer old_data;

  g_mutex_lock (&p->lock);
  old_destroy = p->func_destroy;
  old_data = p->func_data;
  p->func = func;
  p->func_data = user_data;
  p->func_destroy = destroy;
  g_mutex_unlock (&p->lock);
  if (old_destroy != NULL)
    old_destroy (old_data);
}

void
banger_engine_pull_report (BangerEngine *self, const BangerEngineProgress *progress)
{
  BangerEnginePulls *p = self->pulls;
  BangerEngineProgressFunc func;
  gpointer data;

  g_mutex_lock (&p->lock);
  func = p->func;
  data = p->func_data;
  g_mutex_unlock (&p->lock);
  if (func != NULL)
    func (progress, data);
  /* and on the event stream: a progress event of kind "pull", its step the
   * phase (a download's: the blob's digest, index the blob's: 0 config,
   * 1.. layers), its bytes the whole pull's */
  banger_engine_emit_progress (
      self, progress->op_id, "pull", progress->ref,
      progress->phase == BANGER_ENGINE_PULL_DOWNLOAD && progress->blob != NULL
          ? progress->blob
          : banger_engine_pull_phase_to_string (progress->phase),
      progress->index, 0, progress->total_done, progress->total_size);
}

void
banger_engine_pull_report_phase (BangerEngine *self, const char *op_id, const char *ref,
                                 BangerEnginePullPhase phase, guint64 total_done,
                                 guint64 total_size)
{
  BangerEngineProgress pr = { 0 };

  pr.op_id = op_id;
  pr.ref = ref;
  pr.phase = phase;
  pr.total_done = total_done;
  pr.total_size = total_size;
  banger_engine_pull_report (self, &pr);
}

guint
banger_engine_pull_get_fetch_count (BangerEngine *self)
{
  guint n;

  g_mutex_lock (&self->pulls->lock);
  n = self->pulls->fetch_count;
  g_mutex_unlock (&self->pulls->lock);
  return n;
}

BangerBlobStore *
banger_engine_pull_get_blobs (BangerEngine *self, GError **error)
{
  BangerEnginePulls *p = self->pulls;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);

  if (p->blobs == NULL)
    {
      g_autofree char *dir = g_build_filename (self->config->state_dir, "oci", NULL);
      p->blobs = banger_blob_store_new (dir, error);
      if (p->blobs == NULL)
        return NULL;
    }
  return g_object_ref (p->blobs);
}

GMutex *
banger_engine_pull_name_lock (BangerEngine *self, const char *kind, const char *name)
{
  BangerEnginePulls *p = self->pulls;
  g_autofree char *key = g_strdup_printf ("%s/%s", kind, name);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);
  GMutex *m = g_hash_table_lookup (p->name_locks, key);

  if (m == NULL)
    {
      m = g_new0 (GMutex, 1);
      g_mutex_init (m);
      g_hash_table_insert (p->name_locks, g_steal_pointer (&key), m);
    }
  return m;
}

void
banger_engine_pull_hold (BangerEngine *self)
{
  g_rw_lock_reader_lock (&self->pulls->prune_lock);
}

void
banger_engine_pull_release (BangerEngine *self)
{
  g_rw_lock_reader_unlock (&self->pulls->prune_lock);
}

/* ------------------------------------------------------------ fetching */

typedef struct
{
  BangerEngine *engine;
  Fetch *fetch;
  const char *op_id;
  const char *ref;
} ProgressCtx;

static void
on_registry_progress (const BangerPullProgress *rp, gpointer data)
{
  ProgressCtx *ctx = data;
  BangerEngineProgress pr = { 0 };

  pr.op_id = ctx->op_id;
  pr.ref = ctx->ref;
  pr.phase = BANGER_ENGINE_PULL_DOWNLOAD;
  pr.blob = rp->digest;
  pr.index = rp->index;
  pr.blob_done = rp->blob_done;
  pr.blob_size = rp->blob_size;
  pr.total_done = rp->total_done;
  pr.total_size = rp->total_size;
  banger_engine_pull_report (ctx->engine, &pr);
  /* the same report for every operation joined to this fetch */
  g_mutex_lock (&ctx->fetch->lock);
  ctx->fetch->total_size = rp->total_size;
  for (guint i = 0; i < ctx->fetch->joined_ops->len; i++)
    {
      pr.op_id = ctx->fetch->joined_ops->pdata[i];
      pr.joined = TRUE;
      banger_engine_pull_report (ctx->engine, &pr);
    }
  g_mutex_unlock (&ctx->fetch->lock);
  if (rp->blob_done == rp->blob_size)
    banger_engine_log (ctx->op_id, "pull %s: blob %u %s done (%" G_GUINT64_FORMAT " bytes)",
                       ctx->ref, rp->index, rp->digest, rp->blob_size);
}

static void
on_pulled (GObject *source, GAsyncResult *res, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref (res);
}

/* The registry client of one pull, with the config's [registries]. */
static BangerRegistryClient *
make_client (BangerEngine *self, BangerBlobStore *blobs, GError **error)
{
  g_autoptr (BangerRegistryClient) client = banger_registry_client_new (blobs);

  if (!banger_engine_registries_apply (self->config->registries, client, error))
    return NULL;
  return g_steal_pointer (&client);
}

/* Pull @ref with a private main context (progress arrives in it), this
 * thread blocking: the engine's services are synchronous. */
static BangerPulledImage *
registry_pull (BangerRegistryClient *client, BangerImageRef *ref, ProgressCtx *ctx,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) mc = g_main_context_new ();
  g_autoptr (GAsyncResult) res = NULL;
  BangerPulledImage *pulled;

  g_main_context_push_thread_default (mc);
  banger_registry_client_pull_ref_async (client, ref, on_registry_progress, ctx, NULL, cancellable,
                                         on_pulled, &res);
  while (res == NULL)
    g_main_context_iteration (mc, TRUE);
  pulled = banger_registry_client_pull_finish (client, res, error);
  /* reports queued before the result were dispatched before it */
  while (g_main_context_pending (mc))
    g_main_context_iteration (mc, FALSE);
  g_main_context_pop_thread_default (mc);
  return pulled;
}

/* @ref through its registry's mirror first when the config names one;
 * anything but a cancellation or a content mismatch falls back to the
 * registry itself. */
static char *
fetch_run (BangerEngine *self, BangerImageRef *ref, ProgressCtx *ctx, GCancellable *cancellable,
           GError **error)
{
  g_autoptr (BangerBlobStore) blobs = banger_engine_pull_get_blobs (self, error);
  g_autoptr (BangerRegistryClient) client = NULL;
  g_autoptr (BangerPulledImage) pulled = NULL;
  const char *mirror;

  if (blobs == NULL || (client = make_client (self, blobs, error)) == NULL)
    return NULL;
  mirror = banger_engine_registries_get_mirror (self->config->registries,
                                                banger_image_ref_get_registry (ref));
  if (mirror != NULL)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *text = NULL;
      g_autoptr (BangerImageRef) mref = NULL;
      const char *tag = banger_image_ref_get_tag (ref);
      const char *digest = banger_image_ref_get_digest (ref);

      text = g_strdup_printf ("%s/%s%s%s%s%s", mirror, banger_image_ref_get_repository (ref),
                              tag ? ":" : "", tag ? tag : "", digest ? "@" : "",
                              digest ? digest : "");
      mref = banger_image_ref_parse (text, &local);
      if (mref != NULL)
        pulled = registry_pull (client, mref, ctx, cancellable, &local);
      if (pulled != NULL)
        return g_strdup (pulled->manifest_digest);
      if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_CANCELLED)
          || g_error_matches (local, BANGER_ERROR, BANGER_ERROR_PROTOCOL))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      banger_engine_log (ctx->op_id, "pull %s: mirror %s failed (%s); trying the registry",
                         ctx->ref, mirror, local->message);
    }
  pulled = registry_pull (client, ref, ctx, cancellable, error);
  return pulled ? g_strdup (pulled->manifest_digest) : NULL;
}

/* Wait for @f to finish, honouring @cancellable (the fetch goes on for
 * its owner). */
static gboolean
fetch_wait (Fetch *f, GCancellable *cancellable, GError **error)
{
  g_mutex_lock (&f->lock);
  while (!f->done)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_mutex_unlock (&f->lock);
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                               "The pull was cancelled");
          return FALSE;
        }
      g_cond_wait_until (&f->cond, &f->lock, g_get_monotonic_time () + G_TIME_SPAN_SECOND / 10);
    }
  g_mutex_unlock (&f->lock);
  return TRUE;
}

char *
banger_engine_pull_fetch (BangerEngine *self, BangerImageRef *ref, const char *op_id,
                          guint64 *out_total, GCancellable *cancellable, GError **error)
{
  BangerEnginePulls *p = self->pulls;
  g_autofree char *key = banger_image_ref_to_string (ref);
  ProgressCtx ctx = { self, NULL, op_id, key };
  gboolean joined = FALSE;
  Fetch *f;
  char *digest;

  g_mutex_lock (&p->lock);
  f = g_hash_table_lookup (p->fetches, key);
  if (f != NULL)
    {
      g_atomic_ref_count_inc (&f->refs);
      joined = TRUE;
      g_mutex_lock (&f->lock);
      g_ptr_array_add (f->joined_ops, g_strdup (op_id ? op_id : "-"));
      g_mutex_unlock (&f->lock);
    }
  else
    {
      f = g_new0 (Fetch, 1);
      g_atomic_ref_count_init (&f->refs);
      g_atomic_ref_count_inc (&f->refs); /* the table's */
      g_mutex_init (&f->lock);
      g_cond_init (&f->cond);
      f->joined_ops = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (p->fetches, g_strdup (key), f);
      p->fetch_count++;
    }
  g_mutex_unlock (&p->lock);

  if (joined)
    {
      banger_engine_log (op_id, "pull %s: joining the fetch already running", key);
      if (!fetch_wait (f, cancellable, error))
        {
          fetch_unref (f);
          return NULL;
        }
      g_mutex_lock (&f->lock);
      if (f->error != NULL)
        {
          g_propagate_error (error, g_error_copy (f->error));
          digest = NULL;
        }
      else
        digest = g_strdup (f->manifest_digest);
      if (out_total != NULL)
        *out_total = f->total_size;
      g_mutex_unlock (&f->lock);
      fetch_unref (f);
      return digest;
    }

  banger_engine_log (op_id, "pull %s: fetching", key);
  banger_engine_pull_report_phase (self, op_id, key, BANGER_ENGINE_PULL_RESOLVE, 0, 0);
  ctx.fetch = f;
  {
    GError *local = NULL;
    digest = fetch_run (self, ref, &ctx, cancellable, &local);
    g_mutex_lock (&p->lock);
    g_hash_table_remove (p->fetches, key);
    g_mutex_unlock (&p->lock);
    g_mutex_lock (&f->lock);
    f->done = TRUE;
    f->manifest_digest = g_strdup (digest);
    f->error = local ? g_error_copy (local) : NULL;
    if (out_total != NULL)
      *out_total = f->total_size;
    g_cond_broadcast (&f->cond);
    g_mutex_unlock (&f->lock);
    fetch_unref (f); /* the table's */
    fetch_unref (f);
    if (local != NULL)
      g_propagate_error (error, local);
  }
  return digest;
}

/* ------------------------------------------------------------- images */

char *
banger_engine_pull_default_name (const char *text, GError **error)
{
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (text, error);
  const char *repo;
  const char *last;
  const char *tag;
  const char *digest;

  if (ref == NULL)
    return NULL;
  repo = banger_image_ref_get_repository (ref);
  last = strrchr (repo, '/');
  last = last ? last + 1 : repo;
  tag = banger_image_ref_get_tag (ref);
  digest = banger_image_ref_get_digest (ref);
  if (digest != NULL && (tag == NULL || g_str_equal (tag, "latest")))
    return g_strdup_printf ("%s-%.12s", last, digest + strlen (BANGER_DIGEST_PREFIX));
  return g_strdup_printf ("%s-%s", last, tag ? tag : "latest");
}

gboolean
banger_engine_pull_name_taken (const char *kind, const char *name, const char *had_ref, const char *ref,
                  GError **error)
{
  g_autofree char *qname = banger_quote (name);

  if (had_ref == NULL)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                 "%s '%s' already exists (not pulled from '%s'); pull with another --name or "
                 "delete it first",
                 kind, qname, ref);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                 "%s '%s' already exists, pulled from '%s'; pull '%s' with another --name or "
                 "delete it first",
                 kind, qname, had_ref, ref);
  return FALSE;
}

/* The ext4 of @manifest_digest at <images>/<name>.ext4 and its record. */
static BangerStoreImage *
build_image (BangerEngine *self, BangerBlobStore *blobs, const char *name, const char *refstr,
             const char *manifest_digest, guint64 size_bytes, const char *op_id,
             GCancellable *cancellable, GError **error)
{
  g_autofree char *file = g_strconcat (name, ".ext4", NULL);
  g_autofree char *dest = g_build_filename (self->images_dir, file, NULL);
  g_autofree char *work_template = g_build_filename (self->images_dir, ".pull-XXXXXX", NULL);
  g_autoptr (BangerStoreImage) record = NULL;
  g_autoptr (BangerStoreImage) added = NULL;
  struct stat st;
  gboolean ok;

  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS, "'%s' already exists", dest);
      return NULL;
    }
  if (g_mkdtemp_full (work_template, 0700) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s",
                   work_template, g_strerror (errno));
      return NULL;
    }
  banger_engine_log (op_id, "pull %s: building %s", refstr, dest);
  banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_UNPACK, 0, 0);
  ok = banger_image_build_rootfs (blobs, manifest_digest, work_template, dest, size_bytes,
                                  cancellable, error)
       && banger_engine_check_guest_contract (dest, refstr, error);
  banger_engine_remove_tree (work_template, NULL);
  if (!ok)
    {
      g_unlink (dest);
      return NULL;
    }
  if (stat (dest, &st) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot stat '%s': %s", dest,
                   g_strerror (errno));
      g_unlink (dest);
      return NULL;
    }
  record = banger_store_image_new (name, dest, (guint64)st.st_size, manifest_digest);
  record->ref = g_strdup (refstr);
  added = banger_store_image_add (self->store, record, error);
  if (added == NULL)
    g_unlink (dest);
  return g_steal_pointer (&added);
}

BangerStoreImage *
banger_engine_image_pull (BangerEngine *self, const char *text, const char *name,
                          guint64 size_bytes, const char *op_id, GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (BangerImageRef) ref = NULL;
  g_autofree char *refstr = NULL;
  g_autofree char *default_name = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (BangerStoreImage) existing = NULL;
  g_autoptr (BangerBlobStore) blobs = NULL;
  guint64 total = 0;
  g_autoptr (GMutexLocker) name_locker = NULL;
  BangerStoreImage *image;

  g_return_val_if_fail (BANGER_IS_ENGINE (self), NULL);
  if (text == NULL || (ref = banger_image_ref_parse (text, error)) == NULL)
    {
      if (text == NULL)
        g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                             "No image reference given");
      return NULL;
    }
  refstr = banger_image_ref_to_string (ref);
  if (name == NULL)
    name = default_name = banger_engine_pull_default_name (text, error);
  if (name == NULL || !banger_store_validate_object_name ("image", name, error))
    return NULL;
  blobs = banger_engine_pull_get_blobs (self, error);
  if (blobs == NULL)
    return NULL;

  /* a name taken by something else fails before any download */
  existing = banger_store_image_get_by_name (self->store, name, NULL);
  if (existing != NULL && g_strcmp0 (existing->ref, refstr) != 0)
    return banger_engine_pull_name_taken ("Image", name, existing->ref, refstr, error), NULL;
  g_clear_pointer (&existing, banger_store_image_free);

  banger_engine_pull_hold (self);
  digest = banger_engine_pull_fetch (self, ref, op_id, &total, cancellable, error);
  if (digest == NULL)
    {
      banger_engine_pull_release (self);
      return NULL;
    }
  /* one build per image name at a time: a second pull of the same ref
   * and name (joined above) finds the first's image here */
  name_locker = g_mutex_locker_new (banger_engine_pull_name_lock (self, "image", name));
  existing = banger_store_image_get_by_name (self->store, name, NULL);
  if (existing != NULL)
    {
      banger_engine_pull_release (self);
      if (g_strcmp0 (existing->ref, refstr) != 0)
        return banger_engine_pull_name_taken ("Image", name, existing->ref, refstr, error), NULL;
      if (g_strcmp0 (existing->digest, digest) == 0)
        {
          banger_engine_log (op_id, "pull %s: image %s is up to date (%s)", refstr, name, digest);
          banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_DONE,
                                           total, total);
          return g_steal_pointer (&existing);
        }
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "Image '%s' holds '%s' at %s, the registry now has %s; delete the image or "
                   "pull under another --name",
                   name, refstr, existing->digest ? existing->digest : "an unknown digest",
                   digest);
      return NULL;
    }
  image = build_image (self, blobs, name, refstr, digest, size_bytes, op_id, cancellable, error);
  banger_engine_pull_release (self);
  if (image != NULL)
    {
      banger_engine_log (op_id, "pull %s: image %s ready (%s)", refstr, name, digest);
      banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_DONE, total,
                                       total);
    }
  return image;
}

char *
banger_engine_image_resolve (BangerEngine *self, const char *image, const char *op_id,
                             GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerStoreImage) local = NULL;
  g_autoptr (BangerImageRef) ref = NULL;
  g_autoptr (GError) parse_error = NULL;
  g_autofree char *refstr = NULL;

  if (image == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "No image given");
      return NULL;
    }
  local = banger_store_image_get_by_name (self->store, image, NULL);
  if (local != NULL)
    return g_strdup (local->name);
  ref = banger_image_ref_parse (image, &parse_error);
  if (ref == NULL)
    {
      g_autofree char *quoted = banger_quote (image);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "No image named '%s', and it is not an image reference either (%s)", quoted,
                   parse_error->message);
      return NULL;
    }
  refstr = banger_image_ref_to_string (ref);
  local = banger_store_image_get_by_ref (self->store, refstr, NULL);
  if (local != NULL)
    return g_strdup (local->name);
  banger_engine_log (op_id, "vm.create: image %s is not here; pulling it", refstr);
  {
    g_autoptr (BangerStoreImage) pulled
        = banger_engine_image_pull (self, image, NULL, 0, op_id, cancellable, error);
    if (pulled == NULL)
      {
        g_autofree char *quoted = banger_quote (image);
        g_prefix_error (error, "No image named '%s' here, and pulling %s failed: ", quoted,
                        refstr);
        return NULL;
      }
    return g_strdup (pulled->name);
  }
}

/* -------------------------------------------------------------- prune */

gboolean
banger_engine_image_prune (BangerEngine *self, guint *out_removed, guint64 *out_bytes,
                           const char *op_id, GError **error)
{
  g_autoptr (BangerBlobStore) blobs = banger_engine_pull_get_blobs (self, error);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) kernels = NULL;
  g_autoptr (GStrvBuilder) roots = g_strv_builder_new ();
  g_auto (GStrv) rootv = NULL;
  guint removed = 0;
  guint64 bytes = 0;
  gboolean ok;

  if (blobs == NULL)
    return FALSE;
  g_rw_lock_writer_lock (&self->pulls->prune_lock);
  images = banger_store_image_list (self->store, error);
  kernels = images ? banger_store_kernel_list (self->store, error) : NULL;
  if (kernels == NULL)
    {
      g_rw_lock_writer_unlock (&self->pulls->prune_lock);
      return FALSE;
    }
  for (guint i = 0; i < images->len; i++)
    {
      BangerStoreImage *im = images->pdata[i];
      if (im->digest != NULL)
        g_strv_builder_add (roots, im->digest);
    }
  for (guint i = 0; i < kernels->len; i++)
    {
      BangerStoreKernel *k = kernels->pdata[i];
      if (k->digest != NULL && k->ref != NULL && !g_str_has_prefix (k->ref, "https://")
          && !g_str_has_prefix (k->ref, "http://"))
        g_strv_builder_add (roots, k->digest);
    }
  rootv = g_strv_builder_end (roots);
  ok = banger_blob_store_prune (blobs, (const char *const *)rootv, &removed, &bytes, error);
  g_rw_lock_writer_unlock (&self->pulls->prune_lock);
  if (!ok)
    return FALSE;
  banger_engine_log (op_id, "image.prune: %u blobs, %" G_GUINT64_FORMAT " bytes removed",
                     removed, bytes);
  if (out_removed != NULL)
    *out_removed = removed;
  if (out_bytes != NULL)
    *out_bytes = bytes;
  return TRUE;
}
