/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The VM service: the create/start step runner and stop, kill, delete,
 * set, get, list, exec (see banger-engine.h, doc/engine.md). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cow-disk.h"
#include "banger-engine-adopted.h"
#include "banger-engine-private.h"
#include "banger-engine-ssh.h"
#include "banger-engine-workspace.h"
#include "banger-engine-reach.h"
#include "banger-store-vm-reach.h"
#include "banger-error.h"
#include "banger-guest-exec.h"
#include "banger-guest-inject.h"
#include "banger-guest-ssh.h"
#include "banger-guest-wait.h"
#include "banger-names.h"
#include "banger-pidfd.h"
#include "banger-proc-identity.h"
#include "banger-store.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-qemu.h"
#include "banger-work-disk.h"

#define VM_MEMORY_MIB_DEFAULT 256
#define VM_STOP_TIMEOUT_S 15

/* Everything one create or start works on. */
typedef struct
{
  BangerEngine *engine;
  const char *op_id;
  GCancellable *cancellable;
  BangerStoreVm *vm;
  BangerStoreImage *image;
  BangerStoreKernel *kernel;
  char *dir; /* <state>/vms/<id> */
  char *rootfs;
  char *rootfs_device; /* dm-snapshot: the VM's device over the image, while it exists */
  char *work; /* nullable */
  char *known_hosts;
  char *ip; /* the guest's, from its lease */
  char *gateway;
  char *netmask;
  guint prefix;
  char *tap;
  /* progress events: the operation's kind, steps run before this
   * run_steps() and the operation's whole count */
  const char *kind;
  guint steps_done;
  guint steps_total;
  char *ws_host;  /* create with a workspace: the canonical host dir */
  char *ws_guest; /* and the guest dir */
  char *seed;                         /* the seed disk (doc/guest.md) */
  const BangerEngineRestore *restore; /* nullable: a VM made from a snapshot */
} VmCtx;

static void
vm_ctx_clear (VmCtx *c)
{
  g_clear_pointer (&c->vm, banger_store_vm_free);
  g_clear_pointer (&c->image, banger_store_image_free);
  g_clear_pointer (&c->kernel, banger_store_kernel_free);
  g_free (c->dir);
  g_free (c->rootfs);
  g_free (c->rootfs_device);
  g_free (c->work);
  g_free (c->known_hosts);
  g_free (c->ip);
  g_free (c->gateway);
  g_free (c->netmask);
  g_free (c->tap);
  g_free (c->ws_host);
  g_free (c->ws_guest);
  g_free (c->seed);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VmCtx, vm_ctx_clear)

/* The paths of @c->vm. */
static void
vm_ctx_paths (VmCtx *c)
{
  c->dir = g_build_filename (c->engine->vms_dir, c->vm->id, NULL);
  c->rootfs = g_build_filename (c->dir, "rootfs.ext4", NULL);
  if (c->vm->work_disk_bytes > 0)
    c->work = g_build_filename (c->dir, "work.ext4", NULL);
  c->known_hosts = g_build_filename (c->dir, "known_hosts", NULL);
  c->seed = g_build_filename (c->dir, "seed.img", NULL);
}

static JsonObject *
priv_call (VmCtx *c, const char *method, JsonObject *params, GError **error)
{
  return banger_priv_backend_call (c->engine->backend, method, params, c->op_id, c->cancellable,
                                   error);
}

static JsonObject *
vm_id_params (const char *vm_id)
{
  JsonObject *p = json_object_new ();
  json_object_set_string_member (p, "vm_id", vm_id);
  return p;
}

/* ------------------------------------------------------------ the steps */

typedef struct
{
  const char *name;
  gboolean (*run) (VmCtx *c, GError **error);
  void (*undo) (VmCtx *c); /* nullable; also called for the step that failed */
} Step;

static gboolean
step_rootfs (VmCtx *c, GError **error)
{
  BangerCowStrategy strategy;
  g_autofree char *detail = NULL;
  BangerStoreRootfsCow cow;

  if (g_mkdir (c->dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", c->dir,
                   g_strerror (errno));
      return FALSE;
    }
  /* dm-snapshot where the privileged backend has device-mapper, else
   * reflink, else a sparse copy (doc/disks.md, "The chooser") */
  /* (a jailed Firecracker gets its disks hard-linked into the jail: files,
   * never a device-mapper device) */
  if (!banger_cow_choose (c->dir, c->image->rootfs_path,
                          banger_engine_dm_usable (c->engine)
                                  && !(c->vm->vmm == BANGER_STORE_VMM_FIRECRACKER
                                       && c->engine->config->jailer_path != NULL)
                              ? BANGER_COW_CHOOSE_DM_USABLE
                              : BANGER_COW_CHOOSE_NONE,
                          &strategy, &detail, error))
    return FALSE;
  banger_engine_log (c->op_id, "rootfs of %s: %s (%s)", c->vm->name,
                     banger_cow_strategy_to_string (strategy), detail ? detail : "");
  if (!banger_cow_disk_create (strategy, c->image->rootfs_path, c->rootfs, BANGER_COW_CREATE_NONE,
                               banger_engine_step_bytes_func, NULL, NULL, c->cancellable, error))
    return FALSE;
  /* (by name: the store's enum has "auto" at 0) */
  if (!banger_store_rootfs_cow_from_string (banger_cow_strategy_to_string (strategy), &cow))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Unknown root disk strategy %d",
                   (int) strategy);
      return FALSE;
    }
  c->vm->rootfs_cow = cow;
  if (strategy == BANGER_COW_STRATEGY_DM_SNAPSHOT)
    {
      /* recorded first: the undo (and a reconcile) knows there may be a
       * device to remove */
      if (!banger_store_vm_update_spec (c->engine->store, c->vm, -1, error))
        return FALSE;
      c->rootfs_device = banger_engine_rootfs_attach (c->engine, c->vm->id, c->image->rootfs_path,
                                                      c->rootfs, c->op_id, c->cancellable, error);
      return c->rootfs_device != NULL;
    }
  return banger_store_vm_update_spec (c->engine->store, c->vm, -1, error);
}

static void
undo_rootfs (VmCtx *c)
{
  g_autoptr (GError) local = NULL;

  if (c->vm->rootfs_cow == BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT)
    {
      banger_engine_rootfs_detach (c->engine, c->vm->id, c->op_id);
      g_clear_pointer (&c->rootfs_device, g_free);
    }

  if (!banger_engine_remove_tree (c->dir, &local))
    banger_engine_log (c->op_id, "undo rootfs: %s", local->message);
}

