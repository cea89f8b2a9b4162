/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kernel pulls (OCI kernel artifacts and URLs with a sha256) and the guest
 * contract check of a pulled image (see banger-engine-pull.h,
 * doc/images.md "Kernel artifacts"). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-digest.h"
#include "banger-engine-private.h"
#include "banger-engine-pull-private.h"
#include "banger-error.h"
#include "banger-oci-manifest.h"
#include "banger-quote.h"

/* ------------------------------------------------------ guest contract */

static gboolean
ext4_has (ext2_filsys fs, const char *path)
{
  ext2_ino_t ino = 0;

  return ext2fs_namei (fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) == 0 && ino != 0;
}

gboolean
banger_engine_check_guest_contract (const char *ext4, const char *ref, GError **error)
{
  static const char *const ssh_servers[] = {
    "/usr/sbin/sshd",    "/sbin/sshd",       "/usr/bin/sshd",  "/usr/sbin/dropbear",
    "/sbin/dropbear",    "/usr/bin/dropbear", "/bin/dropbear", "/usr/bin/dropbearmulti",
    "/usr/local/sbin/sshd", "/usr/local/sbin/dropbear", NULL,
  };
  ext2_filsys fs = NULL;
  g_autoptr (GString) missing = g_string_new (NULL);
  gboolean ssh = FALSE;
  errcode_t err;

  err = ext2fs_open (ext4, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
  if (err != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot open the built image '%s'",
                   ext4);
      return FALSE;
    }
  if (!ext4_has (fs, "/sbin/init") && !ext4_has (fs, "/init"))
    g_string_append (missing, "an init (/sbin/init)");
  if (!ext4_has (fs, "/bin/sh"))
    g_string_append_printf (missing, "%sa shell at /bin/sh", missing->len ? ", " : "");
  for (guint i = 0; ssh_servers[i] != NULL && !ssh; i++)
    ssh = ext4_has (fs, ssh_servers[i]);
  if (!ssh)
    g_string_append_printf (missing, "%san SSH server (sshd or dropbear)",
                            missing->len ? ", " : "");
  ext2fs_close_free (&fs);
  if (missing->len > 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Image '%s' does not meet the guest contract (doc/guest.md): it lacks %s",
                   ref, missing->str);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------ kernel artifact */

/* What a kernel artifact's layers may hold, at their top level. */
static const char *const kernel_names[] = { "vmlinux", "vmlinuz", "bzImage", NULL };
#define INITRD_NAME "initrd.img"
#define CMDLINE_NAME "cmdline"
#define CMDLINE_MAX 2048

typedef struct
{
  GInputStream *in;
  GChecksum *sum;
  guint64 read;
  GCancellable *cancellable;
  GError *error;
  char buf[64 * 1024];
} LayerReader;

static la_ssize_t
layer_read (struct archive *a, void *data, const void **out)
{
  LayerReader *r = data;
  gssize n = g_input_stream_read (r->in, r->buf, sizeof r->buf, r->cancellable,
                                  r->error ? NULL : &r->error);

  if (n < 0)
    {
      archive_set_error (a, EIO, "read failed");
      return -1;
    }
  g_checksum_update (r->sum, (const guchar *)r->buf, n);
  r->read += (guint64)n;
  *out = r->buf;
  return n;
}

/* "./vmlinuz", "/vmlinuz", "vmlinuz" -> "vmlinuz"; anything in a directory -> NULL */
static const char *
top_level_name (const char *path)
{
  while (g_str_has_prefix (path, "./"))
    path += 2;
  while (*path == '/')
    path++;
  if (*path == '\0' || strchr (path, '/') != NULL)
    return NULL;
  return path;
}

/* Write the entry's data to @dir/@name (fresh, 0644), at most @max bytes. */
static gboolean
extract_entry (struct archive *a, const char *dir, const char *name, guint64 max,
               GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  const void *buf;
  size_t len;
  la_int64_t off;
  guint64 total = 0;
  int fd;
  int r;

  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      g_set_error (error, BANGER_ERROR,
                   errno == EEXIST ? BANGER_ERROR_PROTOCOL : BANGER_ERROR_FAILED,
                   errno == EEXIST ? "The kernel artifact holds '%s' twice"
                                   : "Cannot create the kernel file '%s'",
                   name);
      return FALSE;
    }
  while ((r = archive_read_data_block (a, &buf, &len, &off)) == ARCHIVE_OK)
    {
      total += len;
      if (total > max)
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The kernel artifact's '%s' is larger than %" G_GUINT64_FORMAT " bytes",
                       name, max);
          return FALSE;
        }
      if (pwrite (fd, buf, len, off) != (ssize_t)len)
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot write '%s': %s", path,
                       g_strerror (errno));
          return FALSE;
        }
    }
  if (r != ARCHIVE_EOF || fsync (fd) < 0)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The kernel artifact's '%s' cannot be read: %s", name,
                   archive_error_string (a) ? archive_error_string (a) : "write error");
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* One layer of a kernel artifact into @dir: kernel, initrd.img, cmdline at
 * the top level; everything else is ignored (never written). */
