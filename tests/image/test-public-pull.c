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

  ck_assert_msg (store != NULL, "%s", error ? error->message : "");
  client = client_for (store);
  image = pull (client, REGISTRY "/test/public:v1", &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
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
  again = pull (client, REGISTRY "/test/public:v1", &error);
  ck_assert_msg (again != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (banger_pulled_image_get_downloaded_bytes (again), 0);

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
