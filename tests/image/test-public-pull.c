/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public image building blocks as a consumer uses them (only
 * <banger.h>, only libbanger-1.so): a BangerRegistryClient pulls a
 * two-layer image from a real registry (docker-registry on loopback in a
 * network namespace of the test's own) into a BangerBlobStore; the
 * BangerPulledImage names the manifest, config and layers that were pushed
 * and the store holds each of them; a second pull downloads nothing; a tag
 * the registry lacks is BANGER_ERROR_NOT_FOUND; a bad reference is
 * BANGER_ERROR_INVALID_ARGUMENT; prune with the manifest as root keeps
 * everything, with no root removes everything.  Root only. */
#include "config.h"

#include <banger.h>
#include <string.h>
#include <unistd.h>

#include "banger-test.h"
#include "registry-fixture.h"

#define REGISTRY "127.0.0.1:5000"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

static char *workdir;
static RegFixture *plain;
static char *manifest_digest;
static char *layer_digest[2];
static gsize layer_size[2];

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static BangerPulledImage *
pull (BangerRegistryClient *client, const char *reference, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  banger_registry_client_pull_async (client, reference, NULL, on_done, &res);
  while (res == NULL)
    g_main_context_iteration (NULL, TRUE);
  return banger_registry_client_pull_finish (client, res, error);
}

/* What BangerRegistryClient::progress reported for one pull. */
typedef struct
{
  const char *reference;
  guint reports;
  guint64 last_total_done;
  guint64 total_size;
  GHashTable *blob_final; /* digest -> last blob_done reported */
  GHashTable *blob_size;  /* digest -> blob_size */
} Seen;

static void
on_progress (BangerRegistryClient *client, const char *reference, const char *digest,
             guint index, guint64 blob_done, guint64 blob_size, guint64 total_done,
             guint64 total_size, gpointer user_data)
{
  Seen *seen = user_data;

  ck_assert_str_eq (reference, seen->reference);
  ck_assert_uint_le (blob_done, blob_size);
  ck_assert_uint_ge (total_done, seen->last_total_done); /* never goes back */
  ck_assert_uint_le (total_done, total_size);
  ck_assert_uint_le (index, 2);
  if (seen->total_size != 0)
    ck_assert_uint_eq (total_size, seen->total_size); /* one total per pull */
  seen->total_size = total_size;
  seen->last_total_done = total_done;
  seen->reports++;
  g_hash_table_insert (seen->blob_final, g_strdup (digest), g_memdup2 (&blob_done, sizeof blob_done));
  g_hash_table_insert (seen->blob_size, g_strdup (digest), g_memdup2 (&blob_size, sizeof blob_size));
}

static void
seen_init (Seen *seen, const char *reference)
{
  memset (seen, 0, sizeof *seen);
  seen->reference = reference;
  seen->blob_final = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  seen->blob_size = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
seen_clear (Seen *seen)
{
  g_hash_table_unref (seen->blob_final);
  g_hash_table_unref (seen->blob_size);
}

/* Every blob of @image was reported, and its last report was complete. */
static void
assert_progress_complete (Seen *seen, BangerPulledImage *image)
{
  GPtrArray *layers = banger_pulled_image_get_layers (image);
  const char *config = banger_pulled_image_get_config_digest (image);
  guint64 sum = 0;

  ck_assert_uint_eq (g_hash_table_size (seen->blob_final), 1 + layers->len);
  for (guint i = 0; i <= layers->len; i++)
    {
      const char *digest
          = i == 0 ? config
                   : banger_oci_descriptor_get_digest (layers->pdata[i - 1]);
      guint64 *final = g_hash_table_lookup (seen->blob_final, digest);
      guint64 *size = g_hash_table_lookup (seen->blob_size, digest);

      ck_assert_msg (final != NULL, "no progress for %s", digest);
      ck_assert_uint_eq (*final, *size);
      sum += *size;
    }
  ck_assert_uint_eq (seen->total_size, sum);
  ck_assert_uint_eq (seen->last_total_done, sum);
}

static BangerRegistryClient *
client_for (BangerBlobStore *store)
{
  const char *insecure[] = { REGISTRY, NULL };
  BangerRegistryClient *client = banger_registry_client_new (store);

  banger_registry_client_set_insecure_hosts (client, insecure);
  banger_registry_client_set_retries (client, 1, 10);
  return client;
}

START_TEST (test_pull_into_store)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (workdir, "store-pull", NULL);
  g_autoptr (BangerBlobStore) store = banger_blob_store_new (dir, &error);
  g_autoptr (BangerRegistryClient) client = NULL;
  g_autoptr (BangerPulledImage) image = NULL;
  g_autoptr (BangerPulledImage) again = NULL;
  g_autofree char *manifest_path = NULL;
  GPtrArray *layers;
  const char *roots[2] = { NULL, NULL };
  guint removed = 0;
  guint64 bytes = 0;

  Seen seen, seen_again;
  gulong handler;

  ck_assert_msg (store != NULL, "%s", error ? error->message : "");
  client = client_for (store);
  seen_init (&seen, REGISTRY "/test/public:v1");
  handler = g_signal_connect (client, "progress", G_CALLBACK (on_progress), &seen);
  image = pull (client, REGISTRY "/test/public:v1", &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  g_signal_handler_disconnect (client, handler);
  /* ::progress saw every blob to its end; the last report is the whole pull */
  assert_progress_complete (&seen, image);
  ck_assert_uint_ge (seen.reports, 3);
  seen_clear (&seen);
  ck_assert_str_eq (banger_pulled_image_get_manifest_digest (image), manifest_digest);
  ck_assert_ptr_null (banger_pulled_image_get_index_digest (image));
  layers = banger_pulled_image_get_layers (image);
  ck_assert_uint_eq (layers->len, 2);
  for (guint i = 0; i < 2; i++)
    {
      BangerOciDescriptor *d = layers->pdata[i];
      ck_assert_str_eq (banger_oci_descriptor_get_digest (d), layer_digest[i]);
      ck_assert_str_eq (banger_oci_descriptor_get_media_type (d), LAYER_GZIP);
      ck_assert_uint_eq (banger_oci_descriptor_get_size (d), layer_size[i]);
      ck_assert (banger_blob_store_has_blob (store, layer_digest[i]));
    }
  ck_assert (banger_blob_store_has_blob (store, manifest_digest));
  ck_assert (banger_blob_store_has_blob (store, banger_pulled_image_get_config_digest (image)));
  manifest_path = banger_blob_store_get_blob_path (store, manifest_digest);
  ck_assert (g_file_test (manifest_path, G_FILE_TEST_IS_REGULAR));
  ck_assert_uint_gt (banger_pulled_image_get_downloaded_bytes (image), 0);

  /* everything is in the store: nothing crosses the network again */
  seen_init (&seen_again, REGISTRY "/test/public:v1");
  handler = g_signal_connect (client, "progress", G_CALLBACK (on_progress), &seen_again);
  again = pull (client, REGISTRY "/test/public:v1", &error);
  ck_assert_msg (again != NULL, "%s", error ? error->message : "");
  g_signal_handler_disconnect (client, handler);
  ck_assert_uint_eq (banger_pulled_image_get_downloaded_bytes (again), 0);
  /* blobs already stored: each reported once, complete */
  assert_progress_complete (&seen_again, again);
  ck_assert_uint_eq (seen_again.reports, 3);
  seen_clear (&seen_again);

  /* the manifest as root keeps config and layers */
  roots[0] = manifest_digest;
  ck_assert_msg (banger_blob_store_prune (store, roots, &removed, &bytes, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (removed, 0);
  ck_assert (banger_blob_store_has_blob (store, layer_digest[1]));
  /* no roots: manifest, config and two layers go */
  ck_assert (banger_blob_store_prune (store, NULL, &removed, &bytes, &error));
  ck_assert_uint_eq (removed, 4);
  ck_assert (!banger_blob_store_has_blob (store, manifest_digest));
  ck_assert (!banger_blob_store_has_blob (store, layer_digest[0]));
}
END_TEST

START_TEST (test_missing_tag_not_found)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (workdir, "store-missing", NULL);
  g_autoptr (BangerBlobStore) store = banger_blob_store_new (dir, &error);
  g_autoptr (BangerRegistryClient) client = client_for (store);
  g_autoptr (BangerPulledImage) image = pull (client, REGISTRY "/test/public:nope", &error);

  ck_assert_ptr_null (image);
  ck_assert_msg (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND), "%s",
                 error ? error->message : "no error");
}
END_TEST

START_TEST (test_bad_reference_invalid)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (workdir, "store-bad", NULL);
  g_autoptr (BangerBlobStore) store = banger_blob_store_new (dir, &error);
  g_autoptr (BangerRegistryClient) client = client_for (store);
  g_autoptr (BangerPulledImage) image = pull (client, "Not A/Reference::", &error);

  ck_assert_ptr_null (image);
  ck_assert_msg (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT), "%s",
                 error ? error->message : "no error");
}
END_TEST