static gboolean
step_work_disk (VmCtx *c, GError **error)
{
  if (c->work == NULL)
    return TRUE;
  return banger_work_disk_create (c->work, c->vm->work_disk_bytes, BANGER_WORK_DISK_NONE,
                                  c->cancellable, error);
}

static gboolean
step_inject_key (VmCtx *c, GError **error)
{
  /* dm-snapshot: into the VM's device (its own layer), never the image */
  return banger_guest_inject_authorized_key (
      c->rootfs_device ? c->rootfs_device : c->rootfs, banger_guest_key_get_public_line (c->engine->key), c->cancellable, error);
}

static gboolean
load_network (VmCtx *c, BangerStoreLease *lease, GError **error)
{
  guint32 network, mask;
  struct in_addr a;
  char buf[INET_ADDRSTRLEN];

  if (!banger_store_parse_subnet (c->engine->config->subnet, &network, &c->prefix, NULL, error))
    return FALSE;
  g_free (c->ip);
  c->ip = g_strdup (lease->address);
  a.s_addr = htonl (network + 1);
  g_free (c->gateway);
  c->gateway = g_strdup (inet_ntop (AF_INET, &a, buf, sizeof buf));
  mask = c->prefix == 0 ? 0 : 0xffffffffu << (32 - c->prefix);
  a.s_addr = htonl (mask);
  g_free (c->netmask);
  c->netmask = g_strdup (inet_ntop (AF_INET, &a, buf, sizeof buf));
  return TRUE;
}

static gboolean
step_lease (VmCtx *c, GError **error)
{
  g_autoptr (BangerStoreLease) lease
      = banger_store_lease_allocate (c->engine->store, c->engine->config->subnet, c->vm->id, error);

  return lease != NULL && load_network (c, lease, error);
}

static void
undo_lease (VmCtx *c)
{
  banger_store_lease_release_for_vm (c->engine->store, c->vm->id, NULL, NULL);
}

/* start: the lease the VM keeps across stop/start */
static gboolean
step_load_lease (VmCtx *c, GError **error)
{
  g_autoptr (BangerStoreLease) lease = banger_store_lease_get_for_vm (
      c->engine->store, c->engine->config->subnet, c->vm->id, error);

  return lease != NULL && load_network (c, lease, error);
}

/* The bridge, and with it the DNS responder on its address
 * (banger-engine-reach.c). */
static gboolean
ensure_bridge (VmCtx *c, GError **error)
{
  return banger_engine_reach_network_up (c->engine, c->op_id, error);
}

/* A permanent neighbour entry on the bridge: guest address -> the VM's MAC
 * (the helper derives it from the id; a restored guest takes the same MAC
 * from its seed).  Without it the SSH wait's SYNs to a guest whose network
 * is not up yet queue behind ARP resolution (3 probes 1 s apart, then the
 * connect fails); with it each SYN leaves at once, and the wait's fresh
 * connect every 250 ms (banger-guest-wait.c) reaches the guest within one
 * interval once its network is up.  Only a speed-up: a failure is logged.
 * priv.cleanup_vm removes it. */
static void
set_neighbour (VmCtx *c)
{
  g_autoptr (JsonObject) p = vm_id_params (c->vm->id);
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;

  if (c->ip == NULL)
    return;
  json_object_set_string_member (p, "bridge", BANGER_ENGINE_BRIDGE);
  json_object_set_string_member (p, "guest_ip", c->ip);
  r = banger_priv_backend_call (c->engine->backend, "priv.neigh_set", p, c->op_id, NULL, &local);
  if (r == NULL)
    banger_engine_log (c->op_id, "neighbour entry for %s: %s", c->ip, local->message);
}

static gboolean
step_tap (VmCtx *c, GError **error)
{
  g_autoptr (JsonObject) p = vm_id_params (c->vm->id);
  g_autoptr (JsonObject) r = NULL;

  g_autoptr (GError) pool_error = NULL;

  if (!ensure_bridge (c, error))
    return FALSE;
  /* from the pool when it has one (doc/engine.md, "The tap pool"), else
   * made for the VM */
  g_free (c->tap);
  c->tap = c->engine->tap_pool == NULL
               ? NULL
               : banger_tap_pool_take (c->engine->tap_pool, c->vm->id, c->op_id, c->cancellable,
                                       &pool_error);
  if (c->tap == NULL)
    {
      if (pool_error != NULL && !g_error_matches (pool_error, BANGER_ERROR, BANGER_ERROR_BUSY))
        banger_engine_log (c->op_id, "tap pool: %s; making a tap", pool_error->message);
      json_object_set_string_member (p, "bridge", BANGER_ENGINE_BRIDGE);
      r = priv_call (c, "priv.create_tap", p, error);
      if (r == NULL)
        return FALSE;
      c->tap = g_strdup (json_object_get_string_member_with_default (r, "name", ""));
    }
  if (!banger_validate_ifname (c->tap, error))
    return FALSE;
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->engine->lock);
    g_hash_table_replace (c->engine->taps, g_strdup (c->vm->id), g_strdup (c->tap));
  }
  set_neighbour (c);
  return TRUE;
}

static void
undo_tap (VmCtx *c)
{
  g_autoptr (JsonObject) p = vm_id_params (c->vm->id);
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;
  gboolean returned = FALSE;

  if (c->engine->tap_pool != NULL
      && !banger_tap_pool_give_back (c->engine->tap_pool, c->vm->id, c->op_id, &returned, &local))
    {
      banger_engine_log (c->op_id, "undo tap: back to the pool: %s", local->message);
      g_clear_error (&local);
    }
  if (!returned)
    r = banger_priv_backend_call (c->engine->backend, "priv.delete_tap", p, c->op_id, NULL,
                                  &local);
  if (!returned && r == NULL)
    banger_engine_log (c->op_id, "undo tap: %s", local->message);
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->engine->lock);
    g_hash_table_remove (c->engine->taps, c->vm->id);
  }
}

static gboolean
step_nat (VmCtx *c, GError **error)
{
  g_autoptr (JsonObject) p = vm_id_params (c->vm->id);
  g_autoptr (JsonObject) r = NULL;

  if (!c->engine->config->nat)
    return TRUE;
  json_object_set_string_member (p, "guest_ip", c->ip);
  r = priv_call (c, "priv.nat_enable", p, error);
  return r != NULL;
}

static void
undo_nat (VmCtx *c)
{
  g_autoptr (JsonObject) p = vm_id_params (c->vm->id);
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;

  if (!c->engine->config->nat)
    return;
  r = banger_priv_backend_call (c->engine->backend, "priv.nat_disable", p, c->op_id, NULL, &local);
  if (r == NULL)
    banger_engine_log (c->op_id, "undo nat: %s", local->message);
}

