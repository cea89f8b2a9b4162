/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The content store: blobs named by their sha256, shared by every image.
 *
 *   <path>/blobs/sha256/<hex>    complete, verified blobs (0644)
 *   <path>/tmp/<hex>.partial     a blob being written; locked (flock) by its
 *                                writer, kept when a download stops early so
 *                                the next attempt resumes from it
 *
 * A blob enters blobs/ only by rename(2) after its bytes were hashed while
 * they were written and matched the digest, and after fsync; a mismatch
 * deletes the partial file.  So blobs/ only ever holds verified content. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-blob-store.h"
#include "banger-digest.h"
#include "banger-error-private.h"
#include "banger-image-private.h"
#include "banger-oci-manifest.h"
#include "banger-quote.h"

#define COPY_CHUNK (128 * 1024)

struct _BangerBlobStore
{
  GObject parent_instance;
  char *path;
  int blobs_fd; /* <path>/blobs/sha256 */
  int tmp_fd;   /* <path>/tmp */
};

/**
 * BangerBlobStore:
 *
 * A content-addressed store of OCI blobs under one directory
 * (`blobs/sha256/<hex>`): every blob verified against its digest before it
 * appears, written atomically, pruned from the manifests still in use.
 *
 * Since: 0.2
 */
G_DEFINE_TYPE (BangerBlobStore, banger_blob_store, G_TYPE_OBJECT)

struct _BangerBlobWriter
{
  BangerBlobStore *store;
  char *digest;
  char *partial; /* name in tmp/ */
  int fd;
  GChecksum *checksum;
  guint64 offset;
  gint64 expected_size;
  gboolean finished;
};

static void
banger_blob_store_finalize (GObject *object)
{
  BangerBlobStore *self = BANGER_BLOB_STORE (object);

  if (self->blobs_fd >= 0)
    close (self->blobs_fd);
  if (self->tmp_fd >= 0)
    close (self->tmp_fd);
  g_free (self->path);
  G_OBJECT_CLASS (banger_blob_store_parent_class)->finalize (object);
}

static void
banger_blob_store_class_init (BangerBlobStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_blob_store_finalize;
}

static void
banger_blob_store_init (BangerBlobStore *self)
{
  self->blobs_fd = -1;
  self->tmp_fd = -1;
}

static int
open_dir (const char *path, GError **error)
{
  int fd;

  if (g_mkdir_with_parents (path, 0700) < 0)
    {
      g_autofree char *quoted = banger_quote (path);
      return banger_set_error_from_errno (error, errno, "Cannot create directory '%s'", quoted),
             -1;
    }
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      g_autofree char *quoted = banger_quote (path);
      return banger_set_error_from_errno (error, errno, "Cannot open directory '%s'", quoted), -1;
    }
  return fd;
}

/**
 * banger_blob_store_new:
 * @path: the store's directory; made (0700) if missing
 * @error: return location for a #GError
 *
 * Opens the content store at @path.
 *
 * Returns: (transfer full): the store, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerBlobStore *
banger_blob_store_new (const char *path, GError **error)
{
  g_autoptr (BangerBlobStore) self = NULL;
  g_autofree char *blobs = NULL;
  g_autofree char *tmp = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  self = g_object_new (BANGER_TYPE_BLOB_STORE, NULL);
  self->path = g_strdup (path);
  blobs = g_build_filename (path, "blobs", "sha256", NULL);
  tmp = g_build_filename (path, "tmp", NULL);
  self->blobs_fd = open_dir (blobs, error);
  if (self->blobs_fd < 0)
    return NULL;
  self->tmp_fd = open_dir (tmp, error);
  if (self->tmp_fd < 0)
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * banger_blob_store_get_path:
 * @store: a #BangerBlobStore
 *
 * Returns: the store's directory
 *
 * Since: 0.2
 */
const char *
banger_blob_store_get_path (BangerBlobStore *store)
{
  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), NULL);
  return store->path;
}

static const char *
hex_of (const char *digest)
{
  return digest + strlen (BANGER_DIGEST_PREFIX);
}

/**
 * banger_blob_store_has_blob:
 * @store: a #BangerBlobStore
 * @digest: a `sha256:` digest
 *
 * Returns: whether the store holds the complete, verified blob
 *
 * Since: 0.2
 */
gboolean
banger_blob_store_has_blob (BangerBlobStore *store, const char *digest)
{
  struct stat st;

  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), FALSE);
  if (!banger_digest_validate (digest, NULL))
    return FALSE;
  return fstatat (store->blobs_fd, hex_of (digest), &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISREG (st.st_mode);
}

