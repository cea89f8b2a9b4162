/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Opening the store: settings, refusals that leave the file untouched
 * (garbage, damaged pages, another program's database, a newer schema),
 * migrations from every older version, a failed migration step, concurrent
 * first opens. */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger-store-vm-reach.h"
#include "store-test.h"

static char *dir;
static char *path;

static void
setup (void)
{
  dir = store_test_dir_new ();
  path = store_test_path (dir);
}

static void
teardown (void)
{
  store_test_dir_free (g_steal_pointer (&dir));
  g_clear_pointer (&path, g_free);
}

START_TEST (test_open_fresh)
{
  g_autoptr (BangerStore) store = store_test_open (path);
  g_autofree char *mode = NULL;
  int sync = -1, fk = -1, busy = -1;
  g_autoptr (GError) error = NULL;
  struct stat st;

  ck_assert_int_eq (banger_store_get_schema_version (store), BANGER_STORE_SCHEMA_VERSION);
  ck_assert_str_eq (banger_store_get_path (store), path);
  ck_assert (banger_store_get_settings (store, &mode, &sync, &fk, &busy, &error));
  ck_assert_str_eq (mode, "wal");
  ck_assert_int_eq (sync, 2); /* FULL */
  ck_assert_int_eq (fk, 1);
  ck_assert_int_eq (busy, BANGER_STORE_BUSY_TIMEOUT_MS);
  ck_assert_int_eq (stat (path, &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0600);
  g_clear_pointer (&store, banger_store_unref);

  ck_assert_int_eq (store_test_raw_int (path, "PRAGMA application_id"),
                    BANGER_STORE_APPLICATION_ID);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM schema_migrations"),
                    BANGER_STORE_SCHEMA_VERSION);
  ck_assert_int_eq (store_test_raw_int (path, "PRAGMA user_version"),
                    BANGER_STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST (test_ref_unref)
{
  BangerStore *store = store_test_open (path);
  BangerStore *again = banger_store_ref (store);
  g_autoptr (GPtrArray) vms = NULL;

  ck_assert (again == store);
  banger_store_unref (store);
  /* still open through the second reference */
  vms = banger_store_vm_list (again, NULL);
  ck_assert (vms != NULL);
  ck_assert_uint_eq (vms->len, 0);
  banger_store_unref (again);
  banger_store_unref (NULL);
}
END_TEST

/* Another connection holding the write lock longer than the busy timeout:
 * BUSY, after waiting for it. */
START_TEST (test_busy_timeout)
{
  g_autoptr (BangerStore) store = store_test_open (path);
  g_autoptr (GError) error = NULL;
  sqlite3 *other = NULL;
  gint64 t0, waited_ms;

  ck_assert_int_eq (sqlite3_open_v2 (path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  t0 = g_get_monotonic_time ();
  ck_assert (!banger_store_tap_add (store, "bngt1", &error));
  waited_ms = (g_get_monotonic_time () - t0) / 1000;
  banger_assert_error (error, BANGER_ERROR_BUSY);
  ck_assert_int_ge (waited_ms, BANGER_STORE_BUSY_TIMEOUT_MS - 100);
  g_clear_error (&error);
  /* reads are not blocked by a writer (WAL) */
  {
    g_autoptr (GPtrArray) taps = banger_store_tap_list (store, &error);

    ck_assert_msg (taps != NULL, "%s", error ? error->message : "");
  }
  ck_assert_int_eq (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close (other);
  ck_assert_msg (banger_store_tap_add (store, "bngt1", &error), "%s",
                 error ? error->message : "");
}
END_TEST

START_TEST (test_open_no_sync)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStore) store = banger_store_open (path, BANGER_STORE_OPEN_NO_SYNC, &error);
  int sync = -1;

  ck_assert_msg (store != NULL, "%s", error ? error->message : "");
  ck_assert (banger_store_get_settings (store, NULL, &sync, NULL, NULL, &error));
  ck_assert_int_eq (sync, 1); /* NORMAL */
}
END_TEST

START_TEST (test_reopen_keeps_data)
{
  g_autofree char *image_id = NULL, *kernel_id = NULL, *vm_id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) vm = NULL;
  BangerStore *store = store_test_open (path);

  store_test_add_image_kernel (store, &image_id, &kernel_id);
  vm_id = store_test_add_vm (store, "keep", image_id, kernel_id);
  banger_store_unref (store);

  store = store_test_open (path);
  vm = banger_store_vm_get_by_name (store, "keep", &error);
  ck_assert_msg (vm != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (vm->id, vm_id);
  ck_assert_int_eq (banger_store_get_schema_version (store), BANGER_STORE_SCHEMA_VERSION);
  banger_store_unref (store);
}
END_TEST

START_TEST (test_open_bad_arguments)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (dir, "no", "such", "store.db", NULL);
  g_autofree char *link = g_build_filename (dir, "link.db", NULL);
  g_autoptr (BangerStore) real = store_test_open (path);

  ck_assert (real != NULL);
  ck_assert (banger_store_open ("relative.db", 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_open (NULL, 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_open (path, (BangerStoreOpenFlags) 0x80, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_open (missing, 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_open (dir, 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a link to a real store is refused, not followed */
  ck_assert_int_eq (symlink (path, link), 0);
  ck_assert (banger_store_open (link, 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* Opening @path must fail with @code and a message holding @needle, and
 * leave the directory and the file's bytes exactly as they were. */
static void
assert_refused_untouched (int code, const char *needle)
{
  g_autoptr (GBytes) before = store_test_read (path);
  g_autofree char *ls_before = store_test_ls (dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autofree char *ls_after = NULL;
  struct stat st_before, st_after;

  ck_assert (before != NULL);
  ck_assert_int_eq (stat (path, &st_before), 0);
  ck_assert (banger_store_open (path, BANGER_STORE_OPEN_NONE, &error) == NULL);
  banger_assert_error (error, code);
  ck_assert_msg (strstr (error->message, needle) != NULL, "message '%s' lacks '%s'",
                 error->message, needle);
  ck_assert_msg (strstr (error->message, "left untouched") != NULL, "%s", error->message);
  after = store_test_read (path);
  ls_after = store_test_ls (dir);
  ck_assert (after != NULL);
  ck_assert_msg (g_bytes_equal (before, after), "the file's bytes changed");
  ck_assert_str_eq (ls_before, ls_after);
  ck_assert_int_eq (stat (path, &st_after), 0);
  ck_assert_int_eq (st_before.st_mtim.tv_sec, st_after.st_mtim.tv_sec);
  ck_assert_int_eq (st_before.st_mtim.tv_nsec, st_after.st_mtim.tv_nsec);
}

START_TEST (test_garbage_untouched)
{
  g_autoptr (GString) junk = g_string_new (NULL);

  for (int i = 0; i < 512; i++)
    g_string_append (junk, "not a database! ");
  ck_assert (g_file_set_contents (path, junk->str, junk->len, NULL));
  assert_refused_untouched (BANGER_ERROR_FAILED, "corrupt");
}
END_TEST

START_TEST (test_short_garbage_untouched)
{
  ck_assert (g_file_set_contents (path, "SQLite", 6, NULL));
  assert_refused_untouched (BANGER_ERROR_FAILED, "corrupt");
}
END_TEST

static void
make_newer_store (void)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA journal_mode = WAL;"
                                          "PRAGMA application_id = %d;"
                                          "PRAGMA user_version = %d;"
                                          "CREATE TABLE future (x INTEGER);"
                                          "INSERT INTO future VALUES (42);",
                                          BANGER_STORE_APPLICATION_ID,
                                          BANGER_STORE_SCHEMA_VERSION + 1);

  store_test_raw_exec (path, sql);
}

START_TEST (test_newer_schema_untouched)
{
  make_newer_store ();
  assert_refused_untouched (BANGER_ERROR_UNSUPPORTED, "newer");
  ck_assert_int_eq (store_test_raw_int (path, "PRAGMA user_version"),
                    BANGER_STORE_SCHEMA_VERSION + 1);
}
END_TEST

/* The same while a (newer) process holds the file open, so the -wal file
 * exists and the check runs through a real connection. */
START_TEST (test_newer_schema_open_elsewhere)
{
  g_autoptr (GBytes) before = NULL, after = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  sqlite3 *other = NULL;

  make_newer_store ();
  ck_assert_int_eq (sqlite3_open_v2 (path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_exec (other, "INSERT INTO future VALUES (43)", NULL, NULL, NULL),
                    SQLITE_OK);
  ck_assert (g_file_test (wal, G_FILE_TEST_EXISTS));
  before = store_test_read (path);
  ck_assert (banger_store_open (path, 0, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  after = store_test_read (path);
  ck_assert (g_bytes_equal (before, after));
  sqlite3_close (other);
}
END_TEST

START_TEST (test_foreign_database_untouched)
{
  store_test_raw_exec (path, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('a');");
  assert_refused_untouched (BANGER_ERROR_FAILED, "not a banger store");
}
END_TEST

START_TEST (test_other_application_id_untouched)
{
  store_test_raw_exec (path, "PRAGMA application_id = 305419896;");
  assert_refused_untouched (BANGER_ERROR_FAILED, "not a banger store");
}
END_TEST

START_TEST (test_damaged_pages_untouched)
{
  g_autofree char *image_id = NULL, *kernel_id = NULL;
  BangerStore *store = store_test_open (path);
  g_autofree char *data = NULL;
  gsize len = 0;
  gint64 page_size;

  store_test_add_image_kernel (store, &image_id, &kernel_id);
  for (int i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm-%03d", i);

      g_free (store_test_add_vm (store, name, image_id, kernel_id));
    }
  banger_store_unref (store);
  page_size = store_test_raw_int (path, "PRAGMA page_size");

  /* scribble over the third page (a b-tree page of the tables above) */
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  ck_assert_uint_gt (len, (gsize) page_size * 4);
  memset (data + 2 * page_size, 0xa5, page_size);
  ck_assert (g_file_set_contents (path, data, len, NULL));
  assert_refused_untouched (BANGER_ERROR_FAILED, "corrupt");
}
END_TEST

/* -------------------------------------------------------- migrations */

/* Rows a store of schema @version can hold, written as that version's
 * code would have. */
static void
fill_old_store (int version)
{
  store_test_raw_exec (path,
                       "INSERT INTO images (id, name, rootfs_path, size_bytes, digest, created_at)"
                       "  VALUES ('i1', 'img', '/img.ext4', 10, NULL, 100);"
                       "INSERT INTO kernels (id, name, kernel_path, initrd_path, cmdline, created_at)"
                       "  VALUES ('k1', 'k', '/vmlinuz', NULL, 'quiet', 101);"
                       "INSERT INTO vms (id, name, image_id, kernel_id, vcpus, memory_mib,"
                       "  work_disk_bytes, vmm, rootfs_cow, created_at, state, failed_step, error)"
                       "  VALUES ('v1', 'old-vm', 'i1', 'k1', 2, 256, 1024, 'qemu', 'reflink',"
                       "          1234, 'failed', 'launch', 'it broke');");
  if (version >= 2)
    store_test_raw_exec (path,
                         "INSERT INTO taps VALUES ('bngt0', 'v1', 102);"
                         "INSERT INTO ip_leases VALUES ('172.30.0.0/24', 2887647234, 'v1', 103);"
                         "INSERT INTO vm_runtime VALUES ('v1', 4242, 99, NULL, '/run/api.sock',"
                         "                                NULL, 104);");
  if (version >= 3) /* version 3's code wrote updated_at with the row */
    store_test_raw_exec (path, "UPDATE vms SET updated_at = created_at;");
  if (version >= 5)
    store_test_raw_exec (path, "INSERT INTO snapshots (id, name, vm_name, image_id, kernel_id, vmm,"
                               "  vcpus, memory_mib, work_disk_bytes, diff, parent_id, guest_ip,"
                               "  size_bytes, created_at)"
                               "  VALUES ('s1', 'old-full', 'old-vm', 'i1', 'k1', 'firecracker', 2,"
                               "          256, 0, 0, NULL, NULL, 4096, 105);");
}

START_TEST (test_migrate_from_each_version)
{
  int from = _i;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStore) store = NULL;
  g_autoptr (BangerStoreVm) vm = NULL;
  g_autoptr (BangerStoreImage) image = NULL;
  g_autoptr (BangerStoreKernel) kernel = NULL;

  if (from == 0)
    ck_assert (g_file_set_contents (path, "", 0, NULL));
  else
    {
      BangerStore *old = banger_store_open_full (path, 0, banger_store_migrations, from, &error);

      ck_assert_msg (old != NULL, "%s", error ? error->message : "");
      ck_assert_int_eq (banger_store_get_schema_version (old), from);
      banger_store_unref (old);
      ck_assert_int_eq (store_test_raw_int (path, "PRAGMA user_version"), from);
      fill_old_store (from);
    }

  store = banger_store_open (path, 0, &error);
  ck_assert_msg (store != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (banger_store_get_schema_version (store), BANGER_STORE_SCHEMA_VERSION);
  if (from >= 1)
    {
      vm = banger_store_vm_get_by_name (store, "old-vm", &error);
      ck_assert_msg (vm != NULL, "%s", error ? error->message : "");
      ck_assert_str_eq (vm->id, "v1");
      ck_assert_uint_eq (vm->vcpus, 2);
      ck_assert_uint_eq (vm->memory_mib, 256);
      ck_assert_int_eq (vm->rootfs_cow, BANGER_STORE_ROOTFS_COW_REFLINK);
      ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_FAILED);
      ck_assert_str_eq (vm->failed_step, "launch");
      /* step 3 added updated_at and set it from created_at */
      ck_assert_int_eq (vm->updated_at, 1234);
      image = banger_store_image_get_by_id (store, "i1", &error);
      ck_assert (image != NULL);
      kernel = banger_store_kernel_get_by_name (store, "k", &error);
      ck_assert (kernel != NULL);
      ck_assert_str_eq (kernel->cmdline, "quiet");
      /* step 4: where a pull came from; nothing for older rows */
      ck_assert_ptr_null (image->ref);
      ck_assert_ptr_null (kernel->ref);
      ck_assert_ptr_null (kernel->digest);
      /* step 6: a VM from before has no publishes and egress nat */
      {
        g_autofree char *publish = NULL;
        g_autofree char *egress = NULL;
        ck_assert (banger_store_vm_reach_get (store, "v1", &publish, &egress, &error));
        ck_assert_str_eq (publish, "");
        ck_assert_str_eq (egress, "nat");
      }
    }
  if (from >= 2)
    {
      g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (store, "v1", &error);

      ck_assert_msg (rt != NULL, "%s", error ? error->message : "");
      ck_assert_int_eq (rt->pid, 4242);
      ck_assert_str_eq (rt->tap, "bngt0");
      ck_assert_str_eq (rt->ip, "172.30.0.2");
    }
  if (from >= 1)
    {
      /* step 5 rebuilt the vms table: 'paused' is a state now, and the
       * references to and from it still hold */
      ck_assert (banger_store_vm_set_state (store, "v1", -1, BANGER_STORE_VM_STATE_PAUSED, NULL,
                                            NULL, &error));
      g_clear_pointer (&vm, banger_store_vm_free);
      vm = banger_store_vm_get_by_id (store, "v1", &error);
      ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_PAUSED);
      ck_assert (!banger_store_image_delete (store, "img", &error));
      banger_assert_error (error, BANGER_ERROR_BUSY);
      g_clear_error (&error);
      ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM pragma_foreign_key_check"),
                        0);
    }
  if (from >= 5)
    {
      /* step 7: a snapshot from before has no run, so no Diff follows it */
      g_autoptr (BangerStoreSnapshot) old
          = banger_store_snapshot_get_by_name (store, "old-full", &error);
      ck_assert_msg (old != NULL, "%s", error ? error->message : "");
      ck_assert_ptr_null (old->run);
    }
  if (from >= 1)
    {
      /* step 7: a Full of a run is the parent only for that run */
      g_autoptr (BangerStoreSnapshot) want = banger_store_snapshot_new ("new-full", NULL);
      g_autoptr (BangerStoreSnapshot) added = NULL, found = NULL, other = NULL;

      want->vm_name = g_strdup ("old-vm");
      want->image_id = g_strdup ("i1");
      want->kernel_id = g_strdup ("k1");
      want->vmm = BANGER_STORE_VMM_FIRECRACKER;
      want->vcpus = 2;
      want->memory_mib = 256;
      want->run = g_strdup ("v1/boot/4242/99");
      added = banger_store_snapshot_add (store, want, &error);
      ck_assert_msg (added != NULL, "%s", error ? error->message : "");
      found = banger_store_snapshot_get_latest_full (store, "v1/boot/4242/99", &error);
      ck_assert_msg (found != NULL, "%s", error ? error->message : "");
      ck_assert_str_eq (found->name, "new-full");
      ck_assert_str_eq (found->run, "v1/boot/4242/99");
      other = banger_store_snapshot_get_latest_full (store, "v1/boot/4243/120", &error);
      ck_assert_ptr_null (other);
      banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
      g_clear_error (&error);
    }
  {
    g_autoptr (BangerStoreOp) op = banger_store_op_begin (store, NULL, "vm.create", "x", &error);

    ck_assert_msg (op != NULL, "%s", error ? error->message : "");
  }
  g_clear_pointer (&store, banger_store_unref);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM schema_migrations"),
                    BANGER_STORE_SCHEMA_VERSION);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT max(version) FROM schema_migrations"),
                    BANGER_STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST (test_failed_step_rolls_back)
{
  const BangerStoreMigration steps[] = {
    banger_store_migrations[0],
    { 2, "broken", "CREATE TABLE extra (a INTEGER); INSERT INTO nowhere VALUES (1);" },
  };
  g_autoptr (GError) error = NULL;

  ck_assert (banger_store_open_full (path, 0, steps, G_N_ELEMENTS (steps), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "version 2") != NULL, "%s", error->message);
  ck_assert_msg (strstr (error->message, "stays at version 1") != NULL, "%s", error->message);
  ck_assert_int_eq (store_test_raw_int (path, "PRAGMA user_version"), 1);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM sqlite_schema "
                                              "WHERE name = 'extra'"),
                    0);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM schema_migrations"), 1);
  /* and the real steps still take it from there */
  {
    g_autoptr (BangerStore) store = store_test_open (path);

    ck_assert_int_eq (banger_store_get_schema_version (store), BANGER_STORE_SCHEMA_VERSION);
  }
}
END_TEST

START_TEST (test_step_leaving_dangling_rows_rolls_back)
{
  const BangerStoreMigration steps[] = {
    banger_store_migrations[0],
    { 2, "dangling",
      "CREATE TABLE p (id TEXT PRIMARY KEY);"
      "CREATE TABLE c (p TEXT REFERENCES p (id));"
      "PRAGMA defer_foreign_keys = ON;"
      "INSERT INTO c VALUES ('nobody');" },
  };
  g_autoptr (GError) error = NULL;

  ck_assert (banger_store_open_full (path, 0, steps, G_N_ELEMENTS (steps), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "referring to missing") != NULL, "%s", error->message);
  ck_assert_int_eq (store_test_raw_int (path, "PRAGMA user_version"), 1);
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM sqlite_schema "
                                              "WHERE name IN ('p', 'c')"),
                    0);
}
END_TEST

/* Several processes opening a fresh file at once: each step runs once. */
START_TEST (test_concurrent_first_open)
{
  enum { N = 4 };
  pid_t pids[N];

  for (int i = 0; i < N; i++)
    {
      pids[i] = fork ();
      ck_assert_int_ge (pids[i], 0);
      if (pids[i] == 0)
        {
          BangerStore *store = banger_store_open (path, 0, NULL);
          int ok = store != NULL
                   && banger_store_get_schema_version (store) == BANGER_STORE_SCHEMA_VERSION;

          if (store != NULL)
            banger_store_unref (store);
          _exit (ok ? 0 : 1);
        }
    }
  for (int i = 0; i < N; i++)
    {
      int status = 0;

      ck_assert_int_eq (waitpid (pids[i], &status, 0), pids[i]);
      ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child %d failed", i);
    }
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM schema_migrations"),
                    BANGER_STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST (test_object_names)
{
  static const struct
  {
    const char *name;
    gboolean ok;
  } cases[] = {
    { "debian-12", TRUE },
    { "docker.io/library/alpine:3.19", TRUE },
    { "img@sha256:abc", TRUE },
    { "A1", TRUE },
    { "", FALSE },
    { "-leading", FALSE },
    { ".hidden", FALSE },
    { "has space", FALSE },
    { "semi;colon", FALSE },
    { "tab\there", FALSE },
    { "caf\xc3\xa9", FALSE },
  };
  g_autofree char *long_name = g_strnfill (129, 'a');
  g_autofree char *max_name = g_strnfill (128, 'a');
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean ok = banger_store_validate_object_name ("Image", cases[i].name, &error);

      ck_assert_msg (ok == cases[i].ok, "'%s'", cases[i].name);
      if (!ok)
        banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  ck_assert (banger_store_validate_object_name ("Image", max_name, NULL));
  ck_assert (!banger_store_validate_object_name ("Image", long_name, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_validate_object_name ("Image", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *
store_open_suite (void)
{
  Suite *s = suite_create ("store-open");
  TCase *tc = tcase_create ("open");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_open_fresh);
  tcase_add_test (tc, test_ref_unref);
  tcase_add_test (tc, test_busy_timeout);
  tcase_add_test (tc, test_open_no_sync);
  tcase_add_test (tc, test_reopen_keeps_data);
  tcase_add_test (tc, test_open_bad_arguments);
  tcase_add_test (tc, test_garbage_untouched);
  tcase_add_test (tc, test_short_garbage_untouched);
  tcase_add_test (tc, test_newer_schema_untouched);
  tcase_add_test (tc, test_newer_schema_open_elsewhere);
  tcase_add_test (tc, test_foreign_database_untouched);
  tcase_add_test (tc, test_other_application_id_untouched);
  tcase_add_test (tc, test_damaged_pages_untouched);
  tcase_add_loop_test (tc, test_migrate_from_each_version, 0, BANGER_STORE_SCHEMA_VERSION);
  tcase_add_test (tc, test_failed_step_rolls_back);
  tcase_add_test (tc, test_step_leaving_dangling_rows_rolls_back);
  tcase_add_test (tc, test_concurrent_first_open);
  tcase_add_test (tc, test_object_names);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (store_open_suite)