/* The VM's publishes and egress policy (stored at create). */
static gboolean
step_publish (VmCtx *c, GError **error)
{
  return banger_engine_reach_apply (c->engine, c->vm->id, c->ip, c->op_id, c->cancellable, error);
}

static void
undo_publish (VmCtx *c)
{
  banger_engine_reach_clear (c->engine, c->vm->id, c->ip, c->op_id);
}

static BangerVmm *
make_vmm (VmCtx *c, GError **error)
{
  g_autofree char *run_dir = g_build_filename (c->dir, "run", NULL);
  BangerVmmConfig *config = banger_vmm_config_new (c->vm->id, run_dir);
  BangerVmm *vmm;

  config->kernel_path = g_strdup (c->kernel->kernel_path);
  config->initrd_path = g_strdup (c->kernel->initrd_path);
  config->extra_boot_args = g_strdup (c->kernel->cmdline);
  config->vcpus = c->vm->vcpus;
  config->mem_mib = (guint)c->vm->memory_mib;
  config->guest_ip = g_strdup (c->ip);
  config->gateway_ip = g_strdup (c->gateway);
  config->netmask = g_strdup (c->netmask);
  config->hostname = g_strdup (c->vm->name);
  if (banger_engine_dns_get_bound_port (c->engine->dns) == 53)
    config->dns_ip = g_strdup (c->gateway); /* guests resolve <vm>.<domain> */
  banger_vmm_config_add_drive (config, "rootfs", c->rootfs_device ? c->rootfs_device : c->rootfs,
                               TRUE, FALSE);
  if (c->work != NULL)
    banger_vmm_config_add_drive (config, "work", c->work, FALSE, FALSE);
  /* the seed disk, last: how a restored guest learns its new address */
  if (!banger_engine_seed_write (c->seed, config, error))
    {
      banger_vmm_config_free (config);
      return NULL;
    }
  banger_vmm_config_add_drive (config, "seed", c->seed, FALSE, TRUE);
  config->balloon_device = TRUE;
  banger_vmm_config_add_nic (config, "eth0", c->tap, NULL);
  if (!banger_vmm_config_validate (config, error))
    {
      banger_vmm_config_free (config);
      return NULL;
    }
  if (c->vm->vmm == BANGER_STORE_VMM_FIRECRACKER)
    {
      const char *fc = c->engine->config->firecracker_path;
      if (fc == NULL)
        {
          banger_vmm_config_free (config);
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                               "No Firecracker binary is configured ([vmm] firecracker=)");
          return NULL;
        }
      vmm = banger_vmm_firecracker_new (config, fc);
      /* Diff snapshots need dirty-page tracking from the boot on (and
       * again on a load: it is not in the snapshot) */
      banger_vmm_firecracker_set_track_dirty_pages (BANGER_VMM_FIRECRACKER (vmm), TRUE);
      if (c->restore != NULL && c->restore->files != NULL)
        {
          const char *state = NULL, *mem = NULL;
          c->restore->files (c->restore->data, &state, &mem);
          banger_vmm_firecracker_set_restore_files (BANGER_VMM_FIRECRACKER (vmm), state, mem);
        }
    }
  else
    {
      vmm = banger_vmm_qemu_new (config);
      if (c->engine->config->qemu_path != NULL)
        banger_vmm_qemu_set_binary (BANGER_VMM_QEMU (vmm), c->engine->config->qemu_path);
      if (c->restore != NULL)
        banger_vmm_qemu_set_incoming (BANGER_VMM_QEMU (vmm), TRUE);
    }
  banger_vmm_set_launcher (vmm, banger_priv_backend_get_launcher (c->engine->backend));
  banger_vmm_set_stop_timeout (vmm, VM_STOP_TIMEOUT_S);
  return vmm;
}

static gboolean
step_launch (VmCtx *c, GError **error)
{
  BangerEngine *e = c->engine;
  g_autoptr (BangerVmm) vmm = make_vmm (c, error);
  g_autoptr (BangerStoreVmRuntime) rt = NULL;
  guint64 start_time = 0;
  GPid pid;

  if (vmm == NULL || !banger_vmm_prepare (vmm, error)
      || !banger_vmm_launch (vmm, c->cancellable, error))
    return FALSE;
  pid = banger_vmm_get_pid (vmm);
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&e->lock);
    g_hash_table_replace (e->vmms, g_strdup (c->vm->id), g_object_ref (vmm));
  }
  if (!banger_proc_start_time (pid, &start_time, error))
    return FALSE;
  rt = banger_store_vm_runtime_new (c->vm->id, pid, start_time);
  rt->api_socket = g_strdup (banger_vmm_get_api_socket (vmm));
  banger_engine_log (c->op_id, "%s launched: pid %d", c->vm->name, (int)pid);
  return banger_store_vm_runtime_set (e->store, rt, error);
}

/* A VMM this engine has no driver object for (adopted at start-up from the
 * runtime record): @graceful, the whole stop ladder (power button through
 * its API socket, TERM, KILL; banger-engine-adopted.c), else TERM and KILL
 * after 5 s, through a pidfd verified against the recorded start time (a
 * recycled pid is never signalled). */
static void
stop_by_runtime (BangerEngine *e, const char *vm_id, gboolean graceful, const char *op_id)
{
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (e->store, vm_id, NULL);
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_id (e->store, vm_id, NULL);
  g_autoptr (GError) local = NULL;
  BangerAdoptedStop how;

  if (rt == NULL)
    return;
  banger_engine_log (op_id, "VM %s: stopping adopted VMM pid %d%s", vm_id, rt->pid,
                     graceful ? " (power button, TERM, KILL)" : "");
  if (!banger_engine_stop_adopted (vm ? vm->vmm : BANGER_STORE_VMM_QEMU, rt->api_socket, rt->pid,
                                   rt->start_time, graceful ? VM_STOP_TIMEOUT_S * 1000 : 0,
                                   graceful ? VM_STOP_TIMEOUT_S * 1000 : 5000, &how, &local))
    banger_engine_log (op_id, "VM %s: %s", vm_id, local->message);
  else if (how != BANGER_ADOPTED_STOP_GONE)
    banger_engine_log (op_id, "VM %s: adopted VMM ended by %s", vm_id,
                       banger_adopted_stop_to_string (how));
}

static void
kill_by_runtime (BangerEngine *e, const char *vm_id, const char *op_id)
{
  stop_by_runtime (e, vm_id, FALSE, op_id);
}

