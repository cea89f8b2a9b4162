/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pulls through the engine (banger-engine-pull.c) and its method table,
 * against the real docker-registry in a network namespace this test makes:
 * plain HTTP, and TLS with a CA the test makes and trusts only through the
 * engine's config.  A counting front (redirecting to the registry) shows
 * what crossed the network: two pulls of one reference at once fetch each
 * blob once.  Also: a corrupted blob (PROTOCOL, nothing left), an image
 * without an SSH server (UNSUPPORTED), kernel artifacts and kernel URLs,
 * mirrors, vm.create's pull-if-missing resolution, prune, the [registries]
 * config.  Root only (the namespace); fails rather than skips when it
 * cannot run. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-blob-store.h"
#include "banger-digest.h"
#include "banger-engine-ops.h"
#include "banger-engine-private.h"
#include "banger-engine-pull-private.h"
#include "banger-engine.h"
#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-test.h"
#include "image-test-tar.h"
#include "registry-fixture.h"

#define REGISTRY "127.0.0.1:5000"
#define FRONT "127.0.0.1:5002"
#define TLS_REGISTRY "127.0.0.1:5443"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

static char *workdir;
static RegFixture *plain;
static RegFixture *tls;
static RegFront *front;
static char *ca_path;
static char *guest_manifest;  /* test/guest:v1 */
static char *joined_manifest; /* test/joined:v1 */
static guint joined_blobs;    /* its config + layers */
static char *corrupt_layer;   /* test/corrupt:v1's damaged layer */
static char *kernel_manifest; /* test/kernel:v1 */
static GBytes *kernel_bytes;
static GBytes *initrd_bytes;
static GBytes *url_kernel; /* served by the front at /files/vmlinuz */
static char *url_kernel_sha;

/* per test */
static char *tmpdir;
static BangerEngine *engine;

/* ------------------------------------------------------------- images */

static GBytes *
guest_layer (const char *hostname, gboolean ssh)
{
  TestTar *t = test_tar_new ('g');

  tt_dir (t, "bin/", 0755);
  tt_file (t, "bin/sh", 0755, "#!not really a shell\n");
  tt_dir (t, "sbin/", 0755);
  tt_symlink (t, "sbin/init", "/bin/sh");
  if (ssh)
    {
      tt_dir (t, "usr/sbin/", 0755);
      tt_file (t, "usr/sbin/dropbear", 0755, "not really dropbear\n");
    }
  tt_dir (t, "etc/", 0755);
  tt_file (t, "etc/hostname", 0644, hostname);
  return test_tar_finish (t);
}

static GBytes *
random_layer (gsize size)
{
  g_autofree guint32 *data = g_new (guint32, size / 4);
  TestTar *t = test_tar_new ('g');
  struct archive_entry *e = archive_entry_new ();
  GRand *r = g_rand_new_with_seed (7);

  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (r);
  g_rand_free (r);
  archive_entry_set_pathname (e, "big.bin");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t)(size / 4 * 4));
  g_assert (archive_write_header (t->a, e) == ARCHIVE_OK);
  g_assert (archive_write_data (t->a, data, size / 4 * 4) == (la_ssize_t)(size / 4 * 4));
  archive_entry_free (e);
  return test_tar_finish (t);
}

static GBytes *
random_bytes (gsize size, guint32 seed)
{
  guint8 *data = g_malloc (size);
  GRand *r = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8)g_rand_int (r);
  g_rand_free (r);
  return g_bytes_new_take (data, size);
}

static void
tt_bytes (TestTar *t, const char *path, GBytes *b)
{
  struct archive_entry *e = archive_entry_new ();

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, (la_int64_t)g_bytes_get_size (b));
  g_assert (archive_write_header (t->a, e) == ARCHIVE_OK);
  g_assert (archive_write_data (t->a, g_bytes_get_data (b, NULL), g_bytes_get_size (b))
            == (la_ssize_t)g_bytes_get_size (b));
  archive_entry_free (e);
}