static Suite *
public_pull_suite (void)
{
  Suite *s = suite_create ("public-pull");
  TCase *tc = tcase_create ("pull");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_pull_into_store);
  tcase_add_test (tc, test_missing_tag_not_found);
  tcase_add_test (tc, test_bad_reference_invalid);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prog = NULL;
  g_autoptr (SoupSession) s = NULL;
  int rc;

  if (geteuid () != 0)
    regfix_bail ("needs root (a network namespace for the registry)");
  prog = g_find_program_in_path ("docker-registry");
  if (prog == NULL)
    regfix_bail ("docker-registry is not installed (scripts/install-deps.sh)");
  regfix_enter_netns ();
  workdir = g_dir_make_tmp ("banger-public-pull-XXXXXX", &error);
  if (workdir == NULL)
    regfix_bail ("no work dir: %s", error->message);
  plain = regfix_start (workdir, "plain", REGISTRY, NULL, NULL, NULL, NULL);
  s = regfix_session (NULL);
  {
    g_autoptr (GBytes) a = g_bytes_new_static ("layer one, not a real tarball", 29);
    g_autoptr (GBytes) b = g_bytes_new_static ("layer two, also just bytes", 26);
    RegLayer l[] = { { LAYER_GZIP, a }, { LAYER_GZIP, b } };
    g_autofree char *hex_a = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, a);
    g_autofree char *hex_b = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, b);

    layer_digest[0] = g_strconcat ("sha256:", hex_a, NULL);
    layer_digest[1] = g_strconcat ("sha256:", hex_b, NULL);
    layer_size[0] = g_bytes_get_size (a);
    layer_size[1] = g_bytes_get_size (b);
    manifest_digest = regfix_push_image (s, plain->base_url, "test/public", "v1", NULL, NULL, l, 2);
  }

  /* one process: the registry and the fixtures are this process's */
  g_setenv ("CK_FORK", "no", TRUE);
  rc = banger_test_run (public_pull_suite ());

  regfix_stop (plain);
  {
    const char *argv[] = { "rm", "-rf", workdir, NULL };
    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  return rc;
}
