/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The content store (verified writes, resume, locking, prune) and the
 * manifest reader, on a real directory. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-blob-store.h"
#include "banger-digest.h"
#include "banger-error.h"
#include "banger-oci-manifest.h"
#include "banger-test.h"

static char *tmpdir;
static BangerBlobStore *store;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  tmpdir = g_dir_make_tmp ("banger-blobs-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (tmpdir, "store", NULL);
  store = banger_blob_store_new (path, &error);
  g_assert_no_error (error);
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_clear_object (&store);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
}

/* How many entries a store subdirectory holds. */
static guint
count_entries (const char *sub)
{
  g_autofree char *path = g_build_filename (tmpdir, "store", sub, NULL);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert (dir != NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static GBytes *
text (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static char *
store_text (const char *s)
{
  g_autoptr (GBytes) b = text (s);
  g_autoptr (GError) error = NULL;
  char *digest = banger_digest_of_bytes (b);

  ck_assert (banger_blob_store_write_bytes (store, digest, b, &error));
  g_assert_no_error (error);
  return digest;
}

START_TEST (test_write_verified)
{
  g_autoptr (GBytes) b = text ("hello blob");
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) back = NULL;

  ck_assert (!banger_blob_store_has_blob (store, digest));
  ck_assert (banger_blob_store_write_bytes (store, digest, b, &error));
  ck_assert (banger_blob_store_has_blob (store, digest));
  back = banger_blob_store_read_blob (store, digest, 1024, &error);
  ck_assert_ptr_nonnull (back);
  ck_assert (g_bytes_equal (back, b));
  ck_assert_uint_eq (count_entries ("tmp"), 0);
  /* a second write of the same blob is a no-op that succeeds */
  ck_assert (banger_blob_store_write_bytes (store, digest, b, &error));
  ck_assert_uint_eq (count_entries ("blobs/sha256"), 1);
}
END_TEST

START_TEST (test_write_mismatch_leaves_nothing)
{
  g_autoptr (GBytes) b = text ("the real content");
  g_autoptr (GBytes) evil = text ("the fake content");
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autoptr (GError) error = NULL;

  ck_assert (!banger_blob_store_write_bytes (store, digest, evil, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_ptr_nonnull (strstr (error->message, "does not match its digest"));
  ck_assert (!banger_blob_store_has_blob (store, digest));
  ck_assert_uint_eq (count_entries ("blobs/sha256"), 0);
  ck_assert_uint_eq (count_entries ("tmp"), 0);
}
END_TEST

START_TEST (test_write_oversize_refused)
{
  g_autoptr (GBytes) b = text ("0123456789");
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerBlobWriter) w = banger_blob_store_begin_write (store, digest, 5, &error);

  ck_assert_ptr_nonnull (w);
  ck_assert (!banger_blob_writer_write (w, "0123456789", 10, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_uint_eq (count_entries ("tmp"), 0);
}
END_TEST

START_TEST (test_write_resume)
{
  const char *content = "first half|second half";
  g_autoptr (GBytes) b = text (content);
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autoptr (GError) error = NULL;
  BangerBlobWriter *w = banger_blob_store_begin_write (store, digest, strlen (content), &error);

  ck_assert_ptr_nonnull (w);
  ck_assert_uint_eq (banger_blob_writer_get_offset (w), 0);
  ck_assert (banger_blob_writer_write (w, content, 11, &error));
  /* a short blob is not committed, but its bytes stay for a resume */
  ck_assert (!banger_blob_writer_commit (w, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  g_clear_error (&error);
  banger_blob_writer_free (w);
  ck_assert_uint_eq (count_entries ("tmp"), 1);

  w = banger_blob_store_begin_write (store, digest, strlen (content), &error);
  ck_assert_ptr_nonnull (w);
  ck_assert_uint_eq (banger_blob_writer_get_offset (w), 11);
  ck_assert (banger_blob_writer_write (w, content + 11, strlen (content) - 11, &error));
  ck_assert (banger_blob_writer_commit (w, &error));
  banger_blob_writer_free (w);
  ck_assert (banger_blob_store_has_blob (store, digest));
  ck_assert_uint_eq (count_entries ("tmp"), 0);
}
END_TEST

START_TEST (test_write_resume_corrupt_prefix)
{
  /* the partial file from an earlier attempt was tampered with: the final
   * check covers the old bytes too */
  const char *content = "abcdefghij";
  g_autoptr (GBytes) b = text (content);
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autofree char *partial = g_strdup_printf ("%s/store/tmp/%s.partial", tmpdir, digest + 7);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerBlobWriter) w = NULL;

  ck_assert (g_file_set_contents (partial, "XXXXX", -1, NULL));
  w = banger_blob_store_begin_write (store, digest, 10, &error);
  ck_assert_uint_eq (banger_blob_writer_get_offset (w), 5);
  ck_assert (banger_blob_writer_write (w, content + 5, 5, &error));
  ck_assert (!banger_blob_writer_commit (w, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert (!banger_blob_store_has_blob (store, digest));
  ck_assert_uint_eq (count_entries ("tmp"), 0);
}
END_TEST

START_TEST (test_write_busy_and_exists)
{
  g_autoptr (GBytes) b = text ("busy");
  g_autofree char *digest = banger_digest_of_bytes (b);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerBlobWriter) w1 = banger_blob_store_begin_write (store, digest, -1, &error);
  g_autoptr (BangerBlobWriter) w2 = NULL;
  g_autoptr (BangerBlobWriter) w3 = NULL;

  ck_assert_ptr_nonnull (w1);
  w2 = banger_blob_store_begin_write (store, digest, -1, &error);
  ck_assert_ptr_null (w2);
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (banger_blob_writer_write (w1, "busy", 4, &error));
  ck_assert (banger_blob_writer_commit (w1, &error));
  w3 = banger_blob_store_begin_write (store, digest, -1, &error);
  ck_assert_ptr_null (w3);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
}
END_TEST

START_TEST (test_bad_digest_and_missing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerBlobWriter) w = banger_blob_store_begin_write (store, "sha256:../../x", -1,
                                                                  &error);
  g_autoptr (GInputStream) in = NULL;

  ck_assert_ptr_null (w);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  in = banger_blob_store_open_blob (
      store, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &error);
  ck_assert_ptr_null (in);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_read_detects_corruption)
{
  g_autofree char *digest = store_text ("pristine");
  g_autofree char *path = banger_blob_store_get_blob_path (store, digest);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) back = NULL;

  g_chmod (path, 0600);
  ck_assert (g_file_set_contents (path, "tampered", -1, NULL));
  back = banger_blob_store_read_blob (store, digest, 1024, &error);
  ck_assert_ptr_null (back);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  g_clear_error (&error);
  back = banger_blob_store_read_blob (store, digest, 3, &error);
  ck_assert_ptr_null (back);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
}
END_TEST

static char *
manifest_json (const char *config, const char *l1, const char *l2)
{
  return g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" BANGER_OCI_MEDIA_MANIFEST "\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\","
      "\"size\":1},\"layers\":["
      "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1},"
      "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":1}"
      "]}",
      config, l1, l2);
}

START_TEST (test_prune)
{
  g_autofree char *c1 = store_text ("config 1");
  g_autofree char *c2 = store_text ("config 2");
  g_autofree char *l1 = store_text ("layer 1");
  g_autofree char *l2 = store_text ("layer 2 (shared)");
  g_autofree char *l3 = store_text ("layer 3");
  g_autofree char *orphan = store_text ("orphan");
  g_autofree char *m1_json = manifest_json (c1, l1, l2);
  g_autofree char *m2_json = manifest_json (c2, l2, l3);
  g_autofree char *m1 = store_text (m1_json);
  g_autofree char *m2 = store_text (m2_json);
  g_autofree char *index_json = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" BANGER_OCI_MEDIA_INDEX "\",\"manifests\":["
      "{\"mediaType\":\"" BANGER_OCI_MEDIA_MANIFEST "\",\"digest\":\"%s\",\"size\":1,"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
      m1);
  g_autofree char *idx = store_text (index_json);
  g_autofree char *partial = g_strdup_printf ("%s/store/tmp/stale.partial", tmpdir);
  const char *roots[] = { idx, NULL };
  g_autoptr (GError) error = NULL;
  guint removed = 0;
  guint64 bytes = 0;
  g_autoptr (BangerBlobWriter) live = NULL;
  g_autoptr (GBytes) live_bytes = text ("being written");
  g_autofree char *live_digest = banger_digest_of_bytes (live_bytes);

  ck_assert (g_file_set_contents (partial, "stale", -1, NULL));
  live = banger_blob_store_begin_write (store, live_digest, -1, &error);
  ck_assert_ptr_nonnull (live);
  ck_assert (banger_blob_store_prune (store, roots, &removed, &bytes, &error));
  g_assert_no_error (error);
  /* kept: the index, m1 and what it names (shared l2 too) */
  ck_assert (banger_blob_store_has_blob (store, idx));
  ck_assert (banger_blob_store_has_blob (store, m1));
  ck_assert (banger_blob_store_has_blob (store, c1));
  ck_assert (banger_blob_store_has_blob (store, l1));
  ck_assert (banger_blob_store_has_blob (store, l2));
  /* removed: m2 and what only it names, the orphan, the stale partial */
  ck_assert (!banger_blob_store_has_blob (store, m2));
  ck_assert (!banger_blob_store_has_blob (store, c2));
  ck_assert (!banger_blob_store_has_blob (store, l3));
  ck_assert (!banger_blob_store_has_blob (store, orphan));
  ck_assert_uint_eq (removed, 5);
  ck_assert_uint_eq (bytes, strlen (m2_json) + strlen ("config 2") + strlen ("layer 3")
                                + strlen ("orphan") + strlen ("stale"));
  /* the partial a live writer holds stays */
  ck_assert_uint_eq (count_entries ("tmp"), 1);
  ck_assert_uint_eq (count_entries ("blobs/sha256"), 5);
}
END_TEST

/* ---- manifests */

static BangerOciManifest *
parse (const char *json, const char *content_type, GError **error)
{
  g_autoptr (GBytes) b = text (json);
  return banger_oci_manifest_parse (b, content_type, error);
}

#define DG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST (test_manifest_docker_list_platform)
{
  const char *json
      = "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"" BANGER_DOCKER_MEDIA_MANIFEST "\",\"digest\":\"" DG "\",\"size\":7,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" BANGER_DOCKER_MEDIA_MANIFEST "\",\"digest\":\"" DG "\",\"size\":9,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerOciManifest) m = parse (json, BANGER_DOCKER_MEDIA_LIST "; charset=utf-8",
                                           &error);
  const BangerOciDescriptor *d;

  ck_assert_ptr_nonnull (m);
  ck_assert_int_eq (m->kind, BANGER_OCI_MANIFEST_INDEX);
  d = banger_oci_manifest_select_platform (m, "linux", "amd64", NULL, &error);
  ck_assert_ptr_nonnull (d);
  ck_assert_uint_eq (d->size, 9);
  d = banger_oci_manifest_select_platform (m, "linux", "s390x", NULL, &error);
  ck_assert_ptr_null (d);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert_ptr_nonnull (strstr (error->message, "linux/arm64"));
}
END_TEST

START_TEST (test_manifest_bad)
{
  static const struct
  {
    const char *json;
    const char *content_type;
    BangerError code;
  } cases[] = {
    { "not json", NULL, BANGER_ERROR_PROTOCOL },
    { "[]", NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":1}", NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":\"2\"}", NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}",
      NULL, BANGER_ERROR_UNSUPPORTED },
    { "{\"schemaVersion\":2,\"layers\":[]}", NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:1\",\"size\":1},"
      "\"layers\":[]}",
      NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":-1},"
      "\"layers\":[]}",
      NULL, BANGER_ERROR_PROTOCOL },
    { "{\"schemaVersion\":2,\"manifests\":{}}", NULL, BANGER_ERROR_PROTOCOL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BangerOciManifest) m = parse (cases[i].json, cases[i].content_type, &error);
      ck_assert_msg (m == NULL, "case %zu accepted", i);
      banger_assert_error (error, cases[i].code);
    }
}
END_TEST