static void
push_all (void)
{
  g_autoptr (SoupSession) s = regfix_session (NULL);
  g_autoptr (GBytes) guest = guest_layer ("guest\n", TRUE);
  g_autoptr (GBytes) nossh = guest_layer ("nossh\n", FALSE);
  g_autoptr (GBytes) big = random_layer (2 * 1024 * 1024);
  g_autoptr (GBytes) corrupt = guest_layer ("corrupt, with some more bytes to damage\n", TRUE);
  g_autoptr (GBytes) mirrored = guest_layer ("mirrored\n", TRUE);
  g_autoptr (GBytes) over_tls = guest_layer ("over-tls\n", TRUE);
  g_autoptr (GBytes) kernel_layer = NULL;
  TestTar *t;

  {
    RegLayer l[] = { { LAYER_GZIP, guest } };
    guest_manifest = regfix_push_image (s, plain->base_url, "test/guest", "v1", NULL, NULL, l, 1);
  }
  {
    RegLayer l[] = { { LAYER_GZIP, nossh } };
    g_free (regfix_push_image (s, plain->base_url, "test/nossh", "v1", NULL, NULL, l, 1));
  }
  {
    RegLayer l[] = { { LAYER_GZIP, guest }, { LAYER_GZIP, big } };
    joined_manifest = regfix_push_image (s, plain->base_url, "test/joined", "v1", NULL, NULL, l, 2);
    joined_blobs = 3;
  }
  {
    RegLayer l[] = { { LAYER_GZIP, corrupt } };
    g_free (regfix_push_image (s, plain->base_url, "test/corrupt", "v1", NULL, NULL, l, 1));
    corrupt_layer = banger_digest_of_bytes (corrupt);
    regfix_corrupt_blob (plain, corrupt_layer);
  }
  {
    RegLayer l[] = { { LAYER_GZIP, mirrored } };
    g_free (regfix_push_image (s, plain->base_url, "library/mirrored", "v1", NULL, NULL, l, 1));
  }
  {
    RegLayer l[] = { { LAYER_GZIP, over_tls } };
    g_free (regfix_push_image (s, plain->base_url, "test/tls", "v1", NULL, NULL, l, 1));
  }
  /* a banger kernel artifact: vmlinuz, initrd.img and cmdline at the top
   * of one layer, and a file in a directory that must be ignored */
  kernel_bytes = random_bytes (200 * 1024, 1);
  initrd_bytes = random_bytes (50 * 1024, 2);
  t = test_tar_new ('g');
  tt_bytes (t, "./vmlinuz", kernel_bytes);
  tt_bytes (t, "initrd.img", initrd_bytes);
  tt_file (t, "cmdline", 0644, "console=ttyS0 quiet\n");
  tt_dir (t, "lib/", 0755);
  tt_file (t, "lib/vmlinux", 0644, "not the kernel");
  kernel_layer = test_tar_finish (t);
  {
    RegLayer l[] = { { LAYER_GZIP, kernel_layer } };
    kernel_manifest = regfix_push_image (s, plain->base_url, "test/kernel", "v1",
                                         BANGER_KERNEL_ARTIFACT_CONFIG, "{}", l, 1);
  }
  url_kernel = random_bytes (300 * 1024, 3);
  url_kernel_sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, url_kernel);
  regfix_front_set_file (front, "vmlinuz", url_kernel);
}

/* ------------------------------------------------------------ fixture */

static BangerEngine *
engine_with (const char *registries)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngineConfig) c = banger_engine_config_new ();
  g_autofree char *conf = g_build_filename (tmpdir, "bangerd.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[registries]\n%s\n", registries);
  BangerEngine *e;

  ck_assert (g_file_set_contents (conf, text, -1, NULL));
  ck_assert_msg (banger_engine_config_load (c, conf, &error), "%s", error ? error->message : "");
  c->state_dir = g_build_filename (tmpdir, "state", NULL);
  c->runtime_dir = g_build_filename (tmpdir, "run", NULL);
  e = banger_engine_new (g_steal_pointer (&c), &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "");
  return e;
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmpdir = g_dir_make_tmp ("banger-epull-XXXXXX", &error);
  g_assert_no_error (error);
  /* no credentials file of the machine's user is read */
  g_setenv ("HOME", tmpdir, TRUE);
  g_unsetenv ("XDG_RUNTIME_DIR");
  engine = engine_with ("insecure=" REGISTRY ";" FRONT);
  regfix_front_reset (front);
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_clear_object (&engine);
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_clear_pointer (&tmpdir, g_free);
}

static guint
count_entries (const char *path, const char *prefix)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *n;
  guint count = 0;

  while (dir != NULL && (n = g_dir_read_name (dir)) != NULL)
    if (prefix == NULL || g_str_has_prefix (n, prefix))
      count++;
  return count;
}

static guint
count_blobs (void)
{
  g_autofree char *dir = g_build_filename (tmpdir, "state", "oci", "blobs", "sha256", NULL);
  return count_entries (dir, NULL);
}