/* Whether the runtime record of @vm_id names a live process (same pid and
 * start time). */
static gboolean
runtime_alive (BangerEngine *e, const char *vm_id)
{
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (e->store, vm_id, NULL);
  guint64 start_time = 0;

  return rt != NULL && banger_proc_start_time (rt->pid, &start_time, NULL)
         && start_time == rt->start_time;
}

/* Everything a launched VM holds on the host: the VMM (killed), its cgroup,
 * tap, NAT rule and run dir (priv.cleanup_vm, idempotent), the runtime
 * record.  Returns the first failure. */
static gboolean
teardown_runtime (BangerEngine *e, const char *vm_id, const char *op_id, GError **error)
{
  g_autoptr (BangerVmm) vmm = NULL;
  g_autoptr (JsonObject) p = vm_id_params (vm_id);
  g_autoptr (JsonObject) r = NULL;
  g_autofree char *run_dir = g_build_filename (e->vms_dir, vm_id, "run", NULL);

  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&e->lock);
    g_autofree char *key = NULL; /* stolen with the value: ours to free */
    g_hash_table_steal_extended (e->vmms, vm_id, (gpointer *)&key, (gpointer *)&vmm);
    g_hash_table_remove (e->taps, vm_id);
  }
  if (vmm != NULL && banger_vmm_get_state (vmm) != BANGER_VMM_STATE_EXITED)
    {
      g_autoptr (GError) local = NULL;
      if (!banger_vmm_kill (vmm, &local))
        banger_engine_log (op_id, "kill %s: %s", vm_id, local->message);
    }
  else if (vmm == NULL)
    kill_by_runtime (e, vm_id, op_id);
  {
    /* the VMM is gone: its tap may go back to the pool (else cleanup_vm
     * deletes it) */
    g_autoptr (GError) local = NULL;
    if (e->tap_pool != NULL && !banger_tap_pool_give_back (e->tap_pool, vm_id, op_id, NULL, &local))
      banger_engine_log (op_id, "tap of %s back to the pool: %s", vm_id, local->message);
  }
  r = banger_priv_backend_call (e->backend, "priv.cleanup_vm", p, op_id, NULL, error);
  if (r == NULL)
    return FALSE;
  if (g_file_test (run_dir, G_FILE_TEST_IS_DIR) && !banger_engine_remove_tree (run_dir, error))
    return FALSE;
  return banger_store_vm_runtime_clear (e->store, vm_id, error);
}

static void
undo_launch (VmCtx *c)
{
  g_autoptr (GError) local = NULL;

  if (!teardown_runtime (c->engine, c->vm->id, c->op_id, &local))
    banger_engine_log (c->op_id, "undo launch: %s", local->message);
}

static BangerVmm *
lookup_vmm (BangerEngine *e, const char *vm_id)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&e->lock);
  BangerVmm *vmm = g_hash_table_lookup (e->vmms, vm_id);

  return vmm ? g_object_ref (vmm) : NULL;
}

static gboolean
step_start (VmCtx *c, GError **error)
{
  g_autoptr (BangerVmm) vmm = lookup_vmm (c->engine, c->vm->id);

  if (vmm == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "VM '%s' has no VMM", c->vm->name);
      return FALSE;
    }
  if (c->restore != NULL)
    return c->restore->load (c->restore->data, vmm, c->cancellable, error);
  return banger_vmm_configure (vmm, c->cancellable, error)
         && banger_vmm_start (vmm, c->cancellable, error);
}

static BangerGuestEndpoint *
endpoint_for (BangerEngine *e, const char *ip, const char *known_hosts, GError **error)
{
  BangerGuestEndpoint *ep
      = banger_guest_endpoint_new (ip, BANGER_GUEST_SSH_DEFAULT_PORT, e->key, known_hosts, error);

  if (ep != NULL)
    banger_guest_endpoint_set_wait_resend (ep, e->config->ssh_resend_ms);
  return ep;
}

static gboolean
step_ssh (VmCtx *c, GError **error)
{
  g_autoptr (BangerGuestEndpoint) ep = endpoint_for (c->engine, c->ip, c->known_hosts, error);
  guint attempts = 0, connects = 0;
  gint64 t0 = g_get_monotonic_time ();

  if (ep == NULL)
    return FALSE;
  if (!c->engine->config->wait_ssh)
    return TRUE; /* [guest] wait-ssh=false: running once the VMM runs */
  if (!banger_guest_wait_ssh_counted (ep, c->engine->config->ssh_timeout_ms, &attempts, &connects,
                                      c->cancellable, error))
    return FALSE;
  banger_engine_log (c->op_id, "%s answers on SSH at %s after %.1f s (%u attempts, %u connects)",
                     c->vm->name, c->ip, (g_get_monotonic_time () - t0) / 1e6, attempts, connects);
  return TRUE;
}

/* create: the binding goes into the VM's dir (removed with it) */
static gboolean
step_workspace_bind (VmCtx *c, GError **error)
{
  return c->ws_host == NULL
         || banger_engine_workspace_bind (c->dir, c->ws_host, c->ws_guest, error);
}

/* boot: push the workspace (host changes made while the VM was stopped
 * too); conflicts are logged and left for `vm workspace` */
static gboolean
step_workspace_push (VmCtx *c, GError **error)
{
  g_autoptr (BangerEngineWsReport) r = banger_engine_workspace_sync_locked (
      c->engine, c->vm->id, c->ip, BANGER_ENGINE_WS_PUSH, BANGER_ENGINE_WS_FLAGS_NONE, c->op_id,
      c->cancellable, error);

  if (r != NULL && r->conflicts->len > 0)
    banger_engine_log (c->op_id, "%s: %u workspace conflicts left alone (see vm workspace status)",
                       c->vm->name, r->conflicts->len);
  return r != NULL;
}

static const Step create_disk_steps[] = {
  { "rootfs", step_rootfs, undo_rootfs },
  { "workspace", step_workspace_bind, NULL },
  { "work-disk", step_work_disk, NULL },
  { "inject-key", step_inject_key, NULL },
  { "lease", step_lease, undo_lease },
};

/* dm-snapshot: the VM's device again (a stopped VM holds none) */
static gboolean
step_rootfs_device (VmCtx *c, GError **error)
{
  if (c->vm->rootfs_cow != BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT || c->rootfs_device != NULL)
    return TRUE;
  c->rootfs_device = banger_engine_rootfs_attach (c->engine, c->vm->id, c->image->rootfs_path,
                                                  c->rootfs, c->op_id, c->cancellable, error);
  return c->rootfs_device != NULL;
}