/**
 * banger_blob_store_get_blob_path:
 * @store: a #BangerBlobStore
 * @digest: a `sha256:` digest
 *
 * Returns: (transfer full) (nullable): where the blob is (or would be)
 *   stored; %NULL for an invalid digest
 *
 * Since: 0.2
 */
char *
banger_blob_store_get_blob_path (BangerBlobStore *store, const char *digest)
{
  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), NULL);
  if (!banger_digest_validate (digest, NULL))
    return NULL;
  return g_build_filename (store->path, "blobs", "sha256", hex_of (digest), NULL);
}

static gboolean
not_found (GError **error, const char *digest)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               "Blob '%s' is not in the content store", digest);
  return FALSE;
}

/**
 * banger_blob_store_open_blob:
 * @store: a #BangerBlobStore
 * @digest: a `sha256:` digest
 * @error: return location for a #GError
 *
 * Opens a stored blob for reading.  Its content was verified when it was
 * stored; it is not hashed again here.
 *
 * Returns: (transfer full): a stream, or %NULL with @error set
 *   (%BANGER_ERROR_NOT_FOUND when the store lacks the blob)
 */
GInputStream *
banger_blob_store_open_blob (BangerBlobStore *store, const char *digest, GError **error)
{
  int fd;

  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), NULL);
  if (!banger_digest_validate (digest, error))
    return NULL;
  fd = openat (store->blobs_fd, hex_of (digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return not_found (error, digest), NULL;
      return banger_set_error_from_errno (error, errno, "Cannot open blob '%s'", digest), NULL;
    }
  return g_unix_input_stream_new (fd, TRUE);
}

/**
 * banger_blob_store_read_blob:
 * @store: a #BangerBlobStore
 * @digest: a `sha256:` digest
 * @max_size: the largest blob accepted
 * @error: return location for a #GError
 *
 * Reads a small blob (a manifest, a config) whole and checks it against its
 * digest again.  A blob larger than @max_size fails with
 * %BANGER_ERROR_LIMIT_EXCEEDED; content that no longer matches its digest
 * with %BANGER_ERROR_PROTOCOL.
 *
 * Returns: (transfer full): the content, or %NULL with @error set
 */
GBytes *
banger_blob_store_read_blob (BangerBlobStore *store, const char *digest, gsize max_size,
                             GError **error)
{
  g_autoptr (GInputStream) in = banger_blob_store_open_blob (store, digest, error);
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *got = NULL;
  struct stat st;

  if (in == NULL)
    return NULL;
  if (fstat (g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (in)), &st) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot stat blob '%s'", digest), NULL;
  if ((guint64) st.st_size > max_size)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "Blob '%s' is %" G_GUINT64_FORMAT " bytes; at most %" G_GSIZE_FORMAT
                   " are read whole",
                   digest, (guint64) st.st_size, max_size);
      return NULL;
    }
  bytes = g_input_stream_read_bytes (in, (gsize) st.st_size + 1, NULL, error);
  if (bytes == NULL)
    return banger_image_error_normalize (error), NULL;
  got = banger_digest_of_bytes (bytes);
  if (!g_str_equal (got, digest))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Stored blob '%s' is corrupt: its content hashes to '%s'", digest, got);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