static char *
ext4_cat (const char *image, const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("cat %s", path);
  const char *argv[] = { "debugfs", "-R", cmd, image, NULL };
  char *out = NULL;

  ck_assert (g_spawn_sync (NULL, (char **)argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                           NULL, NULL));
  return out;
}

typedef struct
{
  GMutex lock;
  guint downloads;
  guint done;
  guint resolves;
  guint unpacks;
  guint joined;
  guint64 last_total;
  guint64 total_size;
  gboolean monotonic;
  GHashTable *ops; /* op ids seen */
  guint sub;       /* the event stream subscription */
  guint events;    /* progress events of kind "pull" */
  guint64 event_done;
  guint64 event_total;
  guint64 done_bytes;       /* the "done" report's bytes done and total */
  guint64 done_total;
  guint64 event_done_total; /* … its bytes_total on the event stream */
} Seen;

/* The same progress on the engine's event stream (what a subscribed
 * BangerClient gets as ::progress). */
static gboolean
on_event (JsonNode *event, gpointer data)
{
  Seen *s = data;
  JsonObject *o = json_node_get_object (event);

  if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", NULL), "progress") != 0
      || g_strcmp0 (json_object_get_string_member_with_default (o, "kind", NULL), "pull") != 0)
    return TRUE;
  g_mutex_lock (&s->lock);
  s->events++;
  /* a download's step is its blob's digest; its bytes the whole pull's */
  if (g_str_has_prefix (json_object_get_string_member_with_default (o, "step", ""), "sha256:"))
    {
      s->event_done = (guint64)json_object_get_int_member_with_default (o, "bytes_done", 0);
      s->event_total = (guint64)json_object_get_int_member_with_default (o, "bytes_total", 0);
    }
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "step", ""), "done") == 0)
    s->event_done_total
        = (guint64)json_object_get_int_member_with_default (o, "bytes_total", 0);
  g_mutex_unlock (&s->lock);
  return TRUE;
}

static void
on_progress (const BangerEngineProgress *p, gpointer data)
{
  Seen *s = data;

  g_mutex_lock (&s->lock);
  if (p->op_id != NULL)
    g_hash_table_add (s->ops, g_strdup (p->op_id));
  switch (p->phase)
    {
    case BANGER_ENGINE_PULL_RESOLVE:
      s->resolves++;
      break;
    case BANGER_ENGINE_PULL_DOWNLOAD:
      s->downloads++;
      if (p->joined)
        s->joined++;
      else
        {
          if (p->total_done < s->last_total)
            s->monotonic = FALSE;
          s->last_total = p->total_done;
          s->total_size = p->total_size;
        }
      break;
    case BANGER_ENGINE_PULL_UNPACK:
      s->unpacks++;
      break;
    case BANGER_ENGINE_PULL_DONE:
      s->done++;
      s->done_bytes = p->total_done;
      s->done_total = p->total_size;
      break;
    }
  g_mutex_unlock (&s->lock);
}

static Seen *
seen_new (void)
{
  Seen *s = g_new0 (Seen, 1);

  g_mutex_init (&s->lock);
  s->monotonic = TRUE;
  s->ops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  banger_engine_set_progress_func (engine, on_progress, s, NULL);
  s->sub = banger_engine_subscribe (engine, on_event, s, NULL);
  return s;
}