static void
undo_rootfs_device (VmCtx *c)
{
  if (c->vm->rootfs_cow != BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT)
    return;
  banger_engine_rootfs_detach (c->engine, c->vm->id, c->op_id);
  g_clear_pointer (&c->rootfs_device, g_free);
}

static const Step boot_steps[] = {
  { "rootfs-device", step_rootfs_device, undo_rootfs_device },
  { "tap", step_tap, undo_tap },
  { "nat", step_nat, undo_nat },
  { "publish", step_publish, undo_publish },
  { "launch", step_launch, undo_launch },
  { "start", step_start, NULL },
  { "ssh", step_ssh, NULL },
  { "workspace", step_workspace_push, NULL },
};

/* Runs @steps; on a failure undoes the failed step and those before it in
 * reverse, and returns its name in @out_failed. */
static gboolean
run_steps (VmCtx *c, const Step *steps, guint n, const char **out_failed, GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) local = NULL;
      gint64 t0 = g_get_monotonic_time ();
      BangerEngineStep step
          = { c->engine,     c->op_id, c->kind, c->vm->name, steps[i].name, c->steps_done + i + 1,
              c->steps_total };
      gboolean ok;

      banger_engine_step_begin (&step);
      ok = !g_cancellable_set_error_if_cancelled (c->cancellable, &local)
           && steps[i].run (c, &local);
      banger_engine_step_end (&step);
      if (ok)
        {
          banger_engine_log (c->op_id, "%s: step %s done in %.3f s", c->vm->name, steps[i].name,
                             (g_get_monotonic_time () - t0) / 1e6);
          continue;
        }
      banger_engine_log (c->op_id, "%s: step %s failed: %s", c->vm->name, steps[i].name,
                         local->message);
      for (guint j = i + 1; j-- > 0;)
        if (steps[j].undo != NULL)
          steps[j].undo (c);
      *out_failed = steps[i].name;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  c->steps_done += n;
  return TRUE;
}

static void
undo_steps (VmCtx *c, const Step *steps, guint n)
{
  for (guint j = n; j-- > 0;)
    if (steps[j].undo != NULL)
      steps[j].undo (c);
}

/* ------------------------------------------------------------ services */

void
banger_engine_vm_info_free (BangerEngineVmInfo *info)
{
  if (info == NULL)
    return;
  banger_store_vm_free (info->vm);
  g_free (info->image);
  g_free (info->kernel);
  g_free (info->ip);
  g_free (info->tap);
  g_free (info->publish);
  g_free (info->egress);
  g_free (info);
}

static BangerEngineVmInfo *
info_for (BangerEngine *e, const BangerStoreVm *vm)
{
  BangerEngineVmInfo *info = g_new0 (BangerEngineVmInfo, 1);
  g_autoptr (BangerStoreImage) image = banger_store_image_get_by_id (e->store, vm->image_id, NULL);
  g_autoptr (BangerStoreKernel) kernel
      = banger_store_kernel_get_by_id (e->store, vm->kernel_id, NULL);
  g_autoptr (BangerStoreLease) lease
      = banger_store_lease_get_for_vm (e->store, e->config->subnet, vm->id, NULL);
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (e->store, vm->id, NULL);

  info->vm = banger_store_vm_copy (vm);
  info->image = image ? g_strdup (image->name) : NULL;
  info->kernel = kernel ? g_strdup (kernel->name) : NULL;
  info->ip = lease ? g_strdup (lease->address) : NULL;
  if (!banger_store_vm_reach_get (e->store, vm->id, &info->publish, &info->egress, NULL))
    {
      info->publish = g_strdup ("");
      info->egress = g_strdup ("nat");
    }
  if (rt != NULL)
    info->pid = rt->pid;
  {
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&e->lock);
    info->tap = g_strdup (g_hash_table_lookup (e->taps, vm->id));
  }
  return info;
}

static gboolean
load_ctx (BangerEngine *e, VmCtx *c, const char *name, GError **error)
{
  c->engine = e;
  c->vm = banger_store_vm_get_by_name (e->store, name, error);
  if (c->vm == NULL)
    return FALSE;
  c->image = banger_store_image_get_by_id (e->store, c->vm->image_id, error);
  if (c->image == NULL)
    return FALSE;
  c->kernel = banger_store_kernel_get_by_id (e->store, c->vm->kernel_id, error);
  if (c->kernel == NULL)
    return FALSE;
  vm_ctx_paths (c);
  return TRUE;
}

static void
record_failure (BangerEngine *e, const char *vm_id, BangerStoreVmState state, const char *step,
                const GError *failure)
{
  g_autoptr (GError) local = NULL;

  if (!banger_store_vm_set_state (e->store, vm_id, -1, state, step, failure->message, &local))
    g_warning ("VM %s: cannot record the failure of step %s: %s", vm_id, step, local->message);
}

