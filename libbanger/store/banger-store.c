/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Opening the store: the checks that refuse a damaged, foreign or newer file
 * without touching it, the connection settings, the migrations; and the
 * helpers every entity file uses (statement cache, transactions, errors). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "banger-error-private.h"
#include "banger-quote.h"
#include "banger-store-private.h"

/* Serialises banger_store_open() in this process.  Creating the file is a
 * plain open()+close(), and a close() drops every POSIX lock this process
 * holds on the file, SQLite's included; with this lock no other store of
 * this process can be half-way into opening the same file meanwhile. */
static GMutex open_lock;

/* ------------------------------------------------------------- errors */

BangerError
store_error_code (int rc)
{
  switch (rc)
    {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return BANGER_ERROR_ALREADY_EXISTS;
    default:
      break;
    }
  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return BANGER_ERROR_BUSY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return BANGER_ERROR_INVALID_ARGUMENT;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return BANGER_ERROR_PERMISSION_DENIED;
    case SQLITE_FULL:
      return BANGER_ERROR_LIMIT_EXCEEDED;
    case SQLITE_NOTFOUND:
      return BANGER_ERROR_NOT_FOUND;
    case SQLITE_INTERRUPT:
      return BANGER_ERROR_CANCELLED;
    default:
      return BANGER_ERROR_FAILED;
    }
}

static gboolean
set_db_error (sqlite3 *db, const char *path, int rc, const char *what, GError **error)
{
  g_autofree char *qpath = banger_quote (path);
  BangerError code = store_error_code (rc);

  if ((rc & 0xff) == SQLITE_CANTOPEN && db != NULL && sqlite3_system_errno (db) != 0)
    code = banger_error_code_from_errno (sqlite3_system_errno (db));
  g_set_error (error, BANGER_ERROR, code, "%s: %s (store '%s')", what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc), qpath);
  return FALSE;
}

gboolean
store_set_error (BangerStore *store, int rc, const char *what, GError **error)
{
  return set_db_error (store->db, store->path, rc, what, error);
}

/* --------------------------------------------------------- statements */

sqlite3_stmt *
store_stmt (BangerStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts, sql);
  int rc;

  if (stmt != NULL)
    return stmt;
  rc = sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      store_set_error (store, rc, "preparing a statement", error);
      return NULL;
    }
  g_hash_table_insert (store->stmts, (gpointer) sql, stmt);
  return stmt;
}

