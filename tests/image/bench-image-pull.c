/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-image-pull REF STORE WORKDIR OUT.ext4 [INSECURE-HOST]
 *
 * Pulls REF into the content store at STORE and builds OUT.ext4 from it
 * (staging under WORKDIR), printing how long each part took.  Driven by
 * bench/image-pull.sh, which compares it with skopeo + umoci + mkfs.ext4. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "banger-blob-store.h"
#include "banger-image-build.h"
#include "banger-image-ref.h"
#include "banger-layer-unpack.h"
#include "banger-registry-client.h"
#include "banger-rootfs-ext4.h"

typedef struct
{
  GMainLoop *loop;
  BangerPulledImage *image;
  GError *error;
} Wait;

static void
on_pulled (GObject *source, GAsyncResult *res, gpointer data)
{
  Wait *w = data;

  w->image = banger_registry_client_pull_finish (BANGER_REGISTRY_CLIENT (source), res, &w->error);
  g_main_loop_quit (w->loop);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerImageRef) ref = NULL;
  g_autoptr (BangerBlobStore) store = NULL;
  g_autoptr (BangerRegistryClient) client = NULL;
  const char *insecure[] = { argc > 5 ? argv[5] : NULL, NULL };
  Wait w = { 0 };
  gint64 t0, t1, t2;

  if (argc == 4 && g_str_equal (argv[1], "--unpack"))
    {
      /* bench-image-pull --unpack LAYER.tar.gz DIR: one layer, timed */
      g_autoptr (BangerRootfsStaging) staging = banger_rootfs_staging_new (argv[3], &error);
      g_autoptr (GFile) file = g_file_new_for_path (argv[2]);
      g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &error);
      BangerLayerStats stats;
      gint64 a = g_get_monotonic_time (), b, c;
      if (staging == NULL || in == NULL
          || !banger_rootfs_staging_apply_layer (staging, G_INPUT_STREAM (in),
                                                 BANGER_LAYER_TAR_GZIP, NULL, -1, &stats, NULL,
                                                 &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      b = g_get_monotonic_time ();
      g_assert (banger_rootfs_staging_delete (staging, &error));
      c = g_get_monotonic_time ();
      printf ("entries=%" G_GUINT64_FORMAT " unpack_ms=%" G_GINT64_FORMAT " delete_ms=%" G_GINT64_FORMAT "\n",
              stats.entries, (b - a) / 1000, (c - b) / 1000);
      return 0;
    }
  if (argc < 5)
    {
      fprintf (stderr, "usage: %s REF STORE WORKDIR OUT.ext4 [INSECURE-HOST]\n", argv[0]);
      return 2;
    }
  ref = banger_image_ref_parse (argv[1], &error);
  if (ref == NULL || (store = banger_blob_store_new (argv[2], &error)) == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  client = banger_registry_client_new (store);
  banger_registry_client_set_insecure_hosts (client, insecure);
  w.loop = g_main_loop_new (NULL, FALSE);

  t0 = g_get_monotonic_time ();
  banger_registry_client_pull_ref_async (client, ref, NULL, NULL, NULL, NULL, on_pulled, &w);
  g_main_loop_run (w.loop);
  g_main_loop_unref (w.loop);
  if (w.image == NULL)
    {
      fprintf (stderr, "pull: %s\n", w.error->message);
      return 1;
    }
  t1 = g_get_monotonic_time ();
  if (g_getenv ("BENCH_PHASES") != NULL)
    {
      /* the same steps as banger_image_build_rootfs, timed one by one */
      g_autofree char *dir = g_build_filename (argv[3], "phases", NULL);
      g_autoptr (BangerRootfsStaging) staging = banger_rootfs_staging_new (dir, &error);
      gint64 a, b, c, d;
      g_assert (staging != NULL);
      a = g_get_monotonic_time ();
      for (guint i = 0; i < w.image->layers->len; i++)
        {
          const BangerOciDescriptor *desc = w.image->layers->pdata[i];
          g_autoptr (GInputStream) in = banger_blob_store_open_blob (store, desc->digest, &error);
          BangerLayerCompression comp;
          g_assert (banger_oci_layer_compression (desc->media_type, &comp, &error));
          if (!banger_rootfs_staging_apply_layer (staging, in, comp, desc->digest,
                                                  (gint64) desc->size, NULL, NULL, &error))
            {
              fprintf (stderr, "unpack: %s\n", error->message);
              return 1;
            }
        }
      b = g_get_monotonic_time ();
      g_assert (banger_rootfs_staging_finish (staging, &error));
      c = g_get_monotonic_time ();
      if (!banger_rootfs_build_ext4 (banger_rootfs_staging_get_tree_path (staging),
                                     banger_rootfs_staging_get_ownership_path (staging), argv[4],
                                     0, NULL, &error))
        {
          fprintf (stderr, "ext4: %s\n", error->message);
          return 1;
        }
      d = g_get_monotonic_time ();
      g_assert (banger_rootfs_ext4_apply_ownership (
          argv[4], banger_rootfs_staging_get_ownership_path (staging), &error));
      printf ("unpack_ms=%" G_GINT64_FORMAT " records_ms=%" G_GINT64_FORMAT
              " ext4_ms=%" G_GINT64_FORMAT " (of which ownership_ms=%" G_GINT64_FORMAT ")\n",
              (b - a) / 1000, (c - b) / 1000, (d - c) / 1000,
              (g_get_monotonic_time () - d) / 1000);
      g_assert (banger_rootfs_staging_delete (staging, &error));
    }
  else if (!banger_image_build_rootfs (store, w.image->manifest_digest, argv[3], argv[4], 0, NULL,
                                       &error))
    {
      fprintf (stderr, "build: %s\n", error->message);
      return 1;
    }
  t2 = g_get_monotonic_time ();
  printf ("pull_ms=%" G_GINT64_FORMAT " build_ms=%" G_GINT64_FORMAT " total_ms=%" G_GINT64_FORMAT
          " blob_bytes=%" G_GUINT64_FORMAT " layers=%u\n",
          (t1 - t0) / 1000, (t2 - t1) / 1000, (t2 - t0) / 1000, w.image->total_size,
          w.image->layers->len);
  banger_pulled_image_unref (w.image);
  return 0;
}