static gboolean
hash_existing (BangerBlobWriter *w, GError **error)
{
  g_autofree guchar *buf = g_malloc (COPY_CHUNK);
  guint64 pos = 0;

  for (;;)
    {
      ssize_t n = pread (w->fd, buf, COPY_CHUNK, (off_t) pos);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return banger_set_error_from_errno (error, errno, "Cannot read partial blob '%s'",
                                            w->digest);
      if (n == 0)
        break;
      g_checksum_update (w->checksum, buf, n);
      pos += (guint64) n;
    }
  w->offset = pos;
  if (lseek (w->fd, (off_t) pos, SEEK_SET) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot seek partial blob '%s'", w->digest);
  return TRUE;
}

/**
 * banger_blob_store_begin_write:
 * @store: a #BangerBlobStore
 * @digest: the `sha256:` digest the content must have
 * @expected_size: the size the content must have, or -1 if unknown
 * @error: return location for a #GError
 *
 * Starts writing a blob.  When an earlier attempt left a partial file, the
 * writer continues from it: banger_blob_writer_get_offset() says from which
 * byte the caller should send (an HTTP `Range` request), and the bytes
 * already there are hashed again so the final check covers all of them.
 *
 * Fails with %BANGER_ERROR_ALREADY_EXISTS if the store has the blob, and
 * with %BANGER_ERROR_BUSY if another writer (in this or another process)
 * is writing it right now.
 *
 * Returns: (transfer full): a writer, or %NULL with @error set
 */
BangerBlobWriter *
banger_blob_store_begin_write (BangerBlobStore *store, const char *digest, gint64 expected_size,
                               GError **error)
{
  g_autoptr (BangerBlobWriter) w = NULL;
  struct stat st;

  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), NULL);
  if (!banger_digest_validate (digest, error))
    return NULL;
  if (banger_blob_store_has_blob (store, digest))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "Blob '%s' is already in the content store", digest);
      return NULL;
    }
  w = g_new0 (BangerBlobWriter, 1);
  w->fd = -1;
  w->store = g_object_ref (store);
  w->digest = g_strdup (digest);
  w->partial = g_strconcat (hex_of (digest), ".partial", NULL);
  w->expected_size = expected_size;
  w->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  w->fd = openat (store->tmp_fd, w->partial,
                  O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (w->fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create partial blob '%s'", digest),
           NULL;
  if (flock (w->fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                       "Blob '%s' is being written by another pull", digest);
          return NULL;
        }
      return banger_set_error_from_errno (error, errno, "Cannot lock partial blob '%s'", digest),
             NULL;
    }
  if (fstat (w->fd, &st) < 0 || !S_ISREG (st.st_mode))
    return banger_set_error_from_errno (error, errno ? errno : EINVAL,
                                        "Partial blob '%s' is not a regular file", digest),
           NULL;
  if (expected_size >= 0 && st.st_size > expected_size)
    {
      if (ftruncate (w->fd, 0) < 0)
        return banger_set_error_from_errno (error, errno, "Cannot truncate partial blob '%s'",
                                            digest),
               NULL;
    }
  if (!hash_existing (w, error))
    return NULL;
  return g_steal_pointer (&w);
}

/**
 * banger_blob_writer_get_offset:
 * @writer: a #BangerBlobWriter
 *
 * Returns: how many bytes of the blob the writer has
 */
guint64
banger_blob_writer_get_offset (BangerBlobWriter *writer)
{
  return writer->offset;
}

/**
 * banger_blob_writer_restart:
 * @writer: a #BangerBlobWriter
 * @error: return location for a #GError
 *
 * Drops the bytes written so far, for a source that cannot resume (a server
 * that ignored a `Range` request).
 *
 * Returns: %TRUE on success
 */
gboolean
banger_blob_writer_restart (BangerBlobWriter *writer, GError **error)
{
  if (ftruncate (writer->fd, 0) < 0 || lseek (writer->fd, 0, SEEK_SET) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot truncate partial blob '%s'",
                                        writer->digest);
  g_checksum_reset (writer->checksum);
  writer->offset = 0;
  return TRUE;
}

static void
discard_partial (BangerBlobWriter *w)
{
  (void) unlinkat (w->store->tmp_fd, w->partial, 0);
  w->finished = TRUE;
}

/**
 * banger_blob_writer_write:
 * @writer: a #BangerBlobWriter
 * @data: (array length=len): bytes
 * @len: how many
 * @error: return location for a #GError
 *
 * Appends bytes and hashes them.  More bytes than the expected size fail
 * with %BANGER_ERROR_PROTOCOL and delete the partial file.
 *
 * Returns: %TRUE on success
 */
gboolean
banger_blob_writer_write (BangerBlobWriter *writer, const void *data, gsize len, GError **error)
{
  const guchar *p = data;
  gsize left = len;

  g_return_val_if_fail (!writer->finished, FALSE);
  if (writer->expected_size >= 0 && writer->offset + len > (guint64) writer->expected_size)
    {
      discard_partial (writer);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Blob '%s' has more than the %" G_GINT64_FORMAT " bytes its descriptor states",
                   writer->digest, writer->expected_size);
      return FALSE;
    }
  while (left > 0)
    {
      ssize_t n = write (writer->fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return banger_set_error_from_errno (error, errno, "Cannot write blob '%s'",
                                            writer->digest);
      p += n;
      left -= (gsize) n;
    }
  g_checksum_update (writer->checksum, data, len);
  writer->offset += len;
  return TRUE;
}