static void
seen_free (Seen *s)
{
  banger_engine_set_progress_func (engine, NULL, NULL, NULL);
  banger_engine_unsubscribe (engine, s->sub);
  g_hash_table_unref (s->ops);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* ------------------------------------------------------------------ tests */

START_TEST (test_image_pull_ls_prune)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreImage) image = NULL;
  g_autoptr (BangerStoreImage) again = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *hostname = NULL;
  Seen *seen = seen_new ();
  struct stat st;
  guint removed = 0;
  guint64 bytes = 0;

  image = banger_engine_image_pull (engine, FRONT "/test/guest:v1", NULL, 0, "op-1", NULL, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (image->name, "guest-v1");
  ck_assert_str_eq (image->ref, FRONT "/test/guest:v1");
  ck_assert_str_eq (image->digest, guest_manifest);
  ck_assert_int_eq (stat (image->rootfs_path, &st), 0);
  ck_assert_uint_eq (image->size_bytes, (guint64)st.st_size);
  ck_assert_int_gt (image->created_at, 0);
  hostname = ext4_cat (image->rootfs_path, "/etc/hostname");
  ck_assert_str_eq (hostname, "guest\n");
  /* progress: resolve, downloads up to the total, unpack, done — all op-1 */
  ck_assert_uint_eq (seen->resolves, 1);
  ck_assert_uint_gt (seen->downloads, 0);
  ck_assert (seen->monotonic);
  ck_assert_uint_gt (seen->total_size, 0);
  ck_assert_uint_eq (seen->last_total, seen->total_size);
  ck_assert_uint_eq (seen->unpacks, 1);
  ck_assert_uint_eq (seen->done, 1);
  ck_assert_uint_eq (g_hash_table_size (seen->ops), 1);
  ck_assert (g_hash_table_contains (seen->ops, "op-1"));
  /* … and on the event stream, the downloads ending at the whole size */
  ck_assert_uint_gt (seen->events, seen->downloads);
  ck_assert_uint_eq (seen->event_total, seen->total_size);
  ck_assert_uint_eq (seen->event_done, seen->total_size);
  /* done: the download's total, not the ext4 file's size */
  ck_assert_uint_ne (seen->total_size, image->size_bytes);
  ck_assert_uint_eq (seen->done_total, seen->total_size);
  ck_assert_uint_eq (seen->done_bytes, seen->total_size);
  ck_assert_uint_eq (seen->event_done_total, seen->total_size);
  ck_assert_uint_eq (regfix_front_count (front, "/blobs/"), 2);
  /* no staging left */
  {
    g_autofree char *images = g_build_filename (tmpdir, "state", "images", NULL);
    ck_assert_uint_eq (count_entries (images, ".pull-"), 0);
  }

  /* again: up to date, the same record, no blob downloaded again */
  seen->done_total = seen->done_bytes = 0;
  again = banger_engine_image_pull (engine, FRONT "/test/guest:v1", NULL, 0, "op-2", NULL, &error);
  ck_assert_msg (again != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (again->id, image->id);
  ck_assert_uint_eq (seen->done, 2);
  ck_assert_uint_eq (seen->done_total, seen->total_size); /* up to date: the same total */
  ck_assert_uint_eq (seen->done_bytes, seen->total_size);
  ck_assert_uint_eq (regfix_front_count (front, "/blobs/"), 2);

  /* the name is taken by another ref */
  ck_assert_ptr_null (banger_engine_image_pull (engine, FRONT "/test/joined:v1", "guest-v1", 0,
                                                NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  ck_assert_msg (strstr (error->message, "test/guest:v1") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert_uint_eq (regfix_front_count (front, "test/joined"), 0);

  list = banger_engine_image_list (engine, &error);
  ck_assert_uint_eq (list->len, 1);

  /* prune keeps what an image refers to, then removes it all once the
   * image is gone */
  ck_assert_uint_eq (count_blobs (), 3);
  ck_assert (banger_engine_image_prune (engine, &removed, &bytes, NULL, &error));
  ck_assert_uint_eq (removed, 0);
  ck_assert_uint_eq (count_blobs (), 3);
  ck_assert (banger_engine_image_delete (engine, "guest-v1", NULL, &error));
  ck_assert (banger_engine_image_prune (engine, &removed, &bytes, NULL, &error));
  ck_assert_uint_eq (removed, 3);
  ck_assert_uint_gt (bytes, 0);
  ck_assert_uint_eq (count_blobs (), 0);
  seen_free (seen);
}
END_TEST

typedef struct
{
  const char *op_id;
  BangerStoreImage *image;
  GError *error;
} PullArgs;

static gpointer
pull_thread (gpointer data)
{
  PullArgs *a = data;

  a->image = banger_engine_image_pull (engine, FRONT "/test/joined:v1", NULL, 0, a->op_id, NULL,
                                       &a->error);
  return NULL;
}

START_TEST (test_joined_pull)
{
  PullArgs a = { "op-a", NULL, NULL };
  PullArgs b = { "op-b", NULL, NULL };
  Seen *seen = seen_new ();
  GThread *ta, *tb;
  guint fetches = banger_engine_pull_get_fetch_count (engine);

  /* the front holds manifest requests 1 s: the second pull starts while
   * the first is fetching */
  ta = g_thread_new ("pull-a", pull_thread, &a);
  g_usleep (50 * 1000);
  tb = g_thread_new ("pull-b", pull_thread, &b);
  g_thread_join (ta);
  g_thread_join (tb);
  ck_assert_msg (a.image != NULL, "a: %s", a.error ? a.error->message : "");
  ck_assert_msg (b.image != NULL, "b: %s", b.error ? b.error->message : "");
  ck_assert_str_eq (a.image->id, b.image->id);
  ck_assert_str_eq (a.image->digest, joined_manifest);
  /* one fetch: the manifest once, every blob once */
  ck_assert_uint_eq (banger_engine_pull_get_fetch_count (engine), fetches + 1);
  ck_assert_uint_eq (regfix_front_count (front, "/manifests/"), 1);
  ck_assert_uint_eq (regfix_front_count (front, "/blobs/"), joined_blobs);
  /* the joined operation got the download reports too, as joined */
  ck_assert (g_hash_table_contains (seen->ops, "op-a"));
  ck_assert (g_hash_table_contains (seen->ops, "op-b"));
  ck_assert_uint_gt (seen->joined, 0);
  banger_store_image_free (a.image);
  banger_store_image_free (b.image);
  seen_free (seen);
}
END_TEST

START_TEST (test_bad_digest_leaves_nothing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (BangerBlobStore) blobs = banger_engine_pull_get_blobs (engine, &error);
  g_autofree char *images = g_build_filename (tmpdir, "state", "images", NULL);
  g_autofree char *tmp = g_build_filename (tmpdir, "state", "oci", "tmp", NULL);

  ck_assert_ptr_null (
      banger_engine_image_pull (engine, REGISTRY "/test/corrupt:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_msg (strstr (error->message, "does not match its digest") != NULL, "%s",
                 error->message);
  ck_assert_msg (strstr (error->message, corrupt_layer) != NULL, "%s", error->message);
  g_clear_error (&error);
  list = banger_engine_image_list (engine, &error);
  ck_assert_uint_eq (list->len, 0);
  ck_assert_uint_eq (count_entries (images, NULL), 0);
  ck_assert (!banger_blob_store_has_blob (blobs, corrupt_layer));
  /* no partial file of the bad blob (another blob the abort interrupted
   * may keep its partial for a later resume; prune removes it) */
  {
    g_autofree char *partial_name = g_strconcat (corrupt_layer + 7, ".partial", NULL);
    g_autofree char *partial = g_build_filename (tmp, partial_name, NULL);
    guint removed = 0;
    ck_assert (!g_file_test (partial, G_FILE_TEST_EXISTS));
    ck_assert (banger_engine_image_prune (engine, &removed, NULL, NULL, &error));
    ck_assert_uint_eq (count_entries (tmp, NULL), 0);
    ck_assert_uint_eq (count_blobs (), 0);
  }
}
END_TEST

START_TEST (test_guest_contract)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autofree char *images = g_build_filename (tmpdir, "state", "images", NULL);

  ck_assert_ptr_null (
      banger_engine_image_pull (engine, REGISTRY "/test/nossh:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  ck_assert_msg (strstr (error->message, "SSH server") != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "/sbin/init") == NULL, "%s", error->message);
  list = banger_engine_image_list (engine, NULL);
  ck_assert_uint_eq (list->len, 0);
  ck_assert_uint_eq (count_entries (images, NULL), 0);
}
END_TEST

START_TEST (test_missing_ref)
{
  g_autoptr (GError) error = NULL;

  ck_assert_ptr_null (
      banger_engine_image_pull (engine, REGISTRY "/test/none:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert_ptr_null (banger_engine_image_pull (engine, "Bad//ref", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* not listed as insecure: HTTPS, which this registry does not speak */
  g_clear_object (&engine);
  engine = engine_with ("");
  ck_assert_ptr_null (
      banger_engine_image_pull (engine, REGISTRY "/test/guest:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_msg (strstr (error->message, "insecure=") != NULL, "%s", error->message);
}
END_TEST

START_TEST (test_tls_registry)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreImage) image = NULL;
  g_autofree char *conf = g_strdup_printf ("ca=%s", ca_path);

  /* the system's CAs do not know the test's CA */
  ck_assert_ptr_null (
      banger_engine_image_pull (engine, TLS_REGISTRY "/test/tls:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert_msg (strstr (error->message, "certificate") != NULL, "%s", error->message);
  g_clear_error (&error);
  /* trusted through [registries] ca= */
  g_clear_object (&engine);
  engine = engine_with (conf);
  image
      = banger_engine_image_pull (engine, TLS_REGISTRY "/test/tls:v1", NULL, 0, NULL, NULL, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (image->name, "tls-v1");
}
END_TEST

START_TEST (test_mirror)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreImage) image = NULL;

  g_clear_object (&engine);
  engine = engine_with ("insecure=" REGISTRY "\nmirrors=docker.io=" REGISTRY);
  image = banger_engine_image_pull (engine, "mirrored:v1", NULL, 0, NULL, NULL, &error);
  ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  /* recorded under the name the user gave, fetched from the mirror */
  ck_assert_str_eq (image->ref, "docker.io/library/mirrored:v1");
  ck_assert_str_eq (image->name, "mirrored-v1");
}
END_TEST

START_TEST (test_kernel_artifact)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreKernel) k = NULL;
  g_autofree char *kdata = NULL;
  g_autofree char *idata = NULL;
  gsize klen = 0, ilen = 0;

  k = banger_engine_kernel_pull (engine, REGISTRY "/test/kernel:v1", NULL, NULL, NULL, NULL,
                                 &error);
  ck_assert_msg (k != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (k->name, "kernel-v1");
  ck_assert_str_eq (k->ref, REGISTRY "/test/kernel:v1");
  ck_assert_str_eq (k->digest, kernel_manifest);
  ck_assert_str_eq (k->cmdline, "console=ttyS0 quiet");
  ck_assert (g_str_has_suffix (k->kernel_path, "/vmlinuz"));
  ck_assert (g_file_get_contents (k->kernel_path, &kdata, &klen, NULL));
  ck_assert (klen == g_bytes_get_size (kernel_bytes)
             && memcmp (kdata, g_bytes_get_data (kernel_bytes, NULL), klen) == 0);
  ck_assert_ptr_nonnull (k->initrd_path);
  ck_assert (g_file_get_contents (k->initrd_path, &idata, &ilen, NULL));
  ck_assert (ilen == g_bytes_get_size (initrd_bytes)
             && memcmp (idata, g_bytes_get_data (initrd_bytes, NULL), ilen) == 0);
  /* lib/vmlinux was not written anywhere */
  {
    g_autofree char *dir = g_path_get_dirname (k->kernel_path);
    ck_assert_uint_eq (count_entries (dir, NULL), 2);
  }
  /* a root file system image is no kernel */
  ck_assert_ptr_null (
      banger_engine_kernel_pull (engine, REGISTRY "/test/guest:v1", "g", NULL, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  {
    g_autofree char *gdir = g_build_filename (tmpdir, "state", "kernels", "g", NULL);
    ck_assert (!g_file_test (gdir, G_FILE_TEST_EXISTS));
  }
  /* prune keeps the kernel's blobs */
  {
    guint removed = 99;
    ck_assert (banger_engine_image_prune (engine, &removed, NULL, NULL, &error));
    /* the guest image's blobs (pulled above, no record) go; the kernel's stay */
    ck_assert_uint_eq (removed, 3);
    ck_assert_uint_eq (count_blobs (), 3);
  }
}
END_TEST

START_TEST (test_kernel_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreKernel) k = NULL;
  g_autofree char *data = NULL;
  g_autofree char *dir = g_build_filename (tmpdir, "state", "kernels", "bad", NULL);
  gsize len = 0;
  const char *url = "http://" FRONT "/files/vmlinuz";
  const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";

  ck_assert_ptr_null (banger_engine_kernel_pull (engine, url, NULL, NULL, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_ptr_null (banger_engine_kernel_pull (engine, url, "bad", wrong, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_msg (strstr (error->message, url_kernel_sha) != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (!g_file_test (dir, G_FILE_TEST_EXISTS));

  k = banger_engine_kernel_pull (engine, url, NULL, url_kernel_sha, NULL, NULL, &error);
  ck_assert_msg (k != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (k->name, "vmlinuz");
  ck_assert_str_eq (k->ref, url);
  ck_assert (g_str_has_suffix (k->digest, url_kernel_sha));
  ck_assert_ptr_null (k->initrd_path);
  ck_assert (g_file_get_contents (k->kernel_path, &data, &len, NULL));
  ck_assert (len == g_bytes_get_size (url_kernel)
             && memcmp (data, g_bytes_get_data (url_kernel, NULL), len) == 0);

  /* plain HTTP only for insecure hosts */
  g_clear_object (&engine);
  engine = engine_with ("");
  ck_assert_ptr_null (
      banger_engine_kernel_pull (engine, url, "k2", url_kernel_sha, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
}
END_TEST

START_TEST (test_resolve_pulls_if_missing)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  guint fetches;

  first = banger_engine_image_resolve (engine, REGISTRY "/test/guest:v1", NULL, NULL, &error);
  ck_assert_msg (first != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (first, "guest-v1");
  fetches = banger_engine_pull_get_fetch_count (engine);
  /* present now: found by its ref, nothing fetched */
  second = banger_engine_image_resolve (engine, REGISTRY "/test/guest:v1", NULL, NULL, &error);
  ck_assert_str_eq (second, "guest-v1");
  ck_assert_uint_eq (banger_engine_pull_get_fetch_count (engine), fetches);
  g_free (second);
  second = banger_engine_image_resolve (engine, "guest-v1", NULL, NULL, &error);
  ck_assert_str_eq (second, "guest-v1");
  /* a reference the registry lacks: its error, saying what was tried */
  ck_assert_ptr_null (
      banger_engine_image_resolve (engine, REGISTRY "/test/absent:v1", NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert_msg (strstr (error->message, "No image named '" REGISTRY "/test/absent:v1' here, "
                                         "and pulling")
                     != NULL,
                 "%s", error->message);
  g_clear_error (&error);
  /* neither a local name nor a reference */
  ck_assert_ptr_null (banger_engine_image_resolve (engine, "No_Such", NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

/* The daemon's path: the method table through the validating executor. */
START_TEST (test_ops_table)
{
  g_autoptr (GError) error = NULL;
  BangerPrivState *state = banger_engine_ops_state_new (engine);
  BangerPeerCred me = { getuid (), getgid (), getpid () };
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (JsonNode) reply = NULL;
  g_autoptr (JsonObject) bad = json_object_new ();
  g_autoptr (BangerStoreOp) op = NULL;
  JsonObject *image;

  json_object_set_string_member (params, "ref", REGISTRY "/test/guest:v1");
  json_object_set_string_member (params, "name", "via-ops");
  banger_priv_set_current_op_id ("cop1");
  reply = banger_priv_execute (banger_engine_ops_table (), state, &me, "image.pull", params, NULL,
                               &error);
  ck_assert_msg (reply != NULL, "%s", error ? error->message : "");
  image = json_object_get_object_member (json_node_get_object (reply), "image");
  ck_assert_str_eq (json_object_get_string_member (image, "name"), "via-ops");
  ck_assert_str_eq (json_object_get_string_member (image, "ref"), REGISTRY "/test/guest:v1");
  ck_assert_str_eq (json_object_get_string_member (image, "digest"), guest_manifest);
  op = banger_store_op_get (banger_engine_get_store (engine), "cop1", &error);
  ck_assert_msg (op != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (op->kind, "image.pull");
  ck_assert_str_eq (op->target, "via-ops");
  ck_assert_int_eq (op->state, BANGER_STORE_OP_SUCCEEDED);

  /* strict parameters */
  json_object_set_string_member (bad, "ref", REGISTRY "/test/guest:v1");
  json_object_set_string_member (bad, "tag", "x");
  ck_assert_ptr_null (banger_priv_execute (banger_engine_ops_table (), state, &me, "image.pull",
                                           bad, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* image.prune answers counts */
  g_clear_pointer (&reply, json_node_unref);
  banger_priv_set_current_op_id ("cop2");
  reply = banger_priv_execute (banger_engine_ops_table (), state, &me, "image.prune",
                               json_object_new (), NULL, &error);
  ck_assert_msg (reply != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (reply), "removed_blobs"), 0);
  banger_priv_set_current_op_id (NULL);
  banger_priv_state_free (state);
}
END_TEST

START_TEST (test_registries_config)
{
  g_autoptr (BangerEngineConfig) c = banger_engine_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *good = g_build_filename (tmpdir, "good.conf", NULL);
  g_autofree char *bad_host = g_build_filename (tmpdir, "bad-host.conf", NULL);
  g_autofree char *bad_mirror = g_build_filename (tmpdir, "bad-mirror.conf", NULL);
  g_autofree char *bad_ca = g_build_filename (tmpdir, "bad-ca.conf", NULL);
  g_autofree char *missing_auth = g_build_filename (tmpdir, "auth.conf", NULL);
  g_autoptr (BangerStoreImage) image = NULL;

  ck_assert (g_file_set_contents (good,
                                  "[registries]\ninsecure=localhost:5000; reg.lan ;[::1]:80\n"
                                  "mirrors=docker.io=mirror.lan:5000\nca=/etc/ca.pem\n",
                                  -1, NULL));
  ck_assert (g_file_set_contents (bad_host, "[registries]\ninsecure=http://x:5000\n", -1, NULL));
  ck_assert (g_file_set_contents (bad_mirror, "[registries]\nmirrors=docker.io\n", -1, NULL));
  ck_assert (g_file_set_contents (bad_ca, "[registries]\nca=ca.pem\n", -1, NULL));
  ck_assert_msg (banger_engine_config_load (c, good, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (g_strv_length (c->registries->insecure), 3);
  ck_assert_str_eq (c->registries->insecure[1], "reg.lan");
  ck_assert_str_eq (banger_engine_registries_get_mirror (c->registries, "docker.io"),
                    "mirror.lan:5000");
  ck_assert_ptr_null (banger_engine_registries_get_mirror (c->registries, "quay.io"));
  ck_assert_str_eq (c->registries->ca_file, "/etc/ca.pem");
  ck_assert (!banger_engine_config_load (c, bad_host, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_msg (strstr (error->message, "insecure") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, bad_mirror, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, bad_ca, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* an auth-file that is not there fails the pull, naming it */
  g_clear_object (&engine);
  engine = engine_with ("insecure=" REGISTRY "\nauth-file=/nonexistent/auth.json");
  ck_assert_ptr_null (
      banger_engine_image_pull (engine, REGISTRY "/test/guest:v1", NULL, 0, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert_msg (strstr (error->message, "/nonexistent/auth.json") != NULL, "%s", error->message);
  g_clear_error (&error);
  /* ~/.docker/config.json is read when present (a malformed one fails) */
  g_clear_object (&engine);
  engine = engine_with ("insecure=" REGISTRY);
  {
    g_autofree char *docker = g_build_filename (tmpdir, ".docker", NULL);
    g_autofree char *cfg = g_build_filename (docker, "config.json", NULL);
    ck_assert (g_mkdir (docker, 0700) == 0);
    ck_assert (g_file_set_contents (cfg, "[not an object]", -1, NULL));
    ck_assert_ptr_null (
        banger_engine_image_pull (engine, REGISTRY "/test/guest:v1", NULL, 0, NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    ck_assert (
        g_file_set_contents (cfg, "{\"auths\":{\"" REGISTRY "\":{\"auth\":\"dTpw\"}}}", -1, NULL));
    image
        = banger_engine_image_pull (engine, REGISTRY "/test/guest:v1", NULL, 0, NULL, NULL, &error);
    ck_assert_msg (image != NULL, "%s", error ? error->message : "");
  }
}
END_TEST

static Suite *
pull_suite (void)
{
  Suite *s = suite_create ("engine-pull");
  TCase *tc = tcase_create ("pull");

  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_image_pull_ls_prune);
  tcase_add_test (tc, test_joined_pull);
  tcase_add_test (tc, test_bad_digest_leaves_nothing);
  tcase_add_test (tc, test_guest_contract);
  tcase_add_test (tc, test_missing_ref);
  tcase_add_test (tc, test_tls_registry);
  tcase_add_test (tc, test_mirror);
  tcase_add_test (tc, test_kernel_artifact);
  tcase_add_test (tc, test_kernel_url);
  tcase_add_test (tc, test_resolve_pulls_if_missing);
  tcase_add_test (tc, test_ops_table);
  tcase_add_test (tc, test_registries_config);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *prog = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr (GTlsDatabase) ca = NULL;
  int rc;

  if (geteuid () != 0)
    regfix_bail ("needs root (a network namespace for the registry)");
  prog = g_find_program_in_path ("docker-registry");
  if (prog == NULL)
    regfix_bail ("docker-registry is not installed (scripts/install-deps.sh)");
  g_clear_pointer (&prog, g_free);
  prog = g_find_program_in_path ("openssl");
  if (prog == NULL)
    regfix_bail ("openssl is not installed");
  regfix_enter_netns ();
  workdir = g_dir_make_tmp ("banger-epull-reg-XXXXXX", &error);
  if (workdir == NULL)
    regfix_bail ("no work dir: %s", error->message);
  regfix_make_ca (workdir, &ca_path, &cert, &key);
  ca = g_tls_file_database_new (ca_path, &error);
  if (ca == NULL)
    regfix_bail ("cannot load the test CA: %s", error->message);
  plain = regfix_start (workdir, "plain", REGISTRY, NULL, NULL, NULL, NULL);
  /* the TLS registry serves the plain one's storage: images are pushed
   * over plain HTTP, so no trusted TLS session exists before the test */
  tls = regfix_start (workdir, "tls", TLS_REGISTRY, plain->root, cert, key, ca);
  front = regfix_front_start (5002, "http://" REGISTRY, 1000);
  push_all ();

  /* one process: the registries, the front thread and the fixtures are
   * this process's */
  g_setenv ("CK_FORK", "no", TRUE);
  rc = banger_test_run (pull_suite ());

  regfix_stop (plain);
  regfix_stop (tls);
  {
    const char *argv[] = { "rm", "-rf", workdir, NULL };
    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  return rc;
}
