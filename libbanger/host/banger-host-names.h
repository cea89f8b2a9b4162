/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every host object banger makes is named from the VM id, so that the helper
 * (and the daemon after a crash) can find it again and can tell it is
 * banger's.  doc/host.md lists the names. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Taps: "bngt" + 11 hex digits of SHA-256(vm_id) = 15 bytes (IFNAMSIZ - 1). */
#define BANGER_TAP_PREFIX "bngt"
/* Device-mapper names and UUIDs, loop device tags, cgroup scopes. */
#define BANGER_HOST_PREFIX "banger-"

/* All of these validate @vm_id with banger_validate_vm_name() first.  The
 * _for variants mix the install's id (install config `install-id`,
 * [a-z0-9]{1,8}; NULL for none) into the name, so that two installs on one
 * host derive different names for the same VM id; the plain ones are the
 * _for variants with NULL. */
char *banger_host_tap_name (const char *vm_id, GError **error);
/* "bngt" + 11 hex of SHA-256("<install_id>/<vm_id>") */
char *banger_host_tap_name_for (const char *install_id, const char *vm_id, GError **error);
/* "banger-<vm_id>-<role>" (role: "rootfs"): the dm name; the dm UUID is the
 * same string with "-<hash>" appended (hash: first 16 hex of SHA-256(vm_id)). */
char *banger_host_dm_name (const char *vm_id, const char *role, GError **error);
char *banger_host_dm_uuid (const char *vm_id, const char *role, GError **error);
/* "banger-<install_id>-<vm_id>-<role>" (+ "-<hash>" for the UUID). */
char *banger_host_dm_name_for (const char *install_id, const char *vm_id, const char *role,
                               GError **error);
char *banger_host_dm_uuid_for (const char *install_id, const char *vm_id, const char *role,
                               GError **error);
/* The lo_file_name tag of a loop device banger attaches: "banger-<hash16>-<role>"
 * (fits the 64-byte field whatever the VM id). */
char *banger_host_loop_tag (const char *vm_id, const char *role, GError **error);
char *banger_host_loop_tag_for (const char *install_id, const char *vm_id, const char *role,
                                GError **error);
/* "banger-<vm_id>.scope": the VM's cgroup under banger.slice. */
char *banger_host_scope_name (const char *vm_id, GError **error);
/* The inverse, for adoption: the vm id of "banger-<vm_id>.scope", or NULL if
 * @name is not exactly that shape with a valid VM name. */
char *banger_host_scope_vm_id (const char *name);
/* The nftables set-element comment that marks a VM's NAT entry. */
char *banger_host_nft_comment (const char *vm_id, GError **error);

/* The ownership marker of what banger makes: "banger:<install_id|->:<what>".
 * Set as the ifalias of taps ("tap:<vm_id>") and bridges ("bridge"), and as
 * the comment of banger's nftables table ("nat"); the helper touches an
 * existing object only when it carries this install's marker. */
char *banger_host_marker (const char *install_id, const char *what);
char *banger_host_tap_marker (const char *install_id, const char *vm_id);

G_END_DECLS
