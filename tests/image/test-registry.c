/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry client against the real distribution registry (Debian's
 * docker-registry), started here on loopback inside a network namespace
 * this test makes, over plain HTTP.  The test builds its images itself
 * (layers with libarchive, manifests and configs by hand) and pushes them
 * with plain HTTP requests.  A second registry demands bearer tokens from a
 * tiny token endpoint served by this test (JWTs signed with a key and
 * certificate made by `openssl`); the same endpoint answers /v2/ with
 * redirects to the first registry (and one 503 per manifest) to exercise
 * redirects and retries.
 *
 * It needs root (for the namespace), docker-registry and openssl, and fails
 * when it cannot run: it never skips. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-blob-store.h"
#include "banger-digest.h"
#include "banger-error.h"
#include "banger-image-build.h"
#include "banger-image-ref.h"
#include "banger-layer-unpack.h"
#include "banger-oci-manifest.h"
#include "banger-registry-client.h"
#include "banger-rootfs-ext4.h"
#include "banger-test.h"
#include "image-test-tar.h"
#include "registry-fixture.h"

#define REGISTRY "127.0.0.1:5000"
#define AUTH_REGISTRY "127.0.0.1:5001"
#define FRONT "127.0.0.1:5002" /* token endpoint and redirecting front */
#define SERVICE "banger-test"
#define ISSUER "banger-test-issuer"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define CONFIG_TYPE "application/vnd.oci.image.config.v1+json"

static const char *insecure[] = { REGISTRY, AUTH_REGISTRY, FRONT, NULL };

/* set up once by main() */
static char *workdir;
static char *token;         /* grants auth/img */
static char *token_private; /* grants auth/private; handed out for Basic tester:s3cret only */
static RegFixture *registries[2];
static char *multi_manifest;   /* digest of test/multi:v1 */
static char *list_amd64;       /* the amd64 manifest of test/list:v1 */
static char *list_arm64;
static char *arm64_layer;
static char *corrupt_layer;
static char *big_layer;
static GBytes *big_layer_bytes;
static guint front_503s;

/* per test */
static char *tmpdir;
static BangerBlobStore *store;
static BangerRegistryClient *client;

/* ------------------------------------------------------------- tokens */

static char *
b64url (const void *data, gsize len)
{
  char *s = g_base64_encode (data, len);

  g_strdelimit (s, "+", '-');
  g_strdelimit (s, "/", '_');
  for (char *p = s + strlen (s); p > s && p[-1] == '='; p--)
    p[-1] = '\0';
  return s;
}

/* A key and a self-signed certificate for the registry's rootcertbundle. */
static char *token_key;

static void
make_token_key (const char *cert_path)
{
  const char *req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        NULL, "-out", cert_path, "-days", "2", "-subj", "/CN=banger-test-token",
                        NULL };

  token_key = g_build_filename (workdir, "token-key.pem", NULL);
  req[7] = token_key;
  regfix_run_or_bail (req);
}