void
store_stmt_release (sqlite3_stmt *stmt)
{
  if (stmt == NULL)
    return;
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

int
store_step (BangerStore *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    return rc;
  store_set_error (store, rc, what, error);
  return 0;
}

gboolean
store_exec_stmt (BangerStore *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc;

  while ((rc = store_step (store, stmt, what, error)) == SQLITE_ROW)
    ;
  return rc == SQLITE_DONE;
}

static gboolean
exec_cached (BangerStore *store, const char *sql, const char *what, GError **error)
{
  g_auto (StoreStmt) stmt = store_stmt (store, sql, error);

  return stmt != NULL && store_exec_stmt (store, stmt, what, error);
}

gboolean
store_begin (BangerStore *store, GError **error)
{
  return exec_cached (store, "BEGIN IMMEDIATE", "starting a transaction", error);
}

gboolean
store_commit (BangerStore *store, GError **error)
{
  if (exec_cached (store, "COMMIT", "committing", error))
    return TRUE;
  store_rollback (store);
  return FALSE;
}

void
store_rollback (BangerStore *store)
{
  if (!sqlite3_get_autocommit (store->db))
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

char *
store_column_text (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

char *
store_new_id (void)
{
  return g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
}

gint64
store_now (void)
{
  return g_get_real_time ();
}

gboolean
store_check_path (const char *what, const char *path, gboolean nullable, GError **error)
{
  g_autofree char *quoted = banger_quote (path);

  if (path == NULL && nullable)
    return TRUE;
  if (path == NULL || !g_path_is_absolute (path) || strlen (path) > 4096)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "%s '%s' is not an absolute path", what, quoted);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------ opening */

/* One integer from a "PRAGMA x" or "SELECT" returning one row. */
static gboolean
query_int (sqlite3 *db, const char *path, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  if (rc != SQLITE_OK)
    {
      /* (the statement's error, before finalize clears it) */
      set_db_error (db, path, rc, sql, error);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  return TRUE;
}

static gboolean
is_damage (int rc)
{
  return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

/* The checks made before anything is written: is this a banger store this
 * code can use?  @deep adds PRAGMA quick_check (every page of the file is
 * read).  On refusal the error says what and that nothing was changed. */
static gboolean
check_file (sqlite3 *db, const char *path, int known_version, gboolean deep, GError **error)
{
  g_autofree char *qpath = banger_quote (path);
  g_autoptr (GError) local_error = NULL;
  gint64 app_id = 0, version = 0, n_objects = 0;

  if (!query_int (db, path, "PRAGMA application_id", &app_id, &local_error)
      || !query_int (db, path, "PRAGMA user_version", &version, &local_error)
      || !query_int (db, path, "SELECT count(*) FROM sqlite_schema", &n_objects, &local_error))
    {
      int rc = sqlite3_extended_errcode (db);

      if (is_damage (rc))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "The store '%s' is corrupt or not a SQLite database (%s); it was left "
                       "untouched: move it away to start with an empty store, or restore a copy",
                       qpath, sqlite3_errstr (rc));
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (app_id != BANGER_STORE_APPLICATION_ID && (app_id != 0 || version != 0 || n_objects != 0))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "The file '%s' is a SQLite database but not a banger store (application_id "
                   "0x%08" G_GINT64_MODIFIER "x, user_version %" G_GINT64_FORMAT
                   "); it was left untouched",
                   qpath, app_id, version);
      return FALSE;
    }
  if (version > known_version)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "The store '%s' has schema version %" G_GINT64_FORMAT
                   ", newer than this banger knows (%d): it was written by a newer banger; "
                   "it was left untouched (run that version, or restore a copy)",
                   qpath, version, known_version);
      return FALSE;
    }
  if (deep && n_objects > 0)
    {
      sqlite3_stmt *stmt = NULL;
      int rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check(1)", -1, &stmt, NULL);
      g_autofree char *verdict = NULL;

      if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        verdict = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
      if (verdict == NULL || strcmp (verdict, "ok") != 0)
        {
          g_autofree char *qverdict = banger_quote (verdict != NULL ? verdict : sqlite3_errstr (rc));

          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "The store '%s' is corrupt (SQLite's quick_check: %s); it was left "
                       "untouched: move it away to start with an empty store, or restore a copy",
                       qpath, qverdict);
          return FALSE;
        }
    }
  return TRUE;
}

/* Checks through a read-only, lock-free (immutable) connection, which
 * creates no -wal/-shm file and writes nothing.  That view is exact only
 * while no other connection is open; every banger connection runs in WAL
 * mode, whose -wal file exists as long as one is open, so this is used only
 * when there is no -wal file (and a refusal is re-checked below when one
 * appeared meanwhile). */
static gboolean
check_immutable (const char *path, int known_version, GError **error)
{
  g_autofree char *escaped = g_uri_escape_string (path, "/", FALSE);
  g_autofree char *uri = g_strdup_printf ("file:%s?mode=ro&immutable=1", escaped);
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (uri, &db,
                            SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
                                | SQLITE_OPEN_NOFOLLOW,
                            NULL);
  gboolean ok;

  if (rc != SQLITE_OK)
    {
      set_db_error (db, path, rc, "opening the store to check it", error);
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_extended_result_codes (db, 1);
  ok = check_file (db, path, known_version, TRUE, error);
  sqlite3_close (db);
  return ok;
}

/* Creates @path (0600, not following a link) when absent.  TRUE if it
 * exists afterwards. */
static gboolean
create_if_absent (const char *path, GError **error)
{
  g_autofree char *quoted = banger_quote (path);
  struct stat st;
  int fd;

  if (lstat (path, &st) == 0)
    {
      if (!S_ISREG (st.st_mode))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The store '%s' is not a regular file", quoted);
          return FALSE;
        }
      return TRUE;
    }
  if (errno != ENOENT)
    return banger_set_error_from_errno (error, errno, "Cannot reach the store '%s'", quoted);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0 && errno != EEXIST)
    return banger_set_error_from_errno (error, errno, "Cannot create the store '%s'", quoted);
  if (fd >= 0)
    close (fd);
  return TRUE;
}

