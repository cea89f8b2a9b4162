/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * IP leases (IPAM): IPv4 host addresses handed to VMs out of a subnet, at
 * most one VM per address and one address per VM and subnet (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

typedef struct
{
  char *subnet;  /* canonical "a.b.c.d/n" */
  char *address; /* dotted quad */
  char *vm_id;
  gint64 created_at;
} BangerStoreLease;

BangerStoreLease *banger_store_lease_copy (const BangerStoreLease *lease);
void banger_store_lease_free (BangerStoreLease *lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreLease, banger_store_lease_free)

/* Leases the lowest free host address of @subnet ("a.b.c.d/n", IPv4, n from
 * 8 to 30, host bits zero) to VM @vm_id, in one IMMEDIATE transaction (so
 * concurrent allocators, in threads or processes, never get the same one).
 * The network address, the first host address (the host side: gateway) and
 * the broadcast address are never leased.
 * INVALID_ARGUMENT for a bad subnet, NOT_FOUND when the VM does not exist,
 * ALREADY_EXISTS when it already holds a lease in @subnet, LIMIT_EXCEEDED
 * when the subnet is full. */
BangerStoreLease *banger_store_lease_allocate (BangerStore *store, const char *subnet,
                                               const char *vm_id, GError **error);
/* Frees @address of @subnet.  NOT_FOUND when it was not leased. */
gboolean banger_store_lease_release (BangerStore *store, const char *subnet,
                                     const char *address, GError **error);
/* Frees every lease of VM @vm_id; @out_n_released (optional) says how many
 * (0 is not an error). */
gboolean banger_store_lease_release_for_vm (BangerStore *store, const char *vm_id,
                                            guint *out_n_released, GError **error);
/* The lease of @vm_id in @subnet; NOT_FOUND when it holds none. */
BangerStoreLease *banger_store_lease_get_for_vm (BangerStore *store, const char *subnet,
                                                 const char *vm_id, GError **error);
/* Leases of @subnet (every subnet when NULL), by subnet and address. */
GPtrArray *banger_store_lease_list (BangerStore *store, const char *subnet, GError **error);

/* Parses @cidr into network address and prefix length (host byte order),
 * with the rules of banger_store_lease_allocate(); the canonical text in
 * @out_canonical (optional). */
gboolean banger_store_parse_subnet (const char *cidr, guint32 *out_network, guint *out_prefix,
                                    char **out_canonical, GError **error);

G_END_DECLS