/* An RS256 JWT with pull+push on @repo; x5c carries the certificate. */
static char *
make_token (const char *cert_path, const char *repo)
{
  g_autofree char *input = g_build_filename (workdir, "jwt-input", NULL);
  g_autofree char *sig = g_build_filename (workdir, "jwt-sig", NULL);
  g_autofree char *pem = NULL;
  g_autofree char *sig_bytes = NULL;
  g_autoptr (GString) der_b64 = g_string_new (NULL);
  g_autofree char *header = NULL;
  g_autofree char *claims = NULL;
  g_autofree char *h64 = NULL;
  g_autofree char *c64 = NULL;
  g_autofree char *s64 = NULL;
  g_autofree char *signing_input = NULL;
  g_auto (GStrv) lines = NULL;
  gsize sig_len = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *dgst[] = { "openssl", "dgst", "-sha256", "-sign", token_key, "-out", sig, input,
                         NULL };

  if (!g_file_get_contents (cert_path, &pem, NULL, NULL))
    regfix_bail ("no certificate");
  lines = g_strsplit (pem, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l != '\0' && !g_str_has_prefix (*l, "-----"))
      g_string_append (der_b64, *l);
  header = g_strdup_printf ("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5c\":[\"%s\"]}", der_b64->str);
  claims = g_strdup_printf (
      "{\"iss\":\"" ISSUER "\",\"sub\":\"tester\",\"aud\":\"" SERVICE "\",\"exp\":%" G_GINT64_FORMAT
      ",\"nbf\":%" G_GINT64_FORMAT ",\"iat\":%" G_GINT64_FORMAT ",\"jti\":\"%s\","
      "\"access\":[{\"type\":\"repository\",\"name\":\"%s\",\"actions\":[\"pull\",\"push\"]}]}",
      now + 7200, now - 600, now - 600, repo, repo);
  h64 = b64url (header, strlen (header));
  c64 = b64url (claims, strlen (claims));
  signing_input = g_strconcat (h64, ".", c64, NULL);
  if (!g_file_set_contents (input, signing_input, -1, NULL))
    regfix_bail ("cannot write the JWT input");
  regfix_run_or_bail (dgst);
  if (!g_file_get_contents (sig, &sig_bytes, &sig_len, NULL))
    regfix_bail ("no signature");
  s64 = b64url (sig_bytes, sig_len);
  return g_strconcat (signing_input, ".", s64, NULL);
}

/* ---------------------------------------------------------- the front */

static void
front_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  if (g_str_equal (path, "/token"))
    {
      const char *service = query ? g_hash_table_lookup (query, "service") : NULL;
      const char *scope = query ? g_hash_table_lookup (query, "scope") : NULL;
      const char *granted = token;
      g_autofree char *body = NULL;
      if (g_strcmp0 (service, SERVICE) != 0 || scope == NULL)
        {
          soup_server_message_set_status (msg, 400, NULL);
          return;
        }
      if (strstr (scope, "auth/private") != NULL)
        {
          /* "tester:s3cret" */
          const char *auth = soup_message_headers_get_one (
              soup_server_message_get_request_headers (msg), "Authorization");
          if (g_strcmp0 (auth, "Basic dGVzdGVyOnMzY3JldA==") != 0)
            {
              soup_server_message_set_status (msg, 401, NULL);
              return;
            }
          granted = token_private;
        }
      body = g_strdup_printf ("{\"token\":\"%s\",\"expires_in\":7200}", granted);
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                        strlen (body));
      return;
    }
  if (g_str_has_prefix (path, "/v2/"))
    {
      g_autofree char *location = NULL;
      /* the first request for a manifest fails, to exercise the retry */
      if (strstr (path, "/manifests/") != NULL && g_atomic_int_add (&front_503s, 1) % 2 == 0)
        {
          soup_server_message_set_status (msg, 503, NULL);
          return;
        }
      location = g_strconcat ("http://" REGISTRY, path, NULL);
      soup_server_message_set_redirect (msg, 307, location);
      return;
    }
  soup_server_message_set_status (msg, 404, NULL);
}

static gpointer
front_thread (gpointer data)
{
  GMainContext *ctx = g_main_context_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (ctx, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 5002);
  SoupServer *server;

  g_main_context_push_thread_default (ctx);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, front_handler, NULL, NULL);
  if (!soup_server_listen (server, addr, 0, &error))
    regfix_bail ("the token endpoint cannot listen: %s", error->message);
  g_main_loop_run (loop); /* until the process exits */
  return NULL;
}

