/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The schema of the store, as the list of steps that build it: step N takes
 * a file from user_version N-1 to N.  A step is never edited once released;
 * a change is a new step at the end (and BANGER_STORE_SCHEMA_VERSION + 1).
 * doc/store.md describes the tables. */
#include "config.h"

#include "banger-quote.h"
#include "banger-store-private.h"

const BangerStoreMigration banger_store_migrations[BANGER_STORE_SCHEMA_VERSION] = {
  {
    1,
    "images, kernels and VM specs",
    "PRAGMA application_id = 1111576135;" /* 0x42414E47, "BANG" */
    "CREATE TABLE schema_migrations ("
    "  version INTEGER PRIMARY KEY,"
    "  description TEXT NOT NULL,"
    "  applied_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE images ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  rootfs_path TEXT NOT NULL,"
    "  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  digest TEXT,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE kernels ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kernel_path TEXT NOT NULL,"
    "  initrd_path TEXT,"
    "  cmdline TEXT,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE vms ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE RESTRICT,"
    "  kernel_id TEXT NOT NULL REFERENCES kernels (id) ON DELETE RESTRICT,"
    "  vcpus INTEGER NOT NULL CHECK (vcpus >= 1),"
    "  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),"
    "  work_disk_bytes INTEGER NOT NULL CHECK (work_disk_bytes >= 0),"
    "  vmm TEXT NOT NULL CHECK (vmm IN ('firecracker', 'qemu')),"
    "  rootfs_cow TEXT NOT NULL"
    "    CHECK (rootfs_cow IN ('auto', 'dm-snapshot', 'reflink', 'sparse-copy')),"
    "  created_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('creating', 'stopped', 'starting', 'running',"
    "                                       'stopping', 'failed', 'deleting')),"
    "  failed_step TEXT,"
    "  error TEXT"
    ") STRICT;"
    "CREATE INDEX vms_image_id ON vms (image_id);"
    "CREATE INDEX vms_kernel_id ON vms (kernel_id);",
  },
  {
    2,
    "runtime handles, IP leases, the tap pool",
    "CREATE TABLE vm_runtime ("
    "  vm_id TEXT PRIMARY KEY REFERENCES vms (id) ON DELETE CASCADE,"
    "  pid INTEGER NOT NULL CHECK (pid > 0),"
    "  start_time INTEGER NOT NULL CHECK (start_time >= 0),"
    "  cgroup TEXT,"
    "  api_socket TEXT,"
    "  log_path TEXT,"
    "  updated_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE ip_leases ("
    "  subnet TEXT NOT NULL,"
    "  address INTEGER NOT NULL CHECK (address BETWEEN 0 AND 4294967295),"
    "  vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE RESTRICT,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (subnet, address),"
    "  UNIQUE (vm_id, subnet)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE taps ("
    "  name TEXT PRIMARY KEY,"
    "  vm_id TEXT UNIQUE REFERENCES vms (id) ON DELETE RESTRICT,"
    "  created_at INTEGER NOT NULL"
    ") STRICT;",
  },
  {
    3,
    "operations; VM records say when they last changed",
    "ALTER TABLE vms ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE vms SET updated_at = created_at;"
    "CREATE TABLE operations ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  target TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled')),"
    "  started_at INTEGER NOT NULL,"
    "  ended_at INTEGER,"
    "  error_code TEXT,"
    "  error TEXT,"
    "  CHECK ((state = 'running') = (ended_at IS NULL))"
    ") STRICT;"
    "CREATE INDEX operations_started_at ON operations (started_at);"
    "CREATE INDEX operations_running ON operations (state) WHERE state = 'running';",
  },
  {
    4,
    "where pulled images and kernels came from: ref, digest",
    "ALTER TABLE images ADD COLUMN ref TEXT;"
    "ALTER TABLE kernels ADD COLUMN ref TEXT;"
    "ALTER TABLE kernels ADD COLUMN digest TEXT;"
    "CREATE INDEX images_ref ON images (ref) WHERE ref IS NOT NULL;",
  },
  {
    5,
    "VM state paused; snapshots",
    /* SQLite cannot change a CHECK in place: the vms table is rebuilt
     * (foreign keys off around the step, checked inside it) */
    "CREATE TABLE vms_new ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE RESTRICT,"
    "  kernel_id TEXT NOT NULL REFERENCES kernels (id) ON DELETE RESTRICT,"
    "  vcpus INTEGER NOT NULL CHECK (vcpus >= 1),"
    "  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),"
    "  work_disk_bytes INTEGER NOT NULL CHECK (work_disk_bytes >= 0),"
    "  vmm TEXT NOT NULL CHECK (vmm IN ('firecracker', 'qemu')),"
    "  rootfs_cow TEXT NOT NULL"
    "    CHECK (rootfs_cow IN ('auto', 'dm-snapshot', 'reflink', 'sparse-copy')),"
    "  created_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('creating', 'stopped', 'starting', 'running',"
    "                                       'stopping', 'failed', 'deleting', 'paused')),"
    "  failed_step TEXT,"
    "  error TEXT,"
    "  updated_at INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "INSERT INTO vms_new (id, name, image_id, kernel_id, vcpus, memory_mib, work_disk_bytes, vmm,"
    "                     rootfs_cow, created_at, state, failed_step, error, updated_at)"
    "  SELECT id, name, image_id, kernel_id, vcpus, memory_mib, work_disk_bytes, vmm,"
    "         rootfs_cow, created_at, state, failed_step, error, updated_at FROM vms;"
    "DROP TABLE vms;"
    "ALTER TABLE vms_new RENAME TO vms;"
    "CREATE INDEX vms_image_id ON vms (image_id);"
    "CREATE INDEX vms_kernel_id ON vms (kernel_id);"
    "CREATE TABLE snapshots ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  vm_name TEXT NOT NULL,"
    "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE RESTRICT,"
    "  kernel_id TEXT NOT NULL REFERENCES kernels (id) ON DELETE RESTRICT,"
    "  vmm TEXT NOT NULL CHECK (vmm IN ('firecracker', 'qemu')),"
    "  vcpus INTEGER NOT NULL CHECK (vcpus >= 1),"
    "  memory_mib INTEGER NOT NULL CHECK (memory_mib >= 1),"
    "  work_disk_bytes INTEGER NOT NULL CHECK (work_disk_bytes >= 0),"
    "  diff INTEGER NOT NULL CHECK (diff IN (0, 1)),"
    "  parent_id TEXT REFERENCES snapshots (id) ON DELETE RESTRICT,"
    "  guest_ip TEXT,"
    "  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  created_at INTEGER NOT NULL,"
    "  CHECK ((diff = 1) = (parent_id IS NOT NULL))"
    ") STRICT;"
    "CREATE INDEX snapshots_image_id ON snapshots (image_id);"
    "CREATE INDEX snapshots_kernel_id ON snapshots (kernel_id);"
    "CREATE INDEX snapshots_parent_id ON snapshots (parent_id);",
    TRUE,
  },
  {
    6,
    "how a VM is reached: port publishes and egress policy",
    "CREATE TABLE vm_reach ("
    "  vm_id TEXT PRIMARY KEY REFERENCES vms (id) ON DELETE CASCADE,"
    "  publish TEXT NOT NULL DEFAULT '',"
    "  egress TEXT NOT NULL DEFAULT 'nat'"
    ") STRICT;",
  },
  {
    7,
    "the run of a VM a snapshot was taken in (a Diff's parent is of the same run)",
    "ALTER TABLE snapshots ADD COLUMN run TEXT;"
    "CREATE INDEX snapshots_run ON snapshots (run);",
  },
};

static gboolean
get_user_version (sqlite3 *db, int *out, int *out_rc)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      *out = sqlite3_column_int (stmt, 0);
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  *out_rc = rc;
  return rc == SQLITE_OK;
}