BangerEngineVmInfo *
banger_engine_vm_create (BangerEngine *e, const BangerEngineVmSpec *spec, const char *op_id,
                         GCancellable *cancellable, GError **error)
{
  g_auto (VmCtx) c = { 0 };
  g_autoptr (BangerStoreVm) want = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_autofree char *publish = NULL;
  g_autofree char *egress = NULL;
  const char *failed = NULL;
  BangerStoreVmm vmm = spec->vmm < 0 ? e->config->default_vmm : (BangerStoreVmm)spec->vmm;

  /* validate */
  if (!banger_validate_vm_name (spec->name, error))
    return NULL;
  if (spec->vmm > (int)BANGER_STORE_VMM_LAST)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "Unknown VMM %d", spec->vmm);
      return NULL;
    }
  if (spec->work_disk_bytes != 0
      && (spec->work_disk_bytes < BANGER_WORK_DISK_MIN_SIZE
          || spec->work_disk_bytes > BANGER_WORK_DISK_MAX_SIZE || spec->work_disk_bytes % 4096))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Work disk size %" G_GUINT64_FORMAT
                   " is not a multiple of 4096 bytes between 16 MiB and 16 TiB",
                   spec->work_disk_bytes);
      return NULL;
    }
  if (spec->workspace != NULL
      && !banger_engine_workspace_parse (spec->workspace, &c.ws_host, &c.ws_guest, error))
    return NULL;
  /* publishes and egress: the texts, and no host port a running VM holds */
  if (!banger_engine_reach_check_spec (e, spec->name, spec->publish, spec->egress, &publish,
                                       &egress, error))
    return NULL;
  locker = g_mutex_locker_new (banger_engine_vm_lock (e, spec->name));
  c.engine = e;
  c.op_id = op_id;
  c.cancellable = cancellable;
  c.image = banger_store_image_get_by_name (e->store, spec->image, error);
  if (c.image == NULL)
    return NULL;
  c.kernel = banger_store_kernel_get_by_name (e->store, spec->kernel, error);
  if (c.kernel == NULL)
    return NULL;
  want = banger_store_vm_new (spec->name, c.image->id, c.kernel->id, vmm);
  want->vcpus = spec->vcpus ? spec->vcpus : 1;
  want->memory_mib = spec->memory_mib ? spec->memory_mib : VM_MEMORY_MIB_DEFAULT;
  want->work_disk_bytes = spec->work_disk_bytes;
  want->state = BANGER_STORE_VM_STATE_CREATING;
  {
    /* the limits the drivers and the helper enforce, checked before the
     * record exists */
    g_autoptr (BangerVmmConfig) probe = banger_vmm_config_new (spec->name, "/nonexistent");
    probe->vcpus = want->vcpus;
    probe->mem_mib = (guint)MIN (want->memory_mib, G_MAXUINT);
    probe->kernel_path = g_strdup (c.kernel->kernel_path);
    banger_vmm_config_add_drive (probe, "rootfs", c.image->rootfs_path, TRUE, FALSE);
    if (want->memory_mib > G_MAXUINT || !banger_vmm_config_validate (probe, error))
      return NULL;
  }
  /* record: the intent.  Every host object of the steps is named from the
   * VM id recorded here (doc/engine.md), so a record in state creating
   * says what may exist. */
  c.vm = banger_store_vm_create (e->store, want, error);
  if (c.vm == NULL)
    return NULL;
  banger_engine_log (op_id, "vm.create %s: id %s, %s", c.vm->name, c.vm->id,
                     banger_store_vmm_to_string (vmm));
  if (!banger_store_vm_reach_set (e->store, c.vm->id, publish, egress, error))
    {
      record_failure (e, c.vm->id, BANGER_STORE_VM_STATE_FAILED, "record", *error);
      return NULL;
    }
  vm_ctx_paths (&c);
  c.kind = "vm.create";
  c.steps_total = G_N_ELEMENTS (create_disk_steps) + (spec->no_start ? 0 : G_N_ELEMENTS (boot_steps));
  if (!run_steps (&c, create_disk_steps, G_N_ELEMENTS (create_disk_steps), &failed, error))
    {
      record_failure (e, c.vm->id, BANGER_STORE_VM_STATE_FAILED, failed, *error);
      return NULL;
    }
  if (spec->no_start)
    {
      /* stopped: no device-mapper device held (made again at start) */
      if (c.rootfs_device != NULL)
        undo_rootfs_device (&c);
      if (!banger_store_vm_set_state (e->store, c.vm->id, -1, BANGER_STORE_VM_STATE_STOPPED, NULL,
                                      NULL, error))
        return NULL;
    }
  else
    {
      if (!run_steps (&c, boot_steps, G_N_ELEMENTS (boot_steps), &failed, error))
        {
          undo_steps (&c, create_disk_steps, G_N_ELEMENTS (create_disk_steps));
          record_failure (e, c.vm->id, BANGER_STORE_VM_STATE_FAILED, failed, *error);
          return NULL;
        }
      if (!banger_store_vm_set_state (e->store, c.vm->id, -1, BANGER_STORE_VM_STATE_RUNNING, NULL,
                                      NULL, error))
        return NULL;
      banger_engine_reach_vm_up (e, c.vm->name, c.ip);
    }
  banger_engine_ssh_config_refresh_logged (e, op_id);
  {
    g_autoptr (BangerStoreVm) now = banger_store_vm_get_by_id (e->store, c.vm->id, error);
    return now ? info_for (e, now) : NULL;
  }
}

BangerEngineVmInfo *
banger_engine_vm_get (BangerEngine *e, const char *name, GError **error)
{
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);

  return vm ? info_for (e, vm) : NULL;
}

GPtrArray *
banger_engine_vm_list (BangerEngine *e, GError **error)
{
  g_autoptr (GPtrArray) vms = banger_store_vm_list (e->store, error);
  GPtrArray *out;

  if (vms == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)banger_engine_vm_info_free);
  for (guint i = 0; i < vms->len; i++)
    g_ptr_array_add (out, info_for (e, vms->pdata[i]));
  return out;
}

static gboolean
busy (GError **error, const char *name, BangerStoreVmState state, const char *what)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "VM '%s' is %s: cannot %s it", name,
               banger_store_vm_state_to_string (state), what);
  return FALSE;
}

gboolean
banger_engine_vm_start (BangerEngine *e, const char *name, const char *op_id,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_auto (VmCtx) c = { 0 };
  const char *failed = NULL;
  const Step *steps = boot_steps;

  if (!load_ctx (e, &c, name, error))
    return FALSE;
  c.op_id = op_id;
  c.cancellable = cancellable;
  if (c.vm->state != BANGER_STORE_VM_STATE_STOPPED)
    return busy (error, name, c.vm->state, "start");
  if (!banger_store_vm_set_state (e->store, c.vm->id, BANGER_STORE_VM_STATE_STOPPED,
                                  BANGER_STORE_VM_STATE_STARTING, NULL, NULL, error))
    return FALSE;
  banger_engine_log (op_id, "vm.start %s", name);
  c.kind = "vm.start";
  c.steps_total = G_N_ELEMENTS (boot_steps);
  if (!step_load_lease (&c, error)
      || !run_steps (&c, steps, G_N_ELEMENTS (boot_steps), &failed, error))
    {
      /* the disks are kept: the VM is stopped again, saying why */
      record_failure (e, c.vm->id, BANGER_STORE_VM_STATE_STOPPED, failed ? failed : "lease",
                      *error);
      return FALSE;
    }
  if (!banger_store_vm_set_state (e->store, c.vm->id, -1, BANGER_STORE_VM_STATE_RUNNING, NULL, NULL,
                                  error))
    return FALSE;
  banger_engine_reach_vm_up (e, c.vm->name, c.ip);
  return TRUE;
}