/**
 * banger_blob_writer_commit:
 * @writer: a #BangerBlobWriter
 * @error: return location for a #GError
 *
 * Ends the blob: checks its size and digest, syncs it and renames it into
 * the store.  Content that does not hash to the digest fails with
 * %BANGER_ERROR_PROTOCOL and deletes the partial file, so nothing is left
 * behind; a blob shorter than its expected size fails with
 * %BANGER_ERROR_PROTOCOL too but keeps the partial file for a resume.
 *
 * Returns: %TRUE when the blob is in the store
 */
gboolean
banger_blob_writer_commit (BangerBlobWriter *writer, GError **error)
{
  g_autofree char *got = NULL;
  const char *hex = hex_of (writer->digest);

  g_return_val_if_fail (!writer->finished, FALSE);
  if (writer->expected_size >= 0 && writer->offset != (guint64) writer->expected_size)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Blob '%s' ended after %" G_GUINT64_FORMAT " of its %" G_GINT64_FORMAT " bytes",
                   writer->digest, writer->offset, writer->expected_size);
      return FALSE;
    }
  got = banger_digest_from_checksum (writer->checksum);
  if (!g_str_equal (got, writer->digest))
    {
      discard_partial (writer);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Blob content does not match its digest: expected '%s', got '%s'; "
                   "nothing was stored",
                   writer->digest, got);
      return FALSE;
    }
  if (fsync (writer->fd) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot sync blob '%s'", writer->digest);
  (void) fchmod (writer->fd, 0644);
  if (renameat (writer->store->tmp_fd, writer->partial, writer->store->blobs_fd, hex) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot move blob '%s' into the store",
                                        writer->digest);
  writer->finished = TRUE;
  if (fsync (writer->store->blobs_fd) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot sync the blob directory");
  return TRUE;
}

/**
 * banger_blob_writer_free:
 * @writer: (nullable) (transfer full): a #BangerBlobWriter
 *
 * Frees @writer.  A blob that was neither committed nor refused keeps its
 * partial file, which the next banger_blob_store_begin_write() resumes and
 * banger_blob_store_prune() removes.
 */
void
banger_blob_writer_free (BangerBlobWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->fd >= 0)
    close (writer->fd);
  g_checksum_free (writer->checksum);
  g_clear_object (&writer->store);
  g_free (writer->digest);
  g_free (writer->partial);
  g_free (writer);
}

/**
 * banger_blob_store_write_stream:
 * @store: a #BangerBlobStore
 * @digest: the digest the content must have
 * @expected_size: its size, or -1 if unknown
 * @stream: the content, read from its start
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Stores a blob from a stream, verified while it streams (see
 * banger_blob_writer_commit()).  A blob already in the store is not written
 * again; the call succeeds.
 *
 * Returns: %TRUE when the blob is in the store
 */
gboolean
banger_blob_store_write_stream (BangerBlobStore *store, const char *digest, gint64 expected_size,
                                GInputStream *stream, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerBlobWriter) w = NULL;
  g_autofree guchar *buf = NULL;

  if (banger_blob_store_has_blob (store, digest))
    return TRUE;
  w = banger_blob_store_begin_write (store, digest, expected_size, error);
  if (w == NULL)
    return FALSE;
  if (w->offset > 0 && !banger_blob_writer_restart (w, error))
    return FALSE;
  buf = g_malloc (COPY_CHUNK);
  for (;;)
    {
      gssize n = g_input_stream_read (stream, buf, COPY_CHUNK, cancellable, error);
      if (n < 0)
        return banger_image_error_normalize (error);
      if (n == 0)
        break;
      if (!banger_blob_writer_write (w, buf, (gsize) n, error))
        return FALSE;
    }
  return banger_blob_writer_commit (w, error);
}

/**
 * banger_blob_store_write_bytes:
 * @store: a #BangerBlobStore
 * @digest: the digest @bytes must have
 * @bytes: the content
 * @error: return location for a #GError
 *
 * Stores a small blob held in memory (a manifest, a config).
 *
 * Returns: %TRUE when the blob is in the store
 */
gboolean
banger_blob_store_write_bytes (BangerBlobStore *store, const char *digest, GBytes *bytes,
                               GError **error)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);

  return banger_blob_store_write_stream (store, digest, (gint64) g_bytes_get_size (bytes), in,
                                         NULL, error);
}