static GBytes *
random_bytes_file_layer (const char *name, gsize size)
{
  g_autofree guint32 *data = g_new (guint32, size / 4);
  TestTar *t = test_tar_new ('g');
  struct archive_entry *e = archive_entry_new ();
  GRand *r = g_rand_new_with_seed (42);

  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (r);
  g_rand_free (r);
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t) (size / 4 * 4));
  g_assert (archive_write_header (t->a, e) == ARCHIVE_OK);
  g_assert (archive_write_data (t->a, data, size / 4 * 4) == (la_ssize_t) (size / 4 * 4));
  archive_entry_free (e);
  return test_tar_finish (t);
}

static void
push_test_images (void)
{
  g_autoptr (SoupSession) session = regfix_session (NULL);
  g_autoptr (SoupSession) auth_session = regfix_session (NULL);
  g_autoptr (SoupSession) private_session = regfix_session (NULL);
  const char *base = registries[0]->base_url;
  const char *auth_base = registries[1]->base_url;
  g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
  g_autofree char *bearer_private = g_strconcat ("Bearer ", token_private, NULL);
  g_autoptr (GBytes) l1 = NULL, l2 = NULL, l3 = NULL, la = NULL, lb = NULL, lc = NULL;
  g_autofree char *idx = NULL;
  g_autofree char *idx_digest = NULL;
  TestTar *t;

  /* test/multi:v1 — three layers (gzip, zstd, plain) with a whiteout and an
   * opaque directory */
  t = test_tar_new ('g');
  tt_dir (t, "etc/", 0755);
  tt_file (t, "etc/hostname", 0644, "multi\n");
  tt_file (t, "etc/old.conf", 0644, "old");
  tt_file (t, "opt/app/a", 0644, "a");
  tt_file (t, "opt/app/b", 0644, "b");
  tt_file (t, "bin/tool", 04755, "tool");
  l1 = test_tar_finish (t);
  t = test_tar_new ('z');
  tt_file (t, "etc/.wh.old.conf", 0644, "");
  tt_dir (t, "opt/app/", 0755);
  tt_file (t, "opt/app/.wh..wh..opq", 0644, "");
  tt_file (t, "opt/app/c", 0644, "c");
  l2 = test_tar_finish (t);
  t = test_tar_new (0);
  tt_file_owned (t, "home/user/notes", 0600, 1000, 1000, "notes");
  l3 = test_tar_finish (t);
  {
    RegLayer layers[] = { { LAYER_GZIP, l1 }, { LAYER_ZSTD, l2 }, { LAYER_TAR, l3 } };
    multi_manifest
        = regfix_push_image_for_arch (session, base, "test/multi", "v1", "amd64", layers, 3);
  }

  /* test/list:v1 — an OCI index with arm64 and amd64 images */
  t = test_tar_new ('g');
  tt_file (t, "arch", 0644, "arm64");
  la = test_tar_finish (t);
  arm64_layer = banger_digest_of_bytes (la);
  t = test_tar_new ('g');
  tt_file (t, "arch", 0644, "amd64");
  lb = test_tar_finish (t);
  {
    RegLayer arm[] = { { LAYER_GZIP, la } };
    RegLayer amd[] = { { LAYER_GZIP, lb } };
    list_arm64 = regfix_push_image_for_arch (session, base, "test/list", NULL, "arm64", arm, 1);
    list_amd64 = regfix_push_image_for_arch (session, base, "test/list", NULL, "amd64", amd, 1);
  }
  idx = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" BANGER_OCI_MEDIA_INDEX "\",\"manifests\":["
      "{\"mediaType\":\"" BANGER_OCI_MEDIA_MANIFEST "\",\"digest\":\"%s\",\"size\":1,"
      "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
      "{\"mediaType\":\"" BANGER_OCI_MEDIA_MANIFEST "\",\"digest\":\"%s\",\"size\":1,"
      "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
      list_arm64, list_amd64);
  idx_digest = regfix_push_manifest (session, base, "test/list", "v1", BANGER_OCI_MEDIA_INDEX, idx);

  /* test/corrupt:v1 — its layer is damaged in the registry's storage after
   * the push (the registry serves it as it is) */
  t = test_tar_new ('g');
  tt_file (t, "file", 0644, "pristine content of the corrupt image");
  lc = test_tar_finish (t);
  {
    RegLayer layers[] = { { LAYER_GZIP, lc } };
    g_autofree char *m
        = regfix_push_image_for_arch (session, base, "test/corrupt", "v1", "amd64", layers, 1);
    corrupt_layer = banger_digest_of_bytes (lc);
    /* same size, other bytes */
    regfix_corrupt_blob (registries[0], corrupt_layer);
  }

  /* test/big:v1 — one incompressible 3 MiB layer, for resume and progress */
  big_layer_bytes = random_bytes_file_layer ("big.bin", 3 * 1024 * 1024);
  big_layer = banger_digest_of_bytes (big_layer_bytes);
  {
    RegLayer layers[] = { { LAYER_GZIP, big_layer_bytes } };
    g_autofree char *m
        = regfix_push_image_for_arch (session, base, "test/big", "v1", "amd64", layers, 1);
  }

  /* auth/img:v1 and auth/private:v1 on the token registry */
  {
    RegLayer layers[] = { { LAYER_GZIP, l1 } };
    g_autofree char *m = NULL;
    g_autofree char *m2 = NULL;

    regfix_session_set_authorization (auth_session, bearer);
    regfix_session_set_authorization (private_session, bearer_private);
    m = regfix_push_image_for_arch (auth_session, auth_base, "auth/img", "v1", "amd64", layers, 1);
    m2 = regfix_push_image_for_arch (private_session, auth_base, "auth/private", "v1", "amd64",
                                     layers, 1);
  }
}