START_TEST (test_manifest_too_many_layers)
{
  g_autoptr (GString) json = g_string_new ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\","
                                           "\"digest\":\"" DG "\",\"size\":1},\"layers\":[");
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerOciManifest) m = NULL;

  for (int i = 0; i <= BANGER_OCI_MANIFEST_MAX_ENTRIES; i++)
    g_string_append_printf (json, "%s{\"mediaType\":\"x\",\"digest\":\"" DG "\",\"size\":1}",
                            i ? "," : "");
  g_string_append (json, "]}");
  m = parse (json->str, NULL, &error);
  ck_assert_ptr_null (m);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
}
END_TEST

START_TEST (test_layer_compression)
{
  BangerLayerCompression c = BANGER_LAYER_TAR;
  g_autoptr (GError) error = NULL;

  ck_assert (banger_oci_layer_compression ("application/vnd.oci.image.layer.v1.tar+zstd", &c,
                                           &error));
  ck_assert_int_eq (c, BANGER_LAYER_TAR_ZSTD);
  ck_assert (banger_oci_layer_compression ("application/vnd.docker.image.rootfs.diff.tar.gzip",
                                           &c, &error));
  ck_assert_int_eq (c, BANGER_LAYER_TAR_GZIP);
  ck_assert (!banger_oci_layer_compression ("application/vnd.oci.image.config.v1+json", &c,
                                            &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
}
END_TEST

static Suite *
blob_store_suite (void)
{
  Suite *s = suite_create ("blob-store");
  TCase *tc = tcase_create ("store");
  TCase *tm = tcase_create ("manifest");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_write_verified);
  tcase_add_test (tc, test_write_mismatch_leaves_nothing);
  tcase_add_test (tc, test_write_oversize_refused);
  tcase_add_test (tc, test_write_resume);
  tcase_add_test (tc, test_write_resume_corrupt_prefix);
  tcase_add_test (tc, test_write_busy_and_exists);
  tcase_add_test (tc, test_bad_digest_and_missing);
  tcase_add_test (tc, test_read_detects_corruption);
  tcase_add_test (tc, test_prune);
  suite_add_tcase (s, tc);
  tcase_add_test (tm, test_manifest_docker_list_platform);
  tcase_add_test (tm, test_manifest_bad);
  tcase_add_test (tm, test_manifest_too_many_layers);
  tcase_add_test (tm, test_layer_compression);
  suite_add_tcase (s, tm);
  return s;
}

BANGER_TEST_MAIN (blob_store_suite)