static gboolean
extract_layer (BangerBlobStore *blobs, const BangerOciDescriptor *d, const char *dir,
               char **kernel_name, gboolean *has_initrd, char **cmdline,
               GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) in = banger_blob_store_open_blob (blobs, d->digest, error);
  LayerReader r = { 0 };
  struct archive *a;
  struct archive_entry *e;
  BangerLayerCompression comp;
  gboolean ok = TRUE;
  int rc;

  if (in == NULL || !banger_oci_layer_compression (d->media_type, &comp, error))
    return FALSE;
  r.in = in;
  r.sum = g_checksum_new (G_CHECKSUM_SHA256);
  r.cancellable = cancellable;
  a = archive_read_new ();
  archive_read_support_format_tar (a);
  if (comp == BANGER_LAYER_TAR_GZIP)
    archive_read_support_filter_gzip (a);
  else if (comp == BANGER_LAYER_TAR_ZSTD)
    archive_read_support_filter_zstd (a);
  else
    archive_read_support_filter_none (a);
  if (archive_read_open (a, &r, NULL, layer_read, NULL) != ARCHIVE_OK)
    ok = FALSE;
  while (ok && (rc = archive_read_next_header (a, &e)) == ARCHIVE_OK)
    {
      const char *name = top_level_name (archive_entry_pathname (e));
      if (name == NULL || archive_entry_filetype (e) != AE_IFREG)
        continue;
      if (g_strv_contains (kernel_names, name))
        {
          if (*kernel_name != NULL)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The kernel artifact holds two kernels ('%s' and '%s')", *kernel_name,
                           name);
              ok = FALSE;
              break;
            }
          *kernel_name = g_strdup (name);
          ok = extract_entry (a, dir, name, BANGER_KERNEL_PULL_MAX_KERNEL, error);
        }
      else if (g_str_equal (name, INITRD_NAME))
        {
          *has_initrd = TRUE;
          ok = extract_entry (a, dir, name, BANGER_KERNEL_PULL_MAX_INITRD, error);
        }
      else if (g_str_equal (name, CMDLINE_NAME) && archive_entry_size (e) <= CMDLINE_MAX)
        {
          char buf[CMDLINE_MAX + 1];
          la_ssize_t n = archive_read_data (a, buf, CMDLINE_MAX);
          if (n >= 0)
            {
              buf[n] = '\0';
              g_free (*cmdline);
              *cmdline = g_strstrip (g_strdup (buf));
            }
        }
    }
  if (ok && rc != ARCHIVE_EOF)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Kernel artifact layer %s is not a readable tar: %s", d->digest,
                   r.error ? r.error->message : archive_error_string (a));
      ok = FALSE;
    }
  /* the bytes after the tar's end count for the digest too */
  if (ok)
    {
      const void *out;
      while (layer_read (a, &r, &out) > 0)
        ;
      if (r.error != NULL)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Reading layer %s: %s",
                       d->digest, r.error->message);
          ok = FALSE;
        }
    }
  archive_read_free (a);
  if (ok)
    {
      g_autofree char *got = banger_digest_from_checksum (r.sum);
      if (!g_str_equal (got, d->digest) || r.read != d->size)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Blob content does not match its digest: expected %s, got %s", d->digest,
                       got);
          ok = FALSE;
        }
    }
  g_checksum_free (r.sum);
  g_clear_error (&r.error);
  return ok;
}