/* ------------------------------------------------------------- fixture */

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  tmpdir = g_dir_make_tmp ("banger-pull-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (tmpdir, "store", NULL);
  store = banger_blob_store_new (path, &error);
  g_assert_no_error (error);
  client = banger_registry_client_new (store);
  banger_registry_client_set_insecure_hosts (client, insecure);
  banger_registry_client_set_retries (client, 2, 50);
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_clear_object (&client);
  g_clear_object (&store);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
}

typedef struct
{
  GMainLoop *loop;
  BangerPulledImage *image;
  GError *error;
  guint events;
  guint64 last_total;
  guint64 total_size;
  gboolean monotonic;
} PullWait;

static void
on_progress (const BangerPullProgress *p, gpointer data)
{
  PullWait *w = data;

  w->events++;
  if (p->total_done < w->last_total)
    w->monotonic = FALSE;
  w->last_total = p->total_done;
  w->total_size = p->total_size;
}

static void
on_pulled (GObject *source, GAsyncResult *res, gpointer data)
{
  PullWait *w = data;

  w->image = banger_registry_client_pull_finish (BANGER_REGISTRY_CLIENT (source), res, &w->error);
  g_main_loop_quit (w->loop);
}

/* Pull @text and wait; the result, or NULL with @error set. */
static BangerPulledImage *
pull (const char *text, PullWait *w, GError **error)
{
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (text, error);

  if (ref == NULL)
    return NULL;
  memset (w, 0, sizeof *w);
  w->monotonic = TRUE;
  w->loop = g_main_loop_new (NULL, FALSE);
  banger_registry_client_pull_ref_async (client, ref, on_progress, w, NULL, NULL, on_pulled, w);
  g_main_loop_run (w->loop);
  /* progress events queued before the result ran before it */
  g_main_loop_unref (w->loop);
  if (w->error != NULL)
    g_propagate_error (error, w->error);
  return w->image;
}

