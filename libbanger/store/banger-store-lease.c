/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * IP leases (the ip_leases table): addresses are stored as integers (host
 * byte order) so that "the lowest free one" is one indexed query. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "banger-quote.h"
#include "banger-ipv4.h"
#include "banger-store-private.h"

#define LEASE_COLUMNS "subnet, address, vm_id, created_at"

char *
store_address_to_string (guint32 address)
{
  return g_strdup_printf ("%u.%u.%u.%u", address >> 24, (address >> 16) & 0xff,
                          (address >> 8) & 0xff, address & 0xff);
}

gboolean
banger_store_parse_subnet (const char *cidr, guint32 *out_network, guint *out_prefix,
                           char **out_canonical, GError **error)
{
  g_autofree char *quoted = banger_quote (cidr);
  guint prefix = 0;
  guint32 network = 0, mask;

  if (!banger_ipv4_parse_cidr (cidr, &network, &prefix) || prefix < 8 || prefix > 30)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Subnet '%s' is not an IPv4 CIDR such as 172.30.0.0/24 (prefix 8 to 30)",
                   quoted);
      return FALSE;
    }
  mask = 0xffffffffu << (32 - prefix);
  if ((network & ~mask) != 0)
    {
      g_autofree char *fixed = store_address_to_string (network & mask);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Subnet '%s' has host bits set (did you mean %s/%u?)", quoted, fixed,
                   (guint) prefix);
      return FALSE;
    }
  if (out_network != NULL)
    *out_network = network;
  if (out_prefix != NULL)
    *out_prefix = (guint) prefix;
  if (out_canonical != NULL)
    {
      g_autofree char *text = store_address_to_string (network);

      *out_canonical = g_strdup_printf ("%s/%u", text, (guint) prefix);
    }
  return TRUE;
}

BangerStoreLease *
banger_store_lease_copy (const BangerStoreLease *lease)
{
  BangerStoreLease *copy;

  g_return_val_if_fail (lease != NULL, NULL);
  copy = g_new0 (BangerStoreLease, 1);
  copy->subnet = g_strdup (lease->subnet);
  copy->address = g_strdup (lease->address);
  copy->vm_id = g_strdup (lease->vm_id);
  copy->created_at = lease->created_at;
  return copy;
}

void
banger_store_lease_free (BangerStoreLease *lease)
{
  if (lease == NULL)
    return;
  g_free (lease->subnet);
  g_free (lease->address);
  g_free (lease->vm_id);
  g_free (lease);
}

static BangerStoreLease *
lease_from_row (sqlite3_stmt *stmt)
{
  BangerStoreLease *lease = g_new0 (BangerStoreLease, 1);

  lease->subnet = store_column_text (stmt, 0);
  lease->address = store_address_to_string ((guint32) sqlite3_column_int64 (stmt, 1));
  lease->vm_id = store_column_text (stmt, 2);
  lease->created_at = sqlite3_column_int64 (stmt, 3);
  return lease;
}

/* -1 on error, else 0/1: whether VM @vm_id exists. */
static int
vm_exists (BangerStore *store, const char *vm_id, GError **error)
{
  g_auto (StoreStmt) stmt = store_stmt (store, "SELECT EXISTS (SELECT 1 FROM vms WHERE id = ?1)",
                                        error);

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  if (store_step (store, stmt, "Reading a VM", error) != SQLITE_ROW)
    return -1;
  return sqlite3_column_int (stmt, 0) != 0;
}

static BangerStoreLease *
lease_get_locked (BangerStore *store, const char *subnet, const char *vm_id, GError **error)
{
  g_auto (StoreStmt) stmt = store_stmt (store,
                                        "SELECT " LEASE_COLUMNS " FROM ip_leases "
                                        "WHERE vm_id = ?1 AND subnet = ?2",
                                        error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, subnet, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a lease", error);
  if (rc == SQLITE_ROW)
    return lease_from_row (stmt);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *qvm = banger_quote (vm_id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "VM '%s' holds no lease in %s", qvm, subnet);
    }
  return NULL;
}