static gboolean
wal_exists (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  struct stat st;

  return lstat (wal, &st) == 0;
}

static gboolean
apply_settings (sqlite3 *db, const char *path, gboolean full_sync, GError **error)
{
  g_autofree char *qpath = banger_quote (path);
  sqlite3_stmt *stmt = NULL;
  g_autofree char *mode = NULL;
  int rc;

  /* Foreign keys are per connection and off by default in SQLite. */
  rc = sqlite3_exec (db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return set_db_error (db, path, rc, "PRAGMA foreign_keys", error);
  /* WAL is a property of the file (persistent); asking again is a no-op. */
  rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      mode = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    return set_db_error (db, path, rc, "PRAGMA journal_mode", error);
  if (mode == NULL || g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_autofree char *qmode = banger_quote (mode);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "The store '%s' cannot use write-ahead logging (journal mode stays '%s')",
                   qpath, qmode);
      return FALSE;
    }
  /* FULL: in WAL mode every COMMIT fsyncs the WAL, so a change the call
   * reported is on disk (NORMAL only syncs at checkpoints: consistent, but
   * the last commits can vanish at a power loss). */
  rc = sqlite3_exec (db, full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return set_db_error (db, path, rc, "PRAGMA synchronous", error);
  /* The schema is ours: no functions from it run with side effects. */
  sqlite3_exec (db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
  return TRUE;
}

/* Processes that open one store at the same moment take turns (an
 * advisory flock on the file itself, which SQLite's own POSIX locks ignore):
 * the first one creates the schema, the others then find it done.  Without
 * it, a second opener could meet a half-initialised file and refuse it, or
 * get SQLITE_BUSY from the switch to WAL, which takes no busy handler.  The
 * file is opened read-only and nothing is written.  Bounded by the busy
 * timeout: BANGER_ERROR_BUSY after it. */
static int
lock_for_open (const char *path, GError **error)
{
  g_autofree char *quoted = banger_quote (path);
  gint64 deadline = g_get_monotonic_time () + BANGER_STORE_BUSY_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the store '%s'", quoted), -1;
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int errsv = errno;

      if (errsv == EINTR)
        continue;
      if (errsv != EWOULDBLOCK || g_get_monotonic_time () > deadline)
        {
          close (fd);
          if (errsv == EWOULDBLOCK)
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                         "Another process kept the store '%s' locked while opening it for "
                         "more than %d ms",
                         quoted, BANGER_STORE_BUSY_TIMEOUT_MS);
          else
            banger_set_error_from_errno (error, errsv, "Cannot lock the store '%s'", quoted);
          return -1;
        }
      g_usleep (5 * 1000);
    }
  return fd;
}

static BangerStore *open_locked (const char *path, BangerStoreOpenFlags flags,
                                 const BangerStoreMigration *steps, guint n_steps,
                                 int known_version, GError **error);

BangerStore *
banger_store_open_full (const char *path, BangerStoreOpenFlags flags,
                        const BangerStoreMigration *steps, guint n_steps, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  BangerStore *store;
  int known_version;
  int lock_fd;

  g_return_val_if_fail (steps != NULL && n_steps > 0, NULL);
  known_version = steps[n_steps - 1].version;

  if ((flags & ~BANGER_STORE_OPEN_ALL) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown store open flags 0x%x", (guint) (flags & ~BANGER_STORE_OPEN_ALL));
      return NULL;
    }
  if (path == NULL || !g_path_is_absolute (path))
    {
      g_autofree char *quoted = banger_quote (path);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The store path '%s' is not absolute", quoted);
      return NULL;
    }

  locker = g_mutex_locker_new (&open_lock);
  if (!create_if_absent (path, error))
    return NULL;
  lock_fd = lock_for_open (path, error);
  if (lock_fd < 0)
    return NULL;
  store = open_locked (path, flags, steps, n_steps, known_version, error);
  close (lock_fd); /* releases the flock */
  return store;
}

