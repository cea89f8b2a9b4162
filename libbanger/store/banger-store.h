/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The store: banger's durable state in one SQLite file (doc/store.md).
 *
 * One BangerStore is one SQLite connection in WAL mode with
 * synchronous=FULL, busy_timeout and foreign keys on.  Every function takes
 * the store's lock for its whole duration, so a store may be shared by
 * threads; several stores (threads or processes) may open the same file.
 * Calls are short (one statement or one IMMEDIATE transaction) and wait at
 * most the busy timeout for another connection's write lock, so they take
 * no GCancellable: call them from a worker thread when that matters.
 *
 * All SQL of banger lives in this folder.  Internal API for the engine; not
 * exported from libbanger-1.so. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The schema version this code writes and understands (PRAGMA user_version).
 * A file with a higher version is refused (BANGER_ERROR_UNSUPPORTED). */
#define BANGER_STORE_SCHEMA_VERSION 7

/* How long a call waits for another connection's write lock before failing
 * with BANGER_ERROR_BUSY. */
#define BANGER_STORE_BUSY_TIMEOUT_MS 5000

/* The file name of the store inside the daemon's state directory. */
#define BANGER_STORE_FILE_NAME "banger.db"

typedef enum
{
  BANGER_STORE_OPEN_NONE = 0,
  /* Benchmarks and tests only: PRAGMA synchronous=NORMAL instead of FULL
   * (the file stays consistent; the last commits may be lost at power
   * loss).  Never used by the daemon. */
  BANGER_STORE_OPEN_NO_SYNC = 1 << 0,
} BangerStoreOpenFlags;

#define BANGER_STORE_OPEN_ALL (BANGER_STORE_OPEN_NO_SYNC)

typedef struct _BangerStore BangerStore;

/* Opens (creating it, mode 0600, if absent) the store at @path and brings
 * its schema to BANGER_STORE_SCHEMA_VERSION, one transaction per step.
 *
 * Refused, with the file left byte for byte as it was (no write, no
 * checkpoint, no -wal/-shm created when there was none):
 *   - not a SQLite file, a damaged one (PRAGMA quick_check), or another
 *     program's database: BANGER_ERROR_FAILED ("... is corrupt ...",
 *     "... is not a banger store ...");
 *   - a schema newer than this code: BANGER_ERROR_UNSUPPORTED.
 * Also: INVALID_ARGUMENT (unknown @flags, relative @path), NOT_FOUND (the
 * directory does not exist), PERMISSION_DENIED, BUSY (another connection
 * held the write lock past the busy timeout during a migration). */
BangerStore *banger_store_open (const char *path, BangerStoreOpenFlags flags, GError **error);

BangerStore *banger_store_ref (BangerStore *store);
void banger_store_unref (BangerStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStore, banger_store_unref)

const char *banger_store_get_path (BangerStore *store);
/* The schema version of the open file (BANGER_STORE_SCHEMA_VERSION once
 * banger_store_open() returned). */
int banger_store_get_schema_version (BangerStore *store);
/* What the connection runs with, read back from SQLite (for doctor and
 * tests): journal_mode ("wal"), synchronous (2 = FULL), foreign_keys (1),
 * busy_timeout in ms. */
gboolean banger_store_get_settings (BangerStore *store,
                                    char **out_journal_mode,
                                    int *out_synchronous,
                                    int *out_foreign_keys,
                                    int *out_busy_timeout_ms,
                                    GError **error);

/* The rule for image and kernel names: 1 to 128 bytes of ASCII letters,
 * digits and "._-:@/", starting with a letter or digit (an OCI reference
 * fits).  INVALID_ARGUMENT otherwise; @what ("image", "kernel") starts the
 * message. */
gboolean banger_store_validate_object_name (const char *what, const char *name, GError **error);

G_END_DECLS

#include "banger-store-image.h"
#include "banger-store-kernel.h"
#include "banger-store-vm.h"
#include "banger-store-lease.h"
#include "banger-store-tap.h"
#include "banger-store-op.h"
#include "banger-store-snapshot.h"