static guint
count_dir (const char *sub)
{
  g_autofree char *path = g_build_filename (tmpdir, "store", sub, NULL);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* ------------------------------------------------------------------ tests */

START_TEST (test_pull_multi_layer_to_ext4)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  g_autoptr (BangerRootfsStaging) staging = NULL;
  g_autofree char *staging_dir = g_build_filename (tmpdir, "staging", NULL);
  g_autofree char *image = g_build_filename (tmpdir, "rootfs.ext4", NULL);
  g_autofree char *c = NULL;
  g_autofree char *debugfs_out = NULL;
  PullWait w;

  img = pull (REGISTRY "/test/multi:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (img->manifest_digest, multi_manifest);
  ck_assert_ptr_null (img->index_digest);
  ck_assert_uint_eq (img->layers->len, 3);
  ck_assert (banger_blob_store_has_blob (store, img->manifest_digest));
  ck_assert (banger_blob_store_has_blob (store, img->config_digest));
  ck_assert_uint_gt (w.events, 0);
  ck_assert (w.monotonic);
  ck_assert_uint_eq (w.last_total, img->total_size);
  ck_assert_uint_eq (w.total_size, img->total_size);
  ck_assert_uint_eq (img->downloaded_bytes, img->total_size);
  ck_assert_uint_le (img->peak_parallel, BANGER_REGISTRY_DEFAULT_MAX_PARALLEL);
  ck_assert_uint_eq (count_dir ("tmp"), 0);

  /* the layers, from the store, into a tree and an ext4 image */
  staging = banger_rootfs_staging_new (staging_dir, &error);
  for (guint i = 0; i < img->layers->len; i++)
    {
      const BangerOciDescriptor *d = img->layers->pdata[i];
      g_autoptr (GInputStream) in = banger_blob_store_open_blob (store, d->digest, &error);
      BangerLayerCompression comp;
      ck_assert (banger_oci_layer_compression (d->media_type, &comp, &error));
      ck_assert_msg (banger_rootfs_staging_apply_layer (staging, in, comp, d->digest,
                                                        (gint64) d->size, NULL, NULL, &error),
                     "%s", error ? error->message : "");
    }
  ck_assert (banger_rootfs_staging_finish (staging, &error));
  ck_assert_msg (banger_rootfs_build_ext4 (banger_rootfs_staging_get_tree_path (staging),
                                           banger_rootfs_staging_get_ownership_path (staging),
                                           image, 0, NULL, &error),
                 "%s", error ? error->message : "");
  {
    g_autofree char *p = g_build_filename (banger_rootfs_staging_get_tree_path (staging),
                                           "opt/app/c", NULL);
    g_autofree char *gone = g_build_filename (banger_rootfs_staging_get_tree_path (staging),
                                              "opt/app/a", NULL);
    g_autofree char *old = g_build_filename (banger_rootfs_staging_get_tree_path (staging),
                                             "etc/old.conf", NULL);
    ck_assert (g_file_get_contents (p, &c, NULL, NULL));
    ck_assert_str_eq (c, "c");
    ck_assert (!g_file_test (gone, G_FILE_TEST_EXISTS));
    ck_assert (!g_file_test (old, G_FILE_TEST_EXISTS));
  }
  {
    const char *argv[] = { "debugfs", "-R", "stat /home/user/notes", image, NULL };
    int status = 0;
    ck_assert (g_spawn_sync (NULL, (char **) argv, NULL,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                             &debugfs_out, NULL, &status, NULL));
    ck_assert_ptr_nonnull (strstr (debugfs_out, "User:  1000"));
  }

  /* a second pull downloads nothing */
  {
    g_autoptr (BangerPulledImage) again = pull (REGISTRY "/test/multi:v1", &w, &error);
    ck_assert_ptr_nonnull (again);
    ck_assert_uint_eq (again->downloaded_bytes, 0);
  }
}
END_TEST

START_TEST (test_pull_index_platform)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  g_autoptr (BangerPulledImage) arm = NULL;
  g_autoptr (BangerPulledImage) none = NULL;
  PullWait w;

  img = pull (REGISTRY "/test/list:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert_ptr_nonnull (img->index_digest);
  ck_assert_str_eq (img->manifest_digest, list_amd64);
  ck_assert (banger_blob_store_has_blob (store, img->index_digest));
  ck_assert (!banger_blob_store_has_blob (store, arm64_layer));
  ck_assert (!banger_blob_store_has_blob (store, list_arm64));

  /* the whole way to a root file system, through the glue */
  {
    g_autofree char *image = g_build_filename (tmpdir, "amd64.ext4", NULL);
    g_autofree char *out = NULL;
    const char *argv[] = { "debugfs", "-R", "cat /arch", image, NULL };
    g_autoptr (GDir) dir = NULL;
    const char *name;
    int status = 0;
    ck_assert_msg (banger_image_build_rootfs (store, img->manifest_digest, tmpdir, image, 0, NULL,
                                              &error),
                   "%s", error ? error->message : "");
    ck_assert (g_spawn_sync (NULL, (char **) argv, NULL,
                             G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                             NULL, &status, NULL));
    ck_assert_str_eq (out, "amd64");
    /* the staging tree is gone */
    dir = g_dir_open (tmpdir, 0, NULL);
    while ((name = g_dir_read_name (dir)) != NULL)
      ck_assert_msg (!g_str_has_prefix (name, "staging-"), "left behind: %s", name);
    /* an index is not an image */
    ck_assert (!banger_image_build_rootfs (store, img->index_digest, tmpdir, image, 0, NULL,
                                           &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  banger_registry_client_set_platform (client, "linux", "arm64", NULL);
  arm = pull (REGISTRY "/test/list:v1", &w, &error);
  ck_assert_msg (arm != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (arm->manifest_digest, list_arm64);
  ck_assert (banger_blob_store_has_blob (store, arm64_layer));

  banger_registry_client_set_platform (client, "linux", "s390x", NULL);
  none = pull (REGISTRY "/test/list:v1", &w, &error);
  ck_assert_ptr_null (none);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_pull_corrupt_blob)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  PullWait w;

  img = pull (REGISTRY "/test/corrupt:v1", &w, &error);
  ck_assert_ptr_null (img);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_ptr_nonnull (strstr (error->message, "does not match its digest"));
  ck_assert (!banger_blob_store_has_blob (store, corrupt_layer));
  /* no partial file of the bad blob (the config, cancelled mid-way by the
   * failure, may have left a resumable one) */
  {
    g_autofree char *partial = g_strdup_printf ("%s/store/tmp/%s.partial", tmpdir,
                                                corrupt_layer + 7);
    ck_assert (!g_file_test (partial, G_FILE_TEST_EXISTS));
  }
  /* the manifest is stored last, so not at all: at most the config is */
  ck_assert_uint_le (count_dir ("blobs/sha256"), 1);
}
END_TEST

START_TEST (test_pull_missing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  g_autoptr (BangerPulledImage) img2 = NULL;
  PullWait w;

  img = pull (REGISTRY "/test/multi:nope", &w, &error);
  ck_assert_ptr_null (img);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  img2 = pull (REGISTRY "/no/such-repo", &w, &error);
  ck_assert_ptr_null (img2);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert_uint_eq (count_dir ("blobs/sha256"), 0);
}
END_TEST

START_TEST (test_pull_token_auth)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  g_autoptr (BangerPulledImage) denied = NULL;
  PullWait w;

  img = pull (AUTH_REGISTRY "/auth/img:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (img->layers->len, 1);
  /* the token grants auth/img only */
  denied = pull (AUTH_REGISTRY "/auth/other:v1", &w, &error);
  ck_assert_ptr_null (denied);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
}
END_TEST

START_TEST (test_pull_token_needs_insecure_realm)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  const char *only_registry[] = { AUTH_REGISTRY, NULL };
  PullWait w;

  /* a plain-HTTP realm that is not listed is refused */
  banger_registry_client_set_insecure_hosts (client, only_registry);
  img = pull (AUTH_REGISTRY "/auth/img:v1", &w, &error);
  ck_assert_ptr_null (img);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_ptr_nonnull (strstr (error->message, "realm"));
}
END_TEST

static char *
write_auth_file (const char *name, const char *json)
{
  char *path = g_build_filename (tmpdir, name, NULL);

  ck_assert (g_file_set_contents (path, json, -1, NULL));
  return path;
}

START_TEST (test_pull_credentials)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) anon = NULL;
  g_autoptr (BangerPulledImage) wrong = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  /* base64 of tester:wrong and tester:s3cret */
  g_autofree char *wrong_file = write_auth_file (
      "wrong.json", "{\"auths\":{\"" AUTH_REGISTRY "\":{\"auth\":\"dGVzdGVyOndyb25n\"}}}");
  g_autofree char *right_file = write_auth_file (
      "right.json", "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"eDp5\"},"
                    "\"http://" AUTH_REGISTRY "/v2/\":{\"username\":\"tester\","
                    "\"password\":\"s3cret\"}},\"credsStore\":\"none\"}");
  g_autofree char *bad_file = write_auth_file ("bad.json", "{\"auths\":[1]}");
  g_autofree char *bad_auth = write_auth_file (
      "bad-auth.json", "{\"auths\":{\"x.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");
  g_autofree char *missing = g_build_filename (tmpdir, "missing.json", NULL);
  PullWait w;

  /* the token service wants Basic credentials for auth/private */
  anon = pull (AUTH_REGISTRY "/auth/private:v1", &w, &error);
  ck_assert_ptr_null (anon);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  ck_assert (banger_registry_client_load_credentials_file (client, wrong_file, &error));
  wrong = pull (AUTH_REGISTRY "/auth/private:v1", &w, &error);
  ck_assert_ptr_null (wrong);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  ck_assert (banger_registry_client_load_credentials_file (client, right_file, &error));
  img = pull (AUTH_REGISTRY "/auth/private:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");

  ck_assert (!banger_registry_client_load_credentials_file (client, bad_file, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_registry_client_load_credentials_file (client, bad_auth, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_registry_client_load_credentials_file (client, missing, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_pull_resume)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  gsize size = g_bytes_get_size (big_layer_bytes);
  gsize half = size / 2;
  PullWait w;

  /* an earlier, interrupted download left half of the layer */
  {
    g_autoptr (BangerBlobWriter) writer = banger_blob_store_begin_write (store, big_layer,
                                                                         (gint64) size, &error);
    ck_assert_ptr_nonnull (writer);
    ck_assert (banger_blob_writer_write (writer, g_bytes_get_data (big_layer_bytes, NULL), half,
                                         &error));
  }
  ck_assert_uint_eq (count_dir ("tmp"), 1);
  img = pull (REGISTRY "/test/big:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert (banger_blob_store_has_blob (store, big_layer));
  /* only the rest crossed the network (and the small config) */
  ck_assert_uint_eq (img->downloaded_bytes, img->total_size - half);
  ck_assert_uint_eq (w.last_total, img->total_size);
  ck_assert_uint_ge (w.events, 3);
  ck_assert_uint_eq (count_dir ("tmp"), 0);
}
END_TEST

START_TEST (test_pull_parallel_bound)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  g_autoptr (BangerPulledImage) img1 = NULL;
  PullWait w;

  banger_registry_client_set_max_parallel (client, 2);
  img = pull (REGISTRY "/test/multi:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert_uint_le (img->peak_parallel, 2);
  ck_assert_uint_ge (img->peak_parallel, 1);
  ck_assert (banger_blob_store_prune (store, NULL, NULL, NULL, &error));
  banger_registry_client_set_max_parallel (client, 1);
  img1 = pull (REGISTRY "/test/multi:v1", &w, &error);
  ck_assert_ptr_nonnull (img1);
  ck_assert_uint_eq (img1->peak_parallel, 1);
  ck_assert_uint_eq (img1->downloaded_bytes, img1->total_size);
}
END_TEST

START_TEST (test_pull_redirect_and_retry)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPulledImage) img = NULL;
  PullWait w;

  /* the front answers 503 once per manifest, then redirects everything to
   * the registry */
  img = pull (FRONT "/test/multi:v1", &w, &error);
  ck_assert_msg (img != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (img->manifest_digest, multi_manifest);
  ck_assert_uint_eq (img->downloaded_bytes, img->total_size);
}
END_TEST

START_TEST (test_pull_cancelled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerImageRef) ref = banger_image_ref_parse (REGISTRY "/test/big:v1", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  PullWait w = { 0 };

  w.loop = g_main_loop_new (NULL, FALSE);
  g_cancellable_cancel (cancellable);
  banger_registry_client_pull_ref_async (client, ref, NULL, NULL, NULL, cancellable, on_pulled, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  ck_assert_ptr_null (w.image);
  banger_assert_error (w.error, BANGER_ERROR_CANCELLED);
  g_clear_error (&w.error);
  ck_assert (!banger_blob_store_has_blob (store, big_layer));
}
END_TEST

static Suite *
registry_suite (void)
{
  Suite *s = suite_create ("registry");
  TCase *tc = tcase_create ("pull");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_pull_multi_layer_to_ext4);
  tcase_add_test (tc, test_pull_index_platform);
  tcase_add_test (tc, test_pull_corrupt_blob);
  tcase_add_test (tc, test_pull_missing);
  tcase_add_test (tc, test_pull_token_auth);
  tcase_add_test (tc, test_pull_token_needs_insecure_realm);
  tcase_add_test (tc, test_pull_credentials);
  tcase_add_test (tc, test_pull_resume);
  tcase_add_test (tc, test_pull_parallel_bound);
  tcase_add_test (tc, test_pull_redirect_and_retry);
  tcase_add_test (tc, test_pull_cancelled);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *auth_yaml = NULL;
  g_autofree char *prog = NULL;
  int status;

  if (geteuid () != 0)
    regfix_bail ("this test needs root (it makes a network namespace); run it as root");
  prog = g_find_program_in_path ("docker-registry");
  if (prog == NULL)
    regfix_bail ("docker-registry is not installed (scripts/install-deps.sh)");
  g_clear_pointer (&prog, g_free);
  prog = g_find_program_in_path ("openssl");
  if (prog == NULL)
    regfix_bail ("openssl is not installed");
  regfix_enter_netns ();
  workdir = g_dir_make_tmp ("banger-registry-XXXXXX", &error);
  if (workdir == NULL)
    regfix_bail ("%s", error->message);
  cert = g_build_filename (workdir, "token-cert.pem", NULL);
  make_token_key (cert);
  token = make_token (cert, "auth/img");
  token_private = make_token (cert, "auth/private");
  g_thread_unref (g_thread_new ("front", front_thread, NULL));
  auth_yaml = g_strdup_printf ("auth:\n  token:\n    realm: http://" FRONT "/token\n"
                               "    service: " SERVICE "\n    issuer: " ISSUER "\n"
                               "    rootcertbundle: %s\n",
                               cert);
  registries[0] = regfix_start (workdir, "registry", REGISTRY, NULL, NULL, NULL, NULL);
  registries[1] = regfix_start_auth (workdir, "auth-registry", AUTH_REGISTRY, auth_yaml);
  push_test_images ();

  /* one process: the registries, the front thread and the fixtures are
   * this process's */
  g_setenv ("CK_FORK", "no", TRUE);
  status = banger_test_run (registry_suite ());

  for (guint i = 0; i < G_N_ELEMENTS (registries); i++)
    g_clear_pointer (&registries[i], regfix_stop);
  {
    const char *argv[] = { "rm", "-rf", workdir, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  return status;
}