/* The part of banger_store_open_full() that runs under the open lock. */
static BangerStore *
open_locked (const char *path, BangerStoreOpenFlags flags, const BangerStoreMigration *steps,
             guint n_steps, int known_version, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (BangerStore) store = NULL;
  gboolean checked = FALSE;
  gint64 version = 0;
  sqlite3 *db = NULL;
  int rc;

  if (!wal_exists (path))
    {
      if (check_immutable (path, known_version, &local_error))
        checked = TRUE;
      else if (!wal_exists (path))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      /* else: a connection opened meanwhile; check through a real one */
      g_clear_error (&local_error);
    }

  rc = sqlite3_open_v2 (path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
                            | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (db, path, rc, "opening the store", error);
      sqlite3_close_v2 (db);
      return NULL;
    }
  store = g_new0 (BangerStore, 1);
  store->ref_count = 1;
  g_mutex_init (&store->lock);
  store->db = db;
  store->path = g_strdup (path);
  store->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) sqlite3_finalize);
  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, BANGER_STORE_BUSY_TIMEOUT_MS);

  /* Until the file is accepted, closing must not checkpoint (write) it. */
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  if (!check_file (db, path, known_version, !checked, error))
    return NULL;
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);

  if (!apply_settings (db, path, (flags & BANGER_STORE_OPEN_NO_SYNC) == 0, error))
    return NULL;
  if (!banger_store_migrate (db, path, steps, n_steps, error))
    return NULL;
  if (!query_int (db, path, "PRAGMA user_version", &version, error))
    return NULL;
  store->schema_version = (int) version;
  return g_steal_pointer (&store);
}

BangerStore *
banger_store_open (const char *path, BangerStoreOpenFlags flags, GError **error)
{
  return banger_store_open_full (path, flags, banger_store_migrations,
                                 G_N_ELEMENTS (banger_store_migrations), error);
}

BangerStore *
banger_store_ref (BangerStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_atomic_int_inc (&store->ref_count);
  return store;
}

void
banger_store_unref (BangerStore *store)
{
  if (store == NULL || !g_atomic_int_dec_and_test (&store->ref_count))
    return;
  g_clear_pointer (&store->stmts, g_hash_table_unref);
  sqlite3_close_v2 (store->db);
  g_mutex_clear (&store->lock);
  g_free (store->path);
  g_free (store);
}

const char *
banger_store_get_path (BangerStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->path;
}

int
banger_store_get_schema_version (BangerStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->schema_version;
}

gboolean
banger_store_get_settings (BangerStore *store, char **out_journal_mode, int *out_synchronous,
                           int *out_foreign_keys, int *out_busy_timeout_ms, GError **error)
{
  g_autofree char *mode = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  gint64 sync = 0, fk = 0, busy = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "PRAGMA journal_mode", error);
  if (stmt == NULL || store_step (store, stmt, "PRAGMA journal_mode", error) != SQLITE_ROW)
    return FALSE;
  mode = store_column_text (stmt, 0);
  if (!query_int (store->db, store->path, "PRAGMA synchronous", &sync, error)
      || !query_int (store->db, store->path, "PRAGMA foreign_keys", &fk, error)
      || !query_int (store->db, store->path, "PRAGMA busy_timeout", &busy, error))
    return FALSE;
  if (out_journal_mode != NULL)
    *out_journal_mode = g_steal_pointer (&mode);
  if (out_synchronous != NULL)
    *out_synchronous = (int) sync;
  if (out_foreign_keys != NULL)
    *out_foreign_keys = (int) fk;
  if (out_busy_timeout_ms != NULL)
    *out_busy_timeout_ms = (int) busy;
  return TRUE;
}

gboolean
banger_store_validate_object_name (const char *what, const char *name, GError **error)
{
  g_autofree char *quoted = banger_quote (name);
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > 128 || !g_ascii_isalnum (name[0]))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "%s name '%s' must be 1 to 128 characters starting with a letter or digit",
                   what, quoted);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && strchr ("._-:@/", name[i]) == NULL)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     "%s name '%s' may hold only letters, digits and '._-:@/'", what, quoted);
        return FALSE;
      }
  return TRUE;
}

char *
store_bounded_text (const char *text)
{
  g_autofree char *valid = NULL;
  gsize len;

  if (text == NULL)
    return NULL;
  valid = g_utf8_make_valid (text, -1);
  len = strlen (valid);
  if (len > STORE_TEXT_MAX)
    {
      const char *end = g_utf8_find_prev_char (valid, valid + STORE_TEXT_MAX + 1);

      valid[end - valid] = '\0';
    }
  return g_steal_pointer (&valid);
}
