/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the store's own files share: the connection, the statement cache,
 * transactions and the mapping of SQLite result codes to BANGER_ERROR.
 * Nothing outside libbanger/store/ includes this. */
#pragma once

#include <sqlite3.h>

#include "banger-error.h"
#include "banger-store.h"

G_BEGIN_DECLS

/* PRAGMA application_id of a banger store: "BANG". */
#define BANGER_STORE_APPLICATION_ID 0x42414E47

struct _BangerStore
{
  gint ref_count;
  GMutex lock; /* held for the whole of every public call */
  sqlite3 *db;
  char *path;
  int schema_version;
  GHashTable *stmts; /* SQL text (static) -> prepared sqlite3_stmt*, owned */
  BangerStoreVmChangedFunc vm_changed; /* set once, before sharing (banger-store-vm.h) */
  gpointer vm_changed_data;
};

/* Takes @store's lock; hold the result in a g_autoptr (GMutexLocker)
 * declared before any g_auto (StoreStmt), so that the statement is reset
 * while the lock is still held. */
static inline GMutexLocker *
store_lock (BangerStore *store)
{
  return g_mutex_locker_new (&store->lock);
}

/* A cached prepared statement for @sql (a string literal: the cache is keyed
 * by its text).  Release it with store_stmt_release(), or hold it in a
 * g_auto(StoreStmt), which resets it and clears its bindings. */
typedef sqlite3_stmt *StoreStmt;
sqlite3_stmt *store_stmt (BangerStore *store, const char *sql, GError **error);
void store_stmt_release (sqlite3_stmt *stmt);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (StoreStmt, store_stmt_release, NULL)

/* sqlite3_step() of @stmt: SQLITE_ROW or SQLITE_DONE, or 0 with @error set
 * (mapped by store_set_error(), prefixed with @what). */
int store_step (BangerStore *store, sqlite3_stmt *stmt, const char *what, GError **error);
/* Runs @stmt to completion (it must return no rows). */
gboolean store_exec_stmt (BangerStore *store, sqlite3_stmt *stmt, const char *what,
                          GError **error);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout,
 * so a read-then-write transaction can never fail half-way on a lock), COMMIT
 * and ROLLBACK (which never fails the caller). */
gboolean store_begin (BangerStore *store, GError **error);
gboolean store_commit (BangerStore *store, GError **error);
void store_rollback (BangerStore *store);

/* The BANGER_ERROR code for a SQLite (extended) result code. */
BangerError store_error_code (int rc);
/* Sets @error from the connection's last error: "<what>: <sqlite message>".
 * Returns FALSE. */
gboolean store_set_error (BangerStore *store, int rc, const char *what, GError **error);

/* A foreign-key refusal: SQLITE_CONSTRAINT_FOREIGNKEY, or, for ON DELETE
 * RESTRICT, SQLITE_CONSTRAINT_TRIGGER (the schema has no triggers). */
static inline gboolean
store_is_fk_violation (int rc)
{
  return rc == SQLITE_CONSTRAINT_FOREIGNKEY || rc == SQLITE_CONSTRAINT_TRIGGER;
}

/* Column helpers: a copy of a text column, or NULL for SQL NULL. */
char *store_column_text (sqlite3_stmt *stmt, int col);

/* 16 random lowercase hex digits (an id; also a valid DNS label). */
char *store_new_id (void);
/* unix time in microseconds. */
gint64 store_now (void);

/* A message to record (an error text): valid UTF-8, cut to at most
 * STORE_TEXT_MAX bytes on a character boundary.  NULL stays NULL. */
#define STORE_TEXT_MAX 4096
char *store_bounded_text (const char *text);

/* An IPv4 address (host byte order) as a dotted quad. */
char *store_address_to_string (guint32 address);

/* "path must be absolute" style checks for the records. */
gboolean store_check_path (const char *what, const char *path, gboolean nullable,
                           GError **error);

/* Rows of the record tables (banger-store-row.c).  A StoreRowFunc makes a
 * record from the current row of a statement, or returns NULL with @error
 * set. */
typedef gpointer (*StoreRowFunc) (BangerStore *store, sqlite3_stmt *stmt, GError **error);

/* Steps an INSERT of a named row whose statement is bound: a duplicate name
 * is BANGER_ERROR_ALREADY_EXISTS "<a_noun> named '<name>' already exists",
 * another failure "<what>: <sqlite message>".  Caller holds the lock. */
gboolean store_row_insert (BangerStore *store, sqlite3_stmt *stmt, const char *a_noun,
                           const char *name, const char *what, GError **error);
/* Takes the lock, runs @sql with ?1 = @key: the record of its first row, or
 * NULL with "<reading>: ...", NOT_FOUND "No <noun> <how> '<key>'" or
 * @from_row's error. */
gpointer store_row_get (BangerStore *store, const char *sql, const char *key,
                        StoreRowFunc from_row, const char *reading, const char *noun,
                        const char *how, GError **error);
/* Takes the lock, runs @sql: an array of its rows' records (freed with
 * @free_row), or NULL with "<what>: ..." or the first error of @from_row. */
GPtrArray *store_row_list (BangerStore *store, const char *sql, StoreRowFunc from_row,
                           GDestroyNotify free_row, const char *what, GError **error);

/* A DELETE of one row by a key (?1) and its messages. */
typedef struct
{
  const char *sql;      /* "DELETE FROM ... WHERE ... = ?1" */
  const char *noun;     /* BUSY (a foreign key refers to the row): */
  const char *in_use;   /*   "<noun> '<key>' <in_use>" */
  const char *deleting; /* other failures: "<deleting>: <sqlite message>" */
  const char *missing;  /* no such row: NOT_FOUND "No <missing> '<key>'" */
} StoreRowDelete;

/* Takes the lock and deletes the row: see StoreRowDelete. */
gboolean store_row_delete (BangerStore *store, const StoreRowDelete *row, const char *key,
                           GError **error);

/* Opening a store at an older schema version, or with another table of
 * migration steps: for the tests of the migrations only. */
typedef struct
{
  int version;             /* 1, 2, ...: the user_version after this step */
  const char *description; /* recorded in schema_migrations */
  const char *sql;         /* one or more statements */
  /* The step rebuilds a table that others refer to (SQLite's documented
   * 12-step ALTER): it runs with foreign_keys OFF around its transaction
   * and must leave PRAGMA foreign_key_check empty (checked in it). */
  gboolean rebuilds_tables;
} BangerStoreMigration;

extern const BangerStoreMigration banger_store_migrations[BANGER_STORE_SCHEMA_VERSION];

BangerStore *banger_store_open_full (const char *path, BangerStoreOpenFlags flags,
                                     const BangerStoreMigration *steps, guint n_steps,
                                     GError **error);
/* Applies @steps whose version is above the file's, one transaction each;
 * stops at the first failure (that step is rolled back; earlier ones stay). */
gboolean banger_store_migrate (sqlite3 *db, const char *path, const BangerStoreMigration *steps,
                               guint n_steps, GError **error);

G_END_DECLS