static gboolean
mkdir_fresh (const char *dir, GError **error)
{
  if (g_mkdir (dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR,
                   errno == EEXIST ? BANGER_ERROR_ALREADY_EXISTS : BANGER_ERROR_FAILED,
                   "Cannot create '%s': %s", dir, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The files of kernel artifact @manifest_digest into @dir. */
static gboolean
unpack_kernel_artifact (BangerBlobStore *blobs, const char *refstr, const char *manifest_digest,
                        const char *dir, char **out_kernel, char **out_initrd, char **out_cmdline,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) bytes
      = banger_blob_store_read_blob (blobs, manifest_digest, BANGER_OCI_MANIFEST_MAX_BYTES, error);
  g_autoptr (BangerOciManifest) m = NULL;
  g_autofree char *kernel_name = NULL;
  g_autofree char *cmdline = NULL;
  gboolean has_initrd = FALSE;

  if (bytes == NULL || (m = banger_oci_manifest_parse (bytes, NULL, error)) == NULL)
    return FALSE;
  if (m->kind != BANGER_OCI_MANIFEST_IMAGE
      || g_strcmp0 (m->config->media_type, BANGER_KERNEL_ARTIFACT_CONFIG) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "'%s' is not a banger kernel artifact (config media type '%s', expected "
                   "'" BANGER_KERNEL_ARTIFACT_CONFIG "'; doc/images.md)",
                   refstr, m->config ? m->config->media_type : "none");
      return FALSE;
    }
  for (guint i = 0; i < m->layers->len; i++)
    if (!extract_layer (blobs, m->layers->pdata[i], dir, &kernel_name, &has_initrd, &cmdline,
                        cancellable, error))
      return FALSE;
  if (kernel_name == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Kernel artifact '%s' holds no vmlinux, vmlinuz or bzImage at its top level",
                   refstr);
      return FALSE;
    }
  *out_kernel = g_build_filename (dir, kernel_name, NULL);
  *out_initrd = has_initrd ? g_build_filename (dir, INITRD_NAME, NULL) : NULL;
  *out_cmdline = g_steal_pointer (&cmdline);
  return TRUE;
}

/* ------------------------------------------------------------ kernel URL */

