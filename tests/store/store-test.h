/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared helpers of the store suites: a fresh directory per test, a store
 * in it with an image and a kernel, and file snapshots for "touches nothing"
 * checks.  The fixtures that must build a file the store's API cannot write
 * (an older or newer schema, another program's database) use SQLite
 * directly: that SQL is test data, not a second store. */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "banger.h"
#include "banger-store.h"
#include "banger-store-private.h"
#include "banger-test.h"

static inline int
store_test_rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

/* A fresh directory; removed with store_test_dir_free(). */
static inline char *
store_test_dir_new (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("banger-store-XXXXXX", &error);

  ck_assert_msg (dir != NULL, "mkdtemp: %s", error ? error->message : "?");
  return dir;
}

static inline void
store_test_dir_free (char *dir)
{
  if (dir == NULL)
    return;
  nftw (dir, store_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  g_free (dir);
}

static inline char *
store_test_path (const char *dir)
{
  return g_build_filename (dir, BANGER_STORE_FILE_NAME, NULL);
}

static inline BangerStore *
store_test_open (const char *path)
{
  g_autoptr (GError) error = NULL;
  BangerStore *store = banger_store_open (path, BANGER_STORE_OPEN_NONE, &error);

  ck_assert_msg (store != NULL, "open: %s", error ? error->message : "?");
  return store;
}

/* An image "img" and a kernel "k" in @store; their ids in the out values. */
static inline void
store_test_add_image_kernel (BangerStore *store, char **out_image_id, char **out_kernel_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreImage) in_image = banger_store_image_new ("img", "/var/lib/img.ext4",
                                                                  1 << 20, NULL);
  g_autoptr (BangerStoreKernel) in_kernel = banger_store_kernel_new ("k", "/boot/vmlinuz", NULL,
                                                                     NULL);
  g_autoptr (BangerStoreImage) image = banger_store_image_add (store, in_image, &error);
  g_autoptr (BangerStoreKernel) kernel = NULL;

  ck_assert_msg (image != NULL, "image: %s", error ? error->message : "?");
  kernel = banger_store_kernel_add (store, in_kernel, &error);
  ck_assert_msg (kernel != NULL, "kernel: %s", error ? error->message : "?");
  *out_image_id = g_strdup (image->id);
  *out_kernel_id = g_strdup (kernel->id);
}

/* A VM named @name (created, state CREATING); its id. */
static inline char *
store_test_add_vm (BangerStore *store, const char *name, const char *image_id,
                   const char *kernel_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) spec = banger_store_vm_new (name, image_id, kernel_id,
                                                        BANGER_STORE_VMM_QEMU);
  g_autoptr (BangerStoreVm) vm = banger_store_vm_create (store, spec, &error);

  ck_assert_msg (vm != NULL, "vm %s: %s", name, error ? error->message : "?");
  return g_strdup (vm->id);
}

/* The bytes of @path (NULL when absent). */
static inline GBytes *
store_test_read (const char *path)
{
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take (data, len);
}

static inline int
store_test_cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The sorted names in @dir, joined by spaces. */
static inline char *
store_test_ls (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const char *name;

  ck_assert (d != NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, store_test_cmp_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* Runs @sql on a raw connection to @path (test fixtures only). */
static inline void
store_test_raw_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

  ck_assert_int_eq (rc, SQLITE_OK);
  rc = sqlite3_exec (db, sql, NULL, NULL, &msg);
  ck_assert_msg (rc == SQLITE_OK, "raw sql: %s", msg ? msg : "?");
  sqlite3_close (db);
}

/* One integer from @sql on a raw connection (test checks only). */
static inline gint64
store_test_raw_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 v;

  /* (read-write: a read-only connection would leave -wal/-shm behind) */
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
  ck_assert_int_eq (sqlite3_step (stmt), SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}