static gboolean
stop_or_kill (BangerEngine *e, const char *name, gboolean graceful, const char *op_id,
              GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != BANGER_STORE_VM_STATE_RUNNING && vm->state != BANGER_STORE_VM_STATE_PAUSED)
    return busy (error, name, vm->state, graceful ? "stop" : "kill");
  /* the guest's workspace changes come home before a graceful stop (a
   * paused guest cannot answer: its workspace stays until it runs again) */
  if (graceful && vm->state == BANGER_STORE_VM_STATE_RUNNING
      && !banger_engine_workspace_pull_before_stop (e, vm->id, op_id, cancellable, error))
    return FALSE;
  if (!banger_store_vm_set_state (e->store, vm->id, (int)vm->state, BANGER_STORE_VM_STATE_STOPPING,
                                  NULL, NULL, error))
    return FALSE;
  banger_engine_log (op_id, "vm.%s %s", graceful ? "stop" : "kill", name);
  banger_engine_reach_vm_down (e, name);
  vmm = lookup_vmm (e, vm->id);
  if (vmm == NULL && graceful)
    stop_by_runtime (e, vm->id, TRUE, op_id); /* adopted: no driver object */
  if (vmm != NULL)
    {
      g_autoptr (GError) local = NULL;
      gboolean ok
          = graceful ? banger_vmm_stop (vmm, cancellable, &local) : banger_vmm_kill (vmm, &local);
      if (!ok)
        banger_engine_log (op_id, "%s %s: %s (the clean-up kills it)", graceful ? "stop" : "kill",
                           name, local->message);
    }
  if (!teardown_runtime (e, vm->id, op_id, error))
    {
      banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_FAILED, "stop",
                                 (*error)->message, NULL);
      return FALSE;
    }
  return banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_STOPPED, NULL, NULL,
                                    error);
}

gboolean
banger_engine_vm_stop (BangerEngine *e, const char *name, const char *op_id,
                       GCancellable *cancellable, GError **error)
{
  return stop_or_kill (e, name, TRUE, op_id, cancellable, error);
}

gboolean
banger_engine_vm_kill (BangerEngine *e, const char *name, const char *op_id,
                       GCancellable *cancellable, GError **error)
{
  return stop_or_kill (e, name, FALSE, op_id, cancellable, error);
}

gboolean
banger_engine_vm_delete (BangerEngine *e, const char *name, const char *op_id,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autofree char *dir = NULL;

  if (vm == NULL)
    return FALSE;
  banger_engine_log (op_id, "vm.delete %s (%s)", name, banger_store_vm_state_to_string (vm->state));
  banger_engine_reach_vm_down (e, name);
  if (!banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_DELETING, NULL, NULL,
                                  error))
    return FALSE;
  dir = g_build_filename (e->vms_dir, vm->id, NULL);
  if (!teardown_runtime (e, vm->id, op_id, error) || !banger_engine_remove_tree (dir, error)
      || !banger_store_lease_release_for_vm (e->store, vm->id, NULL, error)
      || !banger_store_tap_release_for_vm (e->store, vm->id, error)
      || !banger_store_vm_delete (e->store, vm->id, error))
    {
      banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_FAILED, "delete",
                                 (*error)->message, NULL);
      return FALSE;
    }
  banger_engine_ssh_config_refresh_logged (e, op_id);
  return TRUE;
}

gboolean
banger_engine_vm_set (BangerEngine *e, const char *name, guint vcpus, guint64 memory_mib,
                      const char *op_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);

  if (vm == NULL)
    return FALSE;
  if (vm->state != BANGER_STORE_VM_STATE_STOPPED)
    return busy (error, name, vm->state, "change");
  if (vcpus != 0)
    vm->vcpus = vcpus;
  if (memory_mib != 0)
    vm->memory_mib = memory_mib;
  {
    g_autoptr (BangerVmmConfig) probe = banger_vmm_config_new (vm->id, "/nonexistent");
    g_autoptr (BangerStoreKernel) k
        = banger_store_kernel_get_by_id (e->store, vm->kernel_id, error);
    if (k == NULL)
      return FALSE;
    probe->vcpus = vm->vcpus;
    probe->mem_mib = (guint)MIN (vm->memory_mib, G_MAXUINT);
    probe->kernel_path = g_strdup (k->kernel_path);
    banger_vmm_config_add_drive (probe, "rootfs", "/nonexistent", TRUE, FALSE);
    if (vm->memory_mib > G_MAXUINT || !banger_vmm_config_validate (probe, error))
      return FALSE;
  }
  banger_engine_log (op_id, "vm.set %s: %u vCPUs, %" G_GUINT64_FORMAT " MiB", name, vm->vcpus,
                     vm->memory_mib);
  return banger_store_vm_update_spec (e->store, vm, BANGER_STORE_VM_STATE_STOPPED, error);
}

gboolean
banger_engine_vm_exec (BangerEngine *e, const char *name, const char *const *argv,
                       GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                       int *out_exit_status, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerStoreLease) lease = NULL;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autofree char *known_hosts = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != BANGER_STORE_VM_STATE_RUNNING)
    return busy (error, name, vm->state, "run a command in");
  lease = banger_store_lease_get_for_vm (e->store, e->config->subnet, vm->id, error);
  if (lease == NULL)
    return FALSE;
  known_hosts = g_build_filename (e->vms_dir, vm->id, "known_hosts", NULL);
  ep = endpoint_for (e, lease->address, known_hosts, error);
  if (ep == NULL)
    return FALSE;
  return banger_guest_exec (ep, argv, stdout_stream, stderr_stream, out_exit_status, cancellable,
                            error);
}

/* ------------------------------------------------------------ reconcile */

/* An adopted VM: the bridge's services (DNS) up, its name answered, its
 * publishes and egress re-applied (priv.publish_set replaces what the
 * table holds for it, so rules lost or left over are made right). */
static void
reconcile_reach (BangerEngine *e, const BangerStoreVm *vm)
{
  g_autoptr (BangerStoreLease) lease
      = banger_store_lease_get_for_vm (e->store, e->config->subnet, vm->id, NULL);
  g_autoptr (GError) local = NULL;

  if (lease == NULL)
    return;
  if (!banger_engine_reach_network_up (e, "reconcile", &local)
      || !banger_engine_reach_apply (e, vm->id, lease->address, "reconcile", NULL, &local))
    g_message ("reconcile: VM %s: %s", vm->name, local->message);
  banger_engine_reach_vm_up (e, vm->name, lease->address);
}