/* Rows of PRAGMA foreign_key_check after a step: a step must not leave a
 * dangling reference. */
static gboolean
foreign_keys_hold (sqlite3 *db, int *out_rc)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
  gboolean hold = FALSE;

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      hold = rc == SQLITE_DONE;
      if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  *out_rc = rc;
  return hold && rc == SQLITE_OK;
}

/* The body of one step, inside its transaction: its SQL, its row in
 * schema_migrations, the new user_version, and a foreign-key check.  SQLITE_OK
 * or the failing code, with *out_what saying what failed. */
static int
run_step (sqlite3 *db, const BangerStoreMigration *step, char **out_what)
{
  g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", step->version);
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_exec (db, step->sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      *out_what = g_strdup (sqlite3_errmsg (db));
      return rc;
    }
  rc = sqlite3_prepare_v2 (db,
                           "INSERT INTO schema_migrations (version, description, applied_at) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_int (stmt, 1, step->version);
      sqlite3_bind_text (stmt, 2, step->description, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, store_now ());
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  if (rc != SQLITE_OK)
    *out_what = g_strdup_printf ("recording the step: %s", sqlite3_errmsg (db));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return rc;
  rc = sqlite3_exec (db, set_version, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      *out_what = g_strdup (sqlite3_errmsg (db));
      return rc;
    }
  if (!foreign_keys_hold (db, &rc))
    {
      *out_what = g_strdup (rc == SQLITE_OK ? "it leaves rows referring to missing ones"
                                            : sqlite3_errmsg (db));
      return rc == SQLITE_OK ? SQLITE_CONSTRAINT_FOREIGNKEY : rc;
    }
  return SQLITE_OK;
}

/* One step in one IMMEDIATE transaction: all of it or nothing. */
static gboolean
apply_step (sqlite3 *db, const BangerStoreMigration *step, int *io_version, char **out_what,
            int *out_rc)
{
  int current = 0;
  int rc;

  rc = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      *out_what = g_strdup (sqlite3_errmsg (db));
      *out_rc = rc;
      return FALSE;
    }
  /* Another connection may have migrated while this one waited. */
  if (!get_user_version (db, &current, &rc))
    *out_what = g_strdup (sqlite3_errmsg (db));
  else if (current >= step->version)
    {
      *io_version = current;
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return TRUE;
    }
  else if ((rc = run_step (db, step, out_what)) == SQLITE_OK
           && (rc = sqlite3_exec (db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
    *out_what = g_strdup (sqlite3_errmsg (db));
  if (rc != SQLITE_OK)
    {
      if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      *out_rc = rc;
      return FALSE;
    }
  *io_version = step->version;
  return TRUE;
}

gboolean
banger_store_migrate (sqlite3 *db, const char *path, const BangerStoreMigration *steps,
                      guint n_steps, GError **error)
{
  g_autofree char *qpath = banger_quote (path);
  int version = 0;
  int rc;

  if (!get_user_version (db, &version, &rc))
    {
      g_set_error (error, BANGER_ERROR, store_error_code (rc),
                   "Cannot read the schema version of the store '%s': %s", qpath,
                   sqlite3_errmsg (db));
      return FALSE;
    }
  for (guint i = 0; i < n_steps; i++)
    {
      g_autofree char *what = NULL;

      gboolean ok;

      if (steps[i].version <= version)
        continue;
      /* a table rebuild: foreign keys off around the transaction (the
       * pragma is a no-op inside one), the step's own foreign_key_check
       * proves nothing dangles */
      if (steps[i].rebuilds_tables)
        sqlite3_exec (db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
      ok = apply_step (db, &steps[i], &version, &what, &rc);
      if (steps[i].rebuilds_tables)
        sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
      if (!ok)
        {
          /* BUSY (another connection held the write lock too long) may
           * pass on a retry; any other failure is a defect of the step. */
          g_set_error (error, BANGER_ERROR,
                       store_error_code (rc) == BANGER_ERROR_BUSY ? BANGER_ERROR_BUSY
                                                                  : BANGER_ERROR_FAILED,
                       "Migrating the store '%s' to schema version %d (%s) failed: %s; it "
                       "stays at version %d",
                       qpath, steps[i].version, steps[i].description, what, version);
          return FALSE;
        }
    }
  return TRUE;
}