/**
 * banger_blob_store_remove_blob:
 * @store: a #BangerBlobStore
 * @digest: a `sha256:` digest
 * @error: return location for a #GError
 *
 * Removes one blob.  A missing blob fails with %BANGER_ERROR_NOT_FOUND.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
banger_blob_store_remove_blob (BangerBlobStore *store, const char *digest, GError **error)
{
  if (!banger_digest_validate (digest, error))
    return FALSE;
  if (unlinkat (store->blobs_fd, hex_of (digest), 0) < 0)
    {
      if (errno == ENOENT)
        return not_found (error, digest);
      return banger_set_error_from_errno (error, errno, "Cannot remove blob '%s'", digest);
    }
  return TRUE;
}

/* Every blob reachable from @roots: the roots, and for each stored root that
 * is a manifest its config and layers, for an index its child manifests
 * (recursively). */
static GHashTable *
reachable_blobs (BangerBlobStore *store, const char *const *roots)
{
  GHashTable *keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GQueue pending = G_QUEUE_INIT;

  for (const char *const *r = roots; r != NULL && *r != NULL; r++)
    if (banger_digest_validate (*r, NULL) && !g_hash_table_contains (keep, *r))
      {
        g_hash_table_add (keep, g_strdup (*r));
        g_queue_push_tail (&pending, g_strdup (*r));
      }
  while (!g_queue_is_empty (&pending))
    {
      g_autofree char *digest = g_queue_pop_head (&pending);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (BangerOciManifest) m = NULL;
      GPtrArray *children;

      bytes = banger_blob_store_read_blob (store, digest, BANGER_OCI_MANIFEST_MAX_BYTES, NULL);
      if (bytes == NULL)
        continue;
      m = banger_oci_manifest_parse (bytes, NULL, NULL);
      if (m == NULL)
        continue; /* a config or another non-manifest root */
      if (m->kind == BANGER_OCI_MANIFEST_IMAGE)
        {
          g_hash_table_add (keep, g_strdup (m->config->digest));
          children = m->layers;
        }
      else
        children = m->manifests;
      for (guint i = 0; i < children->len; i++)
        {
          const BangerOciDescriptor *d = children->pdata[i];
          if (g_hash_table_contains (keep, d->digest))
            continue;
          g_hash_table_add (keep, g_strdup (d->digest));
          if (m->kind == BANGER_OCI_MANIFEST_INDEX)
            g_queue_push_tail (&pending, g_strdup (d->digest));
        }
    }
  return keep;
}

static gboolean
list_dir (int dir_fd, GPtrArray *names, GError **error)
{
  int fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      int errsv = errno;
      if (fd >= 0)
        close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot list the content store");
    }
  while ((de = readdir (d)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);
  return TRUE;
}

/**
 * banger_blob_store_prune:
 * @store: a #BangerBlobStore
 * @roots: (array zero-terminated=1) (nullable): digests of what is still
 *   in use: image manifests or indexes (whose configs, layers and child
 *   manifests are then kept too) or any other blob
 * @out_removed: (out) (optional): how many files were removed
 * @out_bytes: (out) (optional): how many bytes they held
 * @error: return location for a #GError
 *
 * Removes every blob not reachable from @roots, and every partial file no
 * writer holds.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
banger_blob_store_prune (BangerBlobStore *store, const char *const *roots, guint *out_removed,
                         guint64 *out_bytes, GError **error)
{
  g_autoptr (GHashTable) keep = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) partials = g_ptr_array_new_with_free_func (g_free);
  guint removed = 0;
  guint64 bytes = 0;

  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), FALSE);
  keep = reachable_blobs (store, roots);
  if (!list_dir (store->blobs_fd, names, error) || !list_dir (store->tmp_fd, partials, error))
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *digest = g_strconcat (BANGER_DIGEST_PREFIX, names->pdata[i], NULL);
      struct stat st;
      if (!banger_digest_validate (digest, NULL) || g_hash_table_contains (keep, digest))
        continue;
      if (fstatat (store->blobs_fd, names->pdata[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (unlinkat (store->blobs_fd, names->pdata[i], 0) < 0)
        return banger_set_error_from_errno (error, errno, "Cannot remove blob '%s'", digest);
      removed++;
      bytes += (guint64) st.st_size;
    }
  for (guint i = 0; i < partials->len; i++)
    {
      const char *name = partials->pdata[i];
      struct stat st;
      int fd = openat (store->tmp_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      if (fd < 0)
        continue;
      /* a writer holds its partial file locked */
      if (flock (fd, LOCK_EX | LOCK_NB) == 0 && fstat (fd, &st) == 0
          && unlinkat (store->tmp_fd, name, 0) == 0)
        {
          removed++;
          bytes += (guint64) st.st_size;
        }
      close (fd);
    }
  if (out_removed != NULL)
    *out_removed = removed;
  if (out_bytes != NULL)
    *out_bytes = bytes;
  return TRUE;
}