gboolean
banger_engine_reconcile (BangerEngine *e, GError **error)
{
  g_autoptr (GPtrArray) vms = banger_store_vm_list (e->store, error);
  guint n_ops = 0;

  if (vms == NULL)
    return FALSE;
  if (banger_store_op_fail_running (e->store, "bangerd stopped during the operation", &n_ops, NULL)
      && n_ops > 0)
    g_message ("reconcile: %u interrupted operations marked failed", n_ops);
  for (guint i = 0; i < vms->len; i++)
    {
      BangerStoreVm *vm = vms->pdata[i];
      g_autoptr (GError) local = NULL;
      gboolean alive = runtime_alive (e, vm->id);
      g_autofree char *dir = NULL;

      switch (vm->state)
        {
        case BANGER_STORE_VM_STATE_RUNNING:
        case BANGER_STORE_VM_STATE_PAUSED:
          if (alive)
            {
              g_message ("reconcile: VM %s runs (pid and start time match): adopted", vm->name);
              reconcile_reach (e, vm);
              continue;
            }
          g_message ("reconcile: VM %s: its VMM is gone: cleaning up, stopped", vm->name);
          if (!teardown_runtime (e, vm->id, "reconcile", &local)
              || !banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_STOPPED,
                                             "running", "the VMM exited while bangerd was down",
                                             &local))
            g_message ("reconcile: VM %s: %s", vm->name, local->message);
          break;
        case BANGER_STORE_VM_STATE_STARTING:
        case BANGER_STORE_VM_STATE_STOPPING:
          g_message ("reconcile: VM %s was %s: cleaning up, stopped", vm->name,
                     banger_store_vm_state_to_string (vm->state));
          if (!teardown_runtime (e, vm->id, "reconcile", &local)
              || !banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_STOPPED,
                                             banger_store_vm_state_to_string (vm->state),
                                             "interrupted: bangerd stopped during the operation",
                                             &local))
            g_message ("reconcile: VM %s: %s", vm->name, local->message);
          break;
        case BANGER_STORE_VM_STATE_CREATING:
          /* an interrupted create: undo it all (every host object is
           * named from the recorded id) */
          g_message ("reconcile: VM %s: interrupted create undone", vm->name);
          dir = g_build_filename (e->vms_dir, vm->id, NULL);
          if (!teardown_runtime (e, vm->id, "reconcile", &local)
              || !banger_engine_remove_tree (dir, &local)
              || !banger_store_lease_release_for_vm (e->store, vm->id, NULL, &local)
              || !banger_store_vm_set_state (e->store, vm->id, -1, BANGER_STORE_VM_STATE_FAILED,
                                             "interrupted",
                                             "bangerd stopped during the create; undone", &local))
            g_message ("reconcile: VM %s: %s", vm->name, local->message);
          break;
        case BANGER_STORE_VM_STATE_DELETING:
          g_message ("reconcile: VM %s: interrupted delete finished", vm->name);
          dir = g_build_filename (e->vms_dir, vm->id, NULL);
          if (!teardown_runtime (e, vm->id, "reconcile", &local)
              || !banger_engine_remove_tree (dir, &local)
              || !banger_store_lease_release_for_vm (e->store, vm->id, NULL, &local)
              || !banger_store_tap_release_for_vm (e->store, vm->id, &local)
              || !banger_store_vm_delete (e->store, vm->id, &local))
            g_message ("reconcile: VM %s: %s", vm->name, local->message);
          break;
        case BANGER_STORE_VM_STATE_STOPPED:
        case BANGER_STORE_VM_STATE_FAILED:
        default:
          break;
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------- restore */

BangerVmm *
banger_engine_lookup_vmm (BangerEngine *e, const char *vm_id)
{
  return lookup_vmm (e, vm_id);
}

static gboolean
step_restore_disks (VmCtx *c, GError **error)
{
  if (g_mkdir (c->dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", c->dir,
                   g_strerror (errno));
      return FALSE;
    }
  return c->restore->disks (c->restore->data, c->vm, c->dir, c->cancellable, error)
         && banger_store_vm_update_spec (c->engine->store, c->vm, -1, error);
}

/* The create steps of a VM made from a snapshot: the disks come from the
 * snapshot's disk point, then the same lease, tap, NAT and launch steps as
 * any VM (a new address, a tap of its own), the load instead of the boot,
 * and the wait for SSH at the new address (the guest re-addresses itself
 * from its seed disk, doc/guest.md). */
static const Step restore_steps[] = {
  { "disks", step_restore_disks, undo_rootfs },
  { "lease", step_lease, undo_lease },
  { "tap", step_tap, undo_tap },
  { "nat", step_nat, undo_nat },
  { "launch", step_launch, undo_launch },
  { "load", step_start, NULL },
  { "ssh", step_ssh, NULL },
};

BangerEngineVmInfo *
banger_engine_vm_restore_steps (BangerEngine *e, const BangerStoreVm *want,
                                const BangerEngineRestore *restore, const char *op_id,
                                GCancellable *cancellable, GError **error)
{
  g_auto (VmCtx) c = { 0 };
  g_autoptr (GMutexLocker) locker = NULL;
  const char *failed = NULL;

  if (!banger_validate_vm_name (want->name, error))
    return NULL;
  locker = g_mutex_locker_new (banger_engine_vm_lock (e, want->name));
  c.engine = e;
  c.op_id = op_id;
  c.cancellable = cancellable;
  c.restore = restore;
  c.kind = "vm.restore";
  c.steps_total = G_N_ELEMENTS (restore_steps);
  c.image = banger_store_image_get_by_id (e->store, want->image_id, error);
  if (c.image == NULL)
    return NULL;
  c.kernel = banger_store_kernel_get_by_id (e->store, want->kernel_id, error);
  if (c.kernel == NULL)
    return NULL;
  c.vm = banger_store_vm_create (e->store, want, error);
  if (c.vm == NULL)
    return NULL;
  banger_engine_log (op_id, "vm.restore %s: id %s", c.vm->name, c.vm->id);
  vm_ctx_paths (&c);
  if (!run_steps (&c, restore_steps, G_N_ELEMENTS (restore_steps), &failed, error))
    {
      /* undone: a restore that failed leaves no VM behind (a create's
       * failed record keeps its name and says why; a restore has nothing
       * of its own worth keeping) */
      g_autoptr (GError) local = NULL;
      if (!banger_store_lease_release_for_vm (e->store, c.vm->id, NULL, &local)
          || !banger_store_tap_release_for_vm (e->store, c.vm->id, &local)
          || !banger_store_vm_delete (e->store, c.vm->id, &local))
        {
          banger_engine_log (op_id, "vm.restore %s: %s", c.vm->name, local->message);
          record_failure (e, c.vm->id, BANGER_STORE_VM_STATE_FAILED, failed, *error);
        }
      return NULL;
    }
  if (!banger_store_vm_set_state (e->store, c.vm->id, -1, BANGER_STORE_VM_STATE_RUNNING, NULL, NULL,
                                  error))
    return NULL;
  {
    g_autoptr (BangerStoreVm) now = banger_store_vm_get_by_id (e->store, c.vm->id, error);
    return now ? info_for (e, now) : NULL;
  }
}