static gboolean
valid_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != BANGER_DIGEST_HEX_LEN)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* GET @url into @dest (fresh), hashing; the sha256 must be @sha256. */
static gboolean
download_url (BangerEngine *self, const char *url, const char *sha256, const char *dest,
              const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GError) local = NULL;
  g_autofree char *hostport = NULL;
  g_autofree char *buf = g_malloc (64 * 1024);
  const BangerEngineRegistries *regs = self->config->registries;
  guint64 total = 0;
  goffset length;
  gssize n;
  int fd;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "'%s' is not a URL", url);
      return FALSE;
    }
  hostport = g_uri_get_port (uri) > 0
                 ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
                 : g_strdup (g_uri_get_host (uri));
  if (g_str_equal (g_uri_get_scheme (uri), "http")
      && !g_strv_contains ((const char *const *)regs->insecure, hostport))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Kernel URL '%s' is plain HTTP and %s is not a [registries] insecure host", url,
                   hostport);
      return FALSE;
    }
  session = soup_session_new_with_options ("user-agent", "banger/" PACKAGE_VERSION, "timeout", 60,
                                           NULL);
  if (regs->ca_file != NULL)
    {
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (regs->ca_file, error);
      if (db == NULL)
        return FALSE;
      soup_session_set_tls_database (session, db);
    }
  msg = soup_message_new_from_uri ("GET", uri);
  in = soup_session_send (session, msg, cancellable, &local);
  if (in == NULL)
    {
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                       ? BANGER_ERROR_CANCELLED
                       : BANGER_ERROR_FAILED,
                   "Downloading '%s' failed: %s", url, local->message);
      return FALSE;
    }
  if (soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_set_error (error, BANGER_ERROR,
                   soup_message_get_status (msg) == SOUP_STATUS_NOT_FOUND
                       ? BANGER_ERROR_NOT_FOUND
                       : BANGER_ERROR_FAILED,
                   "Downloading '%s': HTTP %u %s", url, soup_message_get_status (msg),
                   soup_message_get_reason_phrase (msg));
      return FALSE;
    }
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
  fd = open (dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", dest,
                   g_strerror (errno));
      return FALSE;
    }
  while ((n = g_input_stream_read (in, buf, 64 * 1024, cancellable, &local)) > 0)
    {
      BangerEngineProgress pr = { 0 };
      total += (guint64)n;
      if (total > BANGER_KERNEL_PULL_MAX_KERNEL)
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "Kernel URL '%s' serves more than %d bytes", url,
                       BANGER_KERNEL_PULL_MAX_KERNEL);
          return FALSE;
        }
      g_checksum_update (sum, (const guchar *)buf, n);
      if (write (fd, buf, (size_t)n) != n)
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot write '%s': %s", dest,
                       g_strerror (errno));
          return FALSE;
        }
      pr.op_id = op_id;
      pr.ref = url;
      pr.phase = BANGER_ENGINE_PULL_DOWNLOAD;
      pr.blob_done = pr.total_done = total;
      pr.blob_size = pr.total_size = length > 0 ? (guint64)length : 0;
      banger_engine_pull_report (self, &pr);
    }
  if (n < 0 || fsync (fd) < 0)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                       ? BANGER_ERROR_CANCELLED
                       : BANGER_ERROR_FAILED,
                   "Downloading '%s' failed: %s", url, local ? local->message : g_strerror (errno));
      return FALSE;
    }
  close (fd);
  if (!g_str_equal (g_checksum_get_string (sum), sha256))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Kernel URL '%s' served content whose sha256 is %s, not %s; nothing was kept",
                   url, g_checksum_get_string (sum), sha256);
      return FALSE;
    }
  return TRUE;
}

