/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.status {}: the helper's version and what this host can do, for
 * `banger doctor`.  Read-only: it opens devices and asks, it changes nothing.
 * It runs CONCURRENT (banger-priv-op.h): next to a launch or a cleanup, never
 * behind one, and cheap enough to answer root within 100 ms under load. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-cgroup.h"
#include "banger-dm.h"
#include "banger-kvm-probe.h"
#include "banger-nft.h"
#include "banger-priv-ops-private.h"

const BangerParamSpec banger_op_status_params[] = {
  { NULL },
};

static gboolean
executable_root_owned (const char *path)
{
  struct stat st;

  return path != NULL && stat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == 0
         && (st.st_mode & 0111) != 0 && (st.st_mode & 0022) == 0;
}

/* Can the owner open /dev/net/tun itself?  Direct Firecracker opens its tap
 * by name and needs this; QEMU gets its tap as an fd from the helper and
 * the jailer makes its own device node in the jail. */
static gboolean
tun_open_to (uid_t uid, gid_t gid)
{
  struct stat st;

  if (stat ("/dev/net/tun", &st) < 0 || !S_ISCHR (st.st_mode))
    return FALSE;
  if (st.st_uid == uid)
    return (st.st_mode & 0600) == 0600;
  if (st.st_gid == gid)
    return (st.st_mode & 0060) == 0060;
  return (st.st_mode & 0006) == 0006;
}

/* Root's status must be prompt, and some of the questions are slow under
 * load: nftables (a netlink dump, tens of milliseconds while other operations
 * change the ruleset), cgroup2 (a read of /proc/self/mountinfo, as slow while
 * cgroups are made and removed).  A yes is remembered — none of these goes away under a running
 * helper —, a no is asked again. */
static gboolean
remember_yes (gint *known, gboolean yes)
{
  if (yes)
    g_atomic_int_set (known, 1);
  return yes;
}

static gboolean
nft_usable (void)
{
  static gint known;
  return g_atomic_int_get (&known) || remember_yes (&known, banger_nft_available ());
}

static gboolean
cgroup2_mounted (void)
{
  static gint known;
  g_autofree char *mount = NULL;

  if (g_atomic_int_get (&known))
    return TRUE;
  mount = banger_cgroup2_find_mount (NULL, NULL);
  return remember_yes (&known, mount != NULL);
}

gboolean
banger_op_status (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                  JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  /* The one KVM answer (launch/banger-kvm-probe.c), as far as it is known
   * without a probe: root's status must stay prompt, and the boot probe
   * takes up to 5 s.  The cached answer of the last probe with the helper's
   * QEMU (root's cache dir), else absent/untested with a detail saying no
   * probe has run yet; the probe runs where a launch or doctor needs it. */
  const BangerKvmHost host = { .qemu_binary = state->qemu_path };
  g_autoptr (BangerKvmAnswer) kvm = banger_kvm_probe_cached (&host);
  guint n_vmms;

  g_mutex_lock (&state->lock);
  n_vmms = g_hash_table_size (banger_priv_state_vmms_locked (state));
  g_mutex_unlock (&state->lock);

  banger_priv_result_string (result, "version", PACKAGE_VERSION);
  banger_priv_result_bool (result, "kvm", kvm->state == BANGER_KVM_USABLE);
  banger_priv_result_string (result, "kvm_state", banger_kvm_state_to_string (kvm->state));
  banger_priv_result_string (result, "kvm_detail", kvm->detail);
  banger_priv_result_bool (result, "device_mapper", banger_dm_available (state, NULL));
  banger_priv_result_bool (result, "nftables", nft_usable ());
  banger_priv_result_bool (result, "tun", access ("/dev/net/tun", R_OK | W_OK) == 0);
  banger_priv_result_bool (result, "tun_owner", tun_open_to (state->owner_uid, state->owner_gid));
  banger_priv_result_bool (result, "cgroup2", cgroup2_mounted ());
  banger_priv_result_bool (result, "firecracker", executable_root_owned (state->firecracker_path));
  banger_priv_result_bool (result, "jailer", executable_root_owned (state->jailer_path));
  banger_priv_result_bool (result, "qemu", executable_root_owned (state->qemu_path));
  banger_priv_result_int (result, "vmms", n_vmms);
  return TRUE;
}