/* Inside the transaction of banger_store_lease_allocate(). */
static BangerStoreLease *
allocate_locked (BangerStore *store, const char *subnet, guint32 lo, guint32 hi,
                 const char *vm_id, GError **error)
{
  g_autofree char *qvm = banger_quote (vm_id);
  g_autoptr (BangerStoreLease) lease = NULL;
  g_autoptr (GError) local_error = NULL;
  guint32 address;
  int exists;

  exists = vm_exists (store, vm_id, error);
  if (exists < 0)
    return NULL;
  if (exists == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", qvm);
      return NULL;
    }
  lease = lease_get_locked (store, subnet, vm_id, &local_error);
  if (lease != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "VM '%s' already holds %s in %s", qvm, lease->address, subnet);
      return NULL;
    }
  if (!g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  {
    /* The lowest free address is @lo or right after a leased one. */
    g_auto (StoreStmt) stmt = store_stmt (
        store,
        "SELECT c FROM (SELECT ?2 AS c UNION ALL "
        "               SELECT address + 1 FROM ip_leases "
        "               WHERE subnet = ?1 AND address >= ?2 AND address < ?3) "
        "WHERE NOT EXISTS (SELECT 1 FROM ip_leases WHERE subnet = ?1 AND address = c) "
        "ORDER BY c LIMIT 1",
        error);
    int rc;

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, subnet, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, lo);
    sqlite3_bind_int64 (stmt, 3, hi);
    rc = store_step (store, stmt, "Finding a free address", error);
    if (rc == 0)
      return NULL;
    if (rc == SQLITE_DONE)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                     "Subnet %s has no free address left (all %u are leased)", subnet, hi - lo + 1);
        return NULL;
      }
    address = (guint32) sqlite3_column_int64 (stmt, 0);
  }
  lease = g_new0 (BangerStoreLease, 1);
  lease->subnet = g_strdup (subnet);
  lease->address = store_address_to_string (address);
  lease->vm_id = g_strdup (vm_id);
  lease->created_at = store_now ();
  {
    g_auto (StoreStmt) stmt = store_stmt (store,
                                          "INSERT INTO ip_leases (" LEASE_COLUMNS ") "
                                          "VALUES (?1, ?2, ?3, ?4)",
                                          error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, subnet, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, address);
    sqlite3_bind_text (stmt, 3, vm_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, lease->created_at);
    if (!store_exec_stmt (store, stmt, "Recording a lease", error))
      return NULL;
  }
  return g_steal_pointer (&lease);
}

BangerStoreLease *
banger_store_lease_allocate (BangerStore *store, const char *subnet, const char *vm_id,
                             GError **error)
{
  g_autofree char *canonical = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (BangerStoreLease) lease = NULL;
  guint32 network;
  guint prefix;

  g_return_val_if_fail (store != NULL && vm_id != NULL, NULL);
  if (!banger_store_parse_subnet (subnet, &network, &prefix, &canonical, error))
    return NULL;
  locker = store_lock (store);
  if (!store_begin (store, error))
    return NULL;
  /* network + 1 is the host side; the broadcast address is never a host */
  lease = allocate_locked (store, canonical, network + 2, (network | ~(0xffffffffu << (32 - prefix))) - 1,
                           vm_id, error);
  if (lease == NULL)
    {
      store_rollback (store);
      return NULL;
    }
  if (!store_commit (store, error))
    return NULL;
  return g_steal_pointer (&lease);
}

gboolean
banger_store_lease_release (BangerStore *store, const char *subnet, const char *address,
                            GError **error)
{
  g_autofree char *canonical = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  guint32 addr;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!banger_store_parse_subnet (subnet, NULL, NULL, &canonical, error))
    return FALSE;
  if (!banger_ipv4_parse_address (address, &addr))
    {
      g_autofree char *quoted = banger_quote (address);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IPv4 address", quoted);
      return FALSE;
    }
  locker = store_lock (store);
  stmt = store_stmt (store, "DELETE FROM ip_leases WHERE subnet = ?1 AND address = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, canonical, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, addr);
  if (!store_exec_stmt (store, stmt, "Releasing a lease", error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_autofree char *quoted = banger_quote (address);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "%s is not leased in %s", quoted,
                   canonical);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_store_lease_release_for_vm (BangerStore *store, const char *vm_id, guint *out_n_released,
                                   GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && vm_id != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "DELETE FROM ip_leases WHERE vm_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  if (!store_exec_stmt (store, stmt, "Releasing a VM's leases", error))
    return FALSE;
  if (out_n_released != NULL)
    *out_n_released = (guint) sqlite3_changes (store->db);
  return TRUE;
}

BangerStoreLease *
banger_store_lease_get_for_vm (BangerStore *store, const char *subnet, const char *vm_id,
                               GError **error)
{
  g_autofree char *canonical = NULL;
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (store != NULL && vm_id != NULL, NULL);
  if (!banger_store_parse_subnet (subnet, NULL, NULL, &canonical, error))
    return NULL;
  locker = store_lock (store);
  return lease_get_locked (store, canonical, vm_id, error);
}

GPtrArray *
banger_store_lease_list (BangerStore *store, const char *subnet, GError **error)
{
  g_autoptr (GPtrArray) leases = g_ptr_array_new_with_free_func (
      (GDestroyNotify) banger_store_lease_free);
  g_autofree char *canonical = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  if (subnet != NULL && !banger_store_parse_subnet (subnet, NULL, NULL, &canonical, error))
    return NULL;
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "SELECT " LEASE_COLUMNS " FROM ip_leases "
                     "WHERE ?1 IS NULL OR subnet = ?1 ORDER BY subnet, address",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, canonical, -1, SQLITE_STATIC);
  while ((rc = store_step (store, stmt, "Listing leases", error)) == SQLITE_ROW)
    g_ptr_array_add (leases, lease_from_row (stmt));
  return rc == SQLITE_DONE ? g_steal_pointer (&leases) : NULL;
}