/* "https://host/path/vmlinuz-6.1" -> "vmlinuz-6.1" (invalid characters as '-') */
static char *
url_default_name (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *base = NULL;

  if (uri == NULL)
    return g_strdup ("kernel");
  base = g_path_get_basename (g_uri_get_path (uri));
  if (base[0] == '/' || base[0] == '.' || base[0] == '\0')
    return g_strdup ("kernel");
  for (char *p = base; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      *p = '-';
  if (strlen (base) > 128)
    base[128] = '\0';
  return g_steal_pointer (&base);
}

/* -------------------------------------------------------------- service */

BangerStoreKernel *
banger_engine_kernel_pull (BangerEngine *self, const char *source, const char *name,
                           const char *sha256, const char *op_id, GCancellable *cancellable,
                           GError **error)
{
  gboolean is_url;
  guint64 total = 0;
  g_autofree char *default_name = NULL;
  g_autofree char *refstr = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *kpath = NULL;
  g_autofree char *ipath = NULL;
  g_autofree char *cmdline = NULL;
  g_autoptr (BangerImageRef) ref = NULL;
  g_autoptr (BangerBlobStore) blobs = NULL;
  g_autoptr (BangerStoreKernel) existing = NULL;
  g_autoptr (BangerStoreKernel) record = NULL;
  g_autoptr (BangerStoreKernel) added = NULL;
  g_autoptr (GMutexLocker) name_locker = NULL;
  gboolean ok;

  g_return_val_if_fail (BANGER_IS_ENGINE (self), NULL);
  if (source == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "No kernel reference or URL given");
      return NULL;
    }
  is_url = g_str_has_prefix (source, "https://") || g_str_has_prefix (source, "http://");
  if (is_url)
    {
      if (!valid_sha256_hex (sha256))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "A kernel URL needs --sha256 with 64 lowercase hex digits%s",
                       sha256 ? " (the one given is not)" : "");
          return NULL;
        }
      refstr = g_strdup (source);
      digest = g_strconcat (BANGER_DIGEST_PREFIX, sha256, NULL);
      if (name == NULL)
        name = default_name = url_default_name (source);
    }
  else
    {
      if (sha256 != NULL)
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                               "--sha256 is for kernel URLs; a reference names its digest "
                               "itself (REF@sha256:…)");
          return NULL;
        }
      ref = banger_image_ref_parse (source, error);
      if (ref == NULL)
        return NULL;
      refstr = banger_image_ref_to_string (ref);
      if (name == NULL)
        name = default_name = banger_engine_pull_default_name (source, error);
    }
  if (name == NULL || !banger_store_validate_object_name ("kernel", name, error))
    return NULL;
  existing = banger_store_kernel_get_by_name (self->store, name, NULL);
  if (existing != NULL && g_strcmp0 (existing->ref, refstr) != 0)
    return banger_engine_pull_name_taken ("Kernel", name, existing->ref, refstr, error), NULL;
  g_clear_pointer (&existing, banger_store_kernel_free);

  if (!is_url)
    {
      blobs = banger_engine_pull_get_blobs (self, error);
      if (blobs == NULL)
        return NULL;
      banger_engine_pull_hold (self);
      digest = banger_engine_pull_fetch (self, ref, op_id, &total, cancellable, error);
      if (digest == NULL)
        {
          banger_engine_pull_release (self);
          return NULL;
        }
    }
  name_locker = g_mutex_locker_new (banger_engine_pull_name_lock (self, "kernel", name));
  existing = banger_store_kernel_get_by_name (self->store, name, NULL);
  if (existing != NULL)
    {
      if (!is_url)
        banger_engine_pull_release (self);
      if (g_strcmp0 (existing->ref, refstr) == 0 && g_strcmp0 (existing->digest, digest) == 0)
        {
          banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_DONE, total,
                                           total);
          return g_steal_pointer (&existing);
        }
      if (g_strcmp0 (existing->ref, refstr) != 0)
        return banger_engine_pull_name_taken ("Kernel", name, existing->ref, refstr, error), NULL;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "Kernel '%s' holds '%s' at %s, not %s; delete the kernel or pull under "
                   "another --name",
                   name, refstr, existing->digest ? existing->digest : "an unknown digest",
                   digest);
      return NULL;
    }

  dir = g_build_filename (self->kernels_dir, name, NULL);
  if (!mkdir_fresh (dir, error))
    {
      if (!is_url)
        banger_engine_pull_release (self);
      return NULL;
    }
  banger_engine_log (op_id, "kernel.pull %s as %s", refstr, name);
  if (is_url)
    {
      kpath = g_build_filename (dir, "vmlinuz", NULL);
      banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_RESOLVE, 0, 0);
      ok = download_url (self, source, sha256, kpath, op_id, cancellable, error);
      if (ok)
        {
          GStatBuf st;

          /* what crossed the network: the kernel file, verified */
          if (g_stat (kpath, &st) == 0)
            total = (guint64) st.st_size;
        }
    }
  else
    {
      banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_UNPACK, 0, 0);
      ok = unpack_kernel_artifact (blobs, refstr, digest, dir, &kpath, &ipath, &cmdline,
                                   cancellable, error);
    }
  if (ok)
    {
      record = banger_store_kernel_new (name, kpath, ipath, cmdline);
      record->ref = g_strdup (refstr);
      record->digest = g_strdup (digest);
      added = banger_store_kernel_add (self->store, record, error);
    }
  if (!is_url)
    banger_engine_pull_release (self);
  if (added == NULL)
    {
      banger_engine_remove_tree (dir, NULL);
      return NULL;
    }
  banger_engine_pull_report_phase (self, op_id, refstr, BANGER_ENGINE_PULL_DONE, total, total);
  banger_engine_log (op_id, "kernel.pull %s: kernel %s ready (%s)", refstr, name, digest);
  return g_steal_pointer (&added);
}
