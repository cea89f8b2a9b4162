/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged backend (see banger-priv-backend.h and
 * banger-priv-backend-private.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-cow-disk.h"
#include "banger-error-private.h"
#include "banger-names.h"
#include "banger-priv-backend-private.h"
#include "banger-priv-client.h"
#include "banger-priv-executor.h"
#include "banger-priv-ops.h"
#include "banger-quote.h"
#include "banger-vmm-helper-launcher.h"
#include "banger-work-disk.h"

/**
 * BangerPrivBackend:
 *
 * The one door to privileged host work: taps, NAT, copy-on-write root
 * disks, work disks, a VM's cleanup, and launching a VMM
 * (banger_vmm_set_backend_launch()).  Two implementations behind the same
 * calls:
 *
 * - banger_priv_backend_new_for_socket(): `bangerd-root`, the privileged
 *   helper, for a program that runs as the install's owner;
 * - banger_priv_backend_new_in_process(): the in-process validating
 *   executor, for a program that already runs as root.
 *
 * Each typed call is one request of the privileged protocol
 * (doc/protocol.md) and runs through the very method table bangerd-root
 * serves — the same authorisation, strict parameter tables, validators and
 * handlers — so both give the same answers and the same typed
 * %BANGER_ERROR codes.  Every host object is named from the VM id and
 * marked as this install's (doc/host.md); the calls refuse anything that
 * is not.  Each call that waits is an `_async`/`_finish` pair (run in a
 * worker thread) with a blocking form.
 *
 * Since: 0.2
 */
struct _BangerPrivBackend
{
  GObject parent_instance;
  char *socket_path;      /* client */
  BangerPrivState *state; /* executor */
  GMutex lock;            /* executor: one call at a time */
  char *description;
  BangerVmmLauncher *launcher;
  BangerPrivBackendCallFunc func; /* a backend answered by a function */
  gpointer func_data;
  GDestroyNotify func_data_free;
};

G_DEFINE_FINAL_TYPE (BangerPrivBackend, banger_priv_backend, G_TYPE_OBJECT)

static JsonObject *
launcher_call (gpointer data, const char *method, JsonObject *params, GError **error)
{
  return banger_priv_backend_call (data, method, params, NULL, NULL, error);
}

static void
banger_priv_backend_finalize (GObject *object)
{
  BangerPrivBackend *self = BANGER_PRIV_BACKEND (object);

  if (self->func_data_free != NULL)
    self->func_data_free (self->func_data);
  banger_vmm_helper_launcher_free (self->launcher);
  g_clear_pointer (&self->state, banger_priv_state_free);
  g_mutex_clear (&self->lock);
  g_free (self->socket_path);
  g_free (self->description);
  G_OBJECT_CLASS (banger_priv_backend_parent_class)->finalize (object);
}

static void
banger_priv_backend_class_init (BangerPrivBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_priv_backend_finalize;
}

static void
banger_priv_backend_init (BangerPrivBackend *self)
{
  g_mutex_init (&self->lock);
  /* (the launcher holds no reference: the backend owns it) */
  self->launcher = banger_vmm_helper_launcher_new_for_call (launcher_call, self);
}

BangerPrivBackend *
banger_priv_backend_new_client (const char *socket_path)
{
  BangerPrivBackend *self;

  g_return_val_if_fail (socket_path != NULL, NULL);
  self = g_object_new (BANGER_TYPE_PRIV_BACKEND, NULL);
  self->socket_path = g_strdup (socket_path);
  self->description = g_strdup_printf ("bangerd-root at %s", socket_path);
  return self;
}

BangerPrivBackend *
banger_priv_backend_new_executor (const BangerInstallConfig *config)
{
  g_autoptr (BangerInstallConfig) own = banger_install_config_new ();
  BangerPrivBackend *self;

  g_return_val_if_fail (config != NULL, NULL);
  /* the copy the state takes: paths and binaries from @config, the owner
   * is us */
  own->owner_uid = getuid ();
  own->owner_gid = getgid ();
  g_free (own->runtime_dir);
  own->runtime_dir = g_strdup (config->runtime_dir);
  g_free (own->state_dir);
  own->state_dir = g_strdup (config->state_dir);
  own->firecracker_path = g_strdup (config->firecracker_path);
  own->jailer_path = g_strdup (config->jailer_path);
  own->qemu_path = g_strdup (config->qemu_path);
  own->cgroup_root = g_strdup (config->cgroup_root);
  if (config->vm_network != NULL)
    {
      g_free (own->vm_network);
      own->vm_network = g_strdup (config->vm_network);
    }
  if (config->nft_table != NULL)
    {
      g_free (own->nft_table);
      own->nft_table = g_strdup (config->nft_table);
    }
  self = g_object_new (BANGER_TYPE_PRIV_BACKEND, NULL);
  self->state = banger_priv_state_new (own);
  self->description = g_strdup ("in-process executor");
  return self;
}

BangerPrivBackend *
banger_priv_backend_new_for_call (BangerPrivBackendCallFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free)
{
  BangerPrivBackend *self;

  g_return_val_if_fail (func != NULL, NULL);
  self = g_object_new (BANGER_TYPE_PRIV_BACKEND, NULL);
  self->func = func;
  self->func_data = user_data;
  self->func_data_free = user_data_free;
  self->description = g_strdup ("function backend");
  return self;
}

BangerPrivState *
banger_priv_backend_get_executor_state (BangerPrivBackend *self)
{
  return self->state;
}

void
banger_priv_backend_free (BangerPrivBackend *self)
{
  if (self != NULL)
    g_object_unref (self);
}

const char *
banger_priv_backend_describe (BangerPrivBackend *self)
{
  return self->description;
}

BangerVmmLauncher *
banger_priv_backend_get_launcher (BangerPrivBackend *self)
{
  return self->launcher;
}

JsonObject *
banger_priv_backend_call (BangerPrivBackend *self, const char *method, JsonObject *params,
                          const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) empty = json_object_new ();

  if (params == NULL)
    params = empty;
  if (self->func != NULL)
    return self->func (self->func_data, method, params, op_id, error);
  if (self->state == NULL)
    {
      g_autoptr (BangerPrivClient) client = banger_priv_client_new (self->socket_path);
      return banger_priv_client_call_sync (client, method, params, op_id, cancellable, error);
    }
  {
    BangerPeerCred me = { getuid (), getgid (), getpid () };
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
    g_autoptr (JsonNode) node = NULL;

    if (op_id != NULL)
      g_debug ("op %s: %s (in-process)", op_id, method);
    node = banger_priv_execute (banger_priv_ops_table (), self->state, &me, method, params,
                                cancellable, error);
    if (node == NULL)
      return NULL;
    if (!JSON_NODE_HOLDS_OBJECT (node))
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "%s returned no object", method);
        return NULL;
      }
    return json_object_ref (json_node_get_object (node));
  }
}

/* ===================================================== the public calls */

/**
 * banger_priv_backend_new_for_socket:
 * @socket_path: (type filename): bangerd-root's socket (the install
 *   config's `socket`, by default `/run/banger/bangerd-root.sock`)
 *
 * A backend that sends every call to bangerd-root, as the install's owner
 * (the helper admits only its owner and root: `SO_PEERCRED`).  Nothing is
 * connected until the first call.
 *
 * Returns: (transfer full): a new #BangerPrivBackend
 *
 * Since: 0.2
 */
BangerPrivBackend *
banger_priv_backend_new_for_socket (const char *socket_path)
{
  g_return_val_if_fail (socket_path != NULL, NULL);
  return banger_priv_backend_new_client (socket_path);
}

static gboolean
check_dir (const char *what, const char *path, GError **error)
{
  g_autofree char *q = NULL;

  if (path != NULL && g_path_is_absolute (path))
    return TRUE;
  q = banger_quote (path ? path : "");
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "The %s '%s' is not an absolute path", what, q);
  return FALSE;
}

/**
 * banger_priv_backend_new_in_process:
 * @state_dir: (type filename): the directory VM disks, kernels and images
 *   must be under (the executor refuses paths outside it)
 * @runtime_dir: (type filename): where VM run directories (sockets, logs)
 *   and jails go
 * @vm_network: (nullable): the IPv4 network `a.b.c.d/len` tap and bridge
 *   addresses must lie in, or %NULL for `172.30.0.0/16`
 * @error: return location for a #GError
 *
 * A backend that runs every call in this process, through the validating
 * executor bangerd-root runs (its owner is this process's uid: root).  The
 * VMM binaries are the machine's `qemu-system-x86_64` and `firecracker`
 * found in `PATH` (root-owned, not writable by others, or the launch
 * refuses them), without a jailer; VM cgroups go under
 * `<cgroup2 mount>/banger.slice`; NAT into nftables table `banger`.
 * Calls are run one at a time, as bangerd-root runs them.
 *
 * Returns: (transfer full): a new #BangerPrivBackend, or %NULL with
 *   %BANGER_ERROR_PERMISSION_DENIED when this process is not root,
 *   %BANGER_ERROR_INVALID_ARGUMENT for a relative directory or a bad
 *   network
 *
 * Since: 0.2
 */
BangerPrivBackend *
banger_priv_backend_new_in_process (const char *state_dir, const char *runtime_dir,
                                    const char *vm_network, GError **error)
{
  g_autoptr (BangerInstallConfig) ic = NULL;
  g_autofree char *mount = NULL;
  guint32 addr;
  guint prefix;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (geteuid () != 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                           "The in-process privileged backend needs root: run as root, or use "
                           "bangerd-root (banger_priv_backend_new_for_socket)");
      return NULL;
    }
  if (!check_dir ("state directory", state_dir, error)
      || !check_dir ("runtime directory", runtime_dir, error))
    return NULL;
  if (vm_network != NULL && !banger_install_parse_cidr (vm_network, &addr, &prefix))
    {
      g_autofree char *q = banger_quote (vm_network);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "VM network '%s' is not an IPv4 network a.b.c.d/len", q);
      return NULL;
    }
  ic = banger_install_config_new ();
  g_free (ic->state_dir);
  ic->state_dir = g_strdup (state_dir);
  g_free (ic->runtime_dir);
  ic->runtime_dir = g_strdup (runtime_dir);
  if (vm_network != NULL)
    {
      g_free (ic->vm_network);
      ic->vm_network = g_strdup (vm_network);
    }
  ic->qemu_path = g_find_program_in_path ("qemu-system-x86_64");
  ic->firecracker_path = g_find_program_in_path ("firecracker");
  mount = banger_cgroup2_find_mount (NULL, NULL);
  if (mount != NULL)
    ic->cgroup_root = g_build_filename (mount, "banger.slice", NULL);
  return banger_priv_backend_new_executor (ic);
}

/**
 * banger_priv_backend_get_description:
 * @self: a #BangerPrivBackend
 *
 * Returns: `bangerd-root at PATH` or `in-process executor`
 *
 * Since: 0.2
 */
const char *
banger_priv_backend_get_description (BangerPrivBackend *self)
{
  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), NULL);
  return self->description;
}

/**
 * banger_priv_backend_is_in_process:
 * @self: a #BangerPrivBackend
 *
 * Returns: whether @self is the in-process executor (else bangerd-root)
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_is_in_process (BangerPrivBackend *self)
{
  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  return self->state != NULL;
}

/**
 * banger_vmm_set_backend_launch:
 * @vmm: a #BangerVmm, not launched yet
 * @backend: the privileged backend to launch through
 *
 * Start @vmm's process through @backend (the request `priv.launch_vmm`):
 * never a command line — the backend builds it with the same builder the
 * direct launch uses, from its own binaries and the VM's names — as the
 * install's owner, in the VM's own cgroup and session, the run directory
 * (sockets, console, log) the backend's `<runtime_dir>/vm/<vm id>`.  The
 * kernel and disks must be under the backend's state directory; a QEMU
 * VM's network interface is the VM's own tap
 * (banger_priv_backend_create_tap()).  @vmm keeps a reference to @backend.
 *
 * Since: 0.2
 */
void
banger_vmm_set_backend_launch (BangerVmm *vmm, BangerPrivBackend *backend)
{
  g_return_if_fail (BANGER_IS_VMM (vmm));
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (backend));
  banger_vmm_set_launcher (vmm, backend->launcher);
  g_object_set_data_full (G_OBJECT (vmm), "banger-launch-backend", g_object_ref (backend),
                          g_object_unref);
}

/**
 * banger_cow_strategy_to_string:
 * @strategy: a #BangerCowStrategy
 *
 * Returns: (nullable): `dm-snapshot`, `reflink` or `sparse-copy` (the names
 *   `banger doctor` and `vm show` use), %NULL out of range
 *
 * Since: 0.2
 */

/* ------------------------------------------------------- sync bodies */

static gboolean
check_flags (BangerPrivBackendFlags flags, GError **error)
{
  if ((flags & ~BANGER_PRIV_BACKEND_FLAGS_ALL) == 0)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Unknown privileged backend flags 0x%x",
               (unsigned) (flags & ~BANGER_PRIV_BACKEND_FLAGS_ALL));
  return FALSE;
}

static JsonObject *
vm_params (const char *vm_id)
{
  JsonObject *p = json_object_new ();

  json_object_set_string_member (p, "vm_id", vm_id);
  return p;
}

/* One request of the method table, its result dropped. */
static gboolean
call_vm (BangerPrivBackend *self, const char *method, JsonObject *params,
         GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) r
      = banger_priv_backend_call (self, method, params, NULL, cancellable, error);

  return r != NULL;
}

/**
 * banger_priv_backend_create_tap:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM (a DNS label); the tap's name is derived from it
 * @bridge: (nullable): a bridge of this install to enslave the tap to
 * @address: (nullable): an IPv4 address `a.b.c.d/len` for the tap, inside
 *   the backend's VM network
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes the VM's tap (`priv.create_tap`): owned by the install's owner,
 * persistent, up, marked as this install's; a second call reconfigures it.
 * Something of that name that is not this install's tap is
 * %BANGER_ERROR_PERMISSION_DENIED and left alone; an address outside the
 * VM network likewise; more taps than the install allows is
 * %BANGER_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: (transfer full): the tap's name, or %NULL with the error
 *
 * Since: 0.2
 */
char *
banger_priv_backend_create_tap (BangerPrivBackend *self, const char *vm_id, const char *bridge,
                                const char *address, BangerPrivBackendFlags flags,
                                GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) r = NULL;
  const char *name;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), NULL);
  g_return_val_if_fail (vm_id != NULL, NULL);
  if (!check_flags (flags, error))
    return NULL;
  p = vm_params (vm_id);
  if (bridge != NULL)
    json_object_set_string_member (p, "bridge", bridge);
  if (address != NULL)
    json_object_set_string_member (p, "address", address);
  r = banger_priv_backend_call (self, "priv.create_tap", p, NULL, cancellable, error);
  if (r == NULL)
    return NULL;
  name = json_object_get_string_member_with_default (r, "name", NULL);
  if (name == NULL || !banger_validate_ifname (name, error))
    {
      if (name == NULL)
        g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                             "priv.create_tap answered without a name");
      return NULL;
    }
  return g_strdup (name);
}

/**
 * banger_priv_backend_delete_tap:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM whose tap goes
 * @flags: #BangerPrivBackendFlags
 * @out_deleted: (out) (optional): whether there was a tap to delete
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes the VM's tap (`priv.delete_tap`), only when it is this install's;
 * none there is success.
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_delete_tap (BangerPrivBackend *self, const char *vm_id,
                                BangerPrivBackendFlags flags, gboolean *out_deleted,
                                GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) p = NULL;
  g_autoptr (JsonObject) r = NULL;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (vm_id != NULL, FALSE);
  if (!check_flags (flags, error))
    return FALSE;
  p = vm_params (vm_id);
  r = banger_priv_backend_call (self, "priv.delete_tap", p, NULL, cancellable, error);
  if (r == NULL)
    return FALSE;
  if (out_deleted != NULL)
    *out_deleted = json_object_get_boolean_member_with_default (r, "deleted", FALSE);
  return TRUE;
}

/**
 * banger_priv_backend_nat_enable:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @guest_ip: its IPv4 address
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Masquerades the guest's traffic (`priv.nat_enable`): an element of the
 * set in banger's own nftables table, made and marked as this install's
 * when absent; a table of that name banger did not make is
 * %BANGER_ERROR_PERMISSION_DENIED and untouched.  Nothing outside banger's
 * table changes.
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_nat_enable (BangerPrivBackend *self, const char *vm_id, const char *guest_ip,
                                BangerPrivBackendFlags flags, GCancellable *cancellable,
                                GError **error)
{
  g_autoptr (JsonObject) p = NULL;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (vm_id != NULL && guest_ip != NULL, FALSE);
  if (!check_flags (flags, error))
    return FALSE;
  p = vm_params (vm_id);
  json_object_set_string_member (p, "guest_ip", guest_ip);
  return call_vm (self, "priv.nat_enable", p, cancellable, error);
}

/**
 * banger_priv_backend_nat_disable:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes the VM's NAT elements (`priv.nat_disable`); none is success.
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_nat_disable (BangerPrivBackend *self, const char *vm_id,
                                 BangerPrivBackendFlags flags, GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (JsonObject) p = NULL;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (vm_id != NULL, FALSE);
  if (!check_flags (flags, error))
    return FALSE;
  p = vm_params (vm_id);
  return call_vm (self, "priv.nat_disable", p, cancellable, error);
}

/**
 * banger_priv_backend_create_cow_disk:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM whose root disk this is (names the dm device)
 * @image: (type filename): the image (an ext4 file)
 * @dest: (type filename): the VM's disk file to make (must not exist; for
 *   a dm-snapshot, under the backend's state directory)
 * @flags: #BangerPrivBackendFlags
 * @out_strategy: (out) (optional): the strategy used
 * @out_disk_path: (out) (optional) (transfer full) (type filename): what
 *   to give the VMM: @dest, or the dm device
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes the VM's root disk copy-on-write over @image, choosing the first
 * strategy that works here: a device-mapper snapshot when the backend
 * reports device-mapper (`priv.status`; the snapshot through
 * `priv.dm_snapshot_create` over a sparse store at @dest), else a reflink
 * of @image when the file system of @dest's directory clones, else a
 * sparse copy of @image's data (these two as this process, no privilege
 * needed).  On any failure nothing is left at @dest.
 *
 * Returns: %TRUE, or %FALSE with the error (%BANGER_ERROR_ALREADY_EXISTS
 *   for an existing @dest, %BANGER_ERROR_NOT_FOUND for a missing image or
 *   directory, %BANGER_ERROR_LIMIT_EXCEEDED when the disk is full)
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_create_cow_disk (BangerPrivBackend *self, const char *vm_id,
                                     const char *image, const char *dest,
                                     BangerPrivBackendFlags flags, BangerCowStrategy *out_strategy,
                                     char **out_disk_path, GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (JsonObject) status = NULL;
  BangerCowStrategy strategy;
  g_autofree char *disk = NULL;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (vm_id != NULL && image != NULL && dest != NULL, FALSE);
  if (!check_flags (flags, error) || !banger_validate_vm_name (vm_id, error))
    return FALSE;
  status = banger_priv_backend_call (self, "priv.status", NULL, NULL, cancellable, error);
  if (status == NULL)
    return FALSE;
  if (json_object_get_boolean_member_with_default (status, "device_mapper", FALSE))
    {
      g_autoptr (JsonObject) p = vm_params (vm_id);
      g_autoptr (JsonObject) r = NULL;

      strategy = BANGER_COW_STRATEGY_DM_SNAPSHOT;
      if (!banger_cow_disk_create (strategy, image, dest, BANGER_COW_CREATE_NONE, NULL, NULL,
                                   NULL, cancellable, error))
        return FALSE;
      json_object_set_string_member (p, "base", image);
      json_object_set_string_member (p, "cow", dest);
      r = banger_priv_backend_call (self, "priv.dm_snapshot_create", p, NULL, cancellable, error);
      if (r == NULL || json_object_get_string_member_with_default (r, "device", NULL) == NULL)
        {
          if (r != NULL)
            g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                 "priv.dm_snapshot_create answered without a device");
          g_unlink (dest);
          return FALSE;
        }
      disk = g_strdup (json_object_get_string_member (r, "device"));
    }
  else
    {
      g_autofree char *dir = g_path_get_dirname (dest);

      if (!banger_cow_choose (dir, image, BANGER_COW_CHOOSE_NONE, &strategy, NULL, error)
          || !banger_cow_disk_create (strategy, image, dest, BANGER_COW_CREATE_NONE, NULL, NULL,
                                      NULL, cancellable, error))
        return FALSE;
      disk = g_strdup (dest);
    }
  if (out_strategy != NULL)
    *out_strategy = strategy;
  if (out_disk_path != NULL)
    *out_disk_path = g_steal_pointer (&disk);
  return TRUE;
}

/**
 * banger_priv_backend_create_work_disk:
 * @self: a #BangerPrivBackend
 * @path: (type filename): the file to make, under the backend's state
 *   directory (must not exist)
 * @size_bytes: its size: a multiple of 4096, from 16 MiB to 16 TiB
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes a VM's work disk: a sparse file of @size_bytes made by this
 * process, then a fresh ext4 on it by the backend (`priv.mkfs_work_disk`:
 * `mkfs.ext4` with lazy inode table and journal init, run on the checked
 * file — a regular file with one link, owned by the install's owner, under
 * the state directory).  On any failure the file is removed.
 *
 * Returns: %TRUE, or %FALSE with the error (%BANGER_ERROR_INVALID_ARGUMENT
 *   for a bad size, %BANGER_ERROR_ALREADY_EXISTS for an existing @path,
 *   the backend's refusal otherwise)
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_create_work_disk (BangerPrivBackend *self, const char *path,
                                      guint64 size_bytes, BangerPrivBackendFlags flags,
                                      GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) p = NULL;
  g_autofree char *q = NULL;
  int fd;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  if (!check_flags (flags, error))
    return FALSE;
  if (size_bytes % 4096 != 0 || size_bytes < BANGER_WORK_DISK_MIN_SIZE
      || size_bytes > BANGER_WORK_DISK_MAX_SIZE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Work disk size %" G_GUINT64_FORMAT
                   " is not a multiple of 4096 from 16 MiB to 16 TiB",
                   size_bytes);
      return FALSE;
    }
  q = banger_quote (path);
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Work disk '%s' is not an absolute path", q);
      return FALSE;
    }
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create work disk '%s'", q);
  if (ftruncate (fd, (off_t) size_bytes) < 0)
    {
      int errsv = errno;
      close (fd);
      g_unlink (path);
      return banger_set_error_from_errno (error, errsv, "Cannot size work disk '%s'", q);
    }
  close (fd);
  p = json_object_new ();
  json_object_set_string_member (p, "path", path);
  if (!call_vm (self, "priv.mkfs_work_disk", p, cancellable, error))
    {
      g_unlink (path);
      return FALSE;
    }
  return TRUE;
}

/**
 * banger_priv_backend_cleanup_vm:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes everything the backend made for the VM (`priv.cleanup_vm`,
 * idempotent): its VMM (killed through the pidfd the backend holds), its
 * cgroup, its tap, its NAT elements, its dm snapshot and loop devices, its
 * run directory and jail — each only when it is this install's.
 *
 * Returns: %TRUE, or %FALSE with the first error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_cleanup_vm (BangerPrivBackend *self, const char *vm_id,
                                BangerPrivBackendFlags flags, GCancellable *cancellable,
                                GError **error)
{
  g_autoptr (JsonObject) p = NULL;

  g_return_val_if_fail (BANGER_IS_PRIV_BACKEND (self), FALSE);
  g_return_val_if_fail (vm_id != NULL, FALSE);
  if (!check_flags (flags, error))
    return FALSE;
  p = vm_params (vm_id);
  return call_vm (self, "priv.cleanup_vm", p, cancellable, error);
}

/* ------------------------------------------------------ async forms */

typedef enum
{
  OP_CREATE_TAP,
  OP_DELETE_TAP,
  OP_NAT_ENABLE,
  OP_NAT_DISABLE,
  OP_COW_DISK,
  OP_WORK_DISK,
  OP_CLEANUP_VM,
} OpKind;

typedef struct
{
  OpKind kind;
  char *a; /* vm_id, or the work disk's path */
  char *b; /* bridge, guest_ip, image */
  char *c; /* address, dest */
  guint64 size;
  BangerPrivBackendFlags flags;
  /* results */
  char *out_str; /* tap name, disk path */
  gboolean deleted;
  BangerCowStrategy strategy;
} OpData;

static void
op_data_free (OpData *d)
{
  g_free (d->a);
  g_free (d->b);
  g_free (d->c);
  g_free (d->out_str);
  g_free (d);
}

static void
op_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BangerPrivBackend *self = source;
  OpData *d = task_data;
  GError *error = NULL;
  gboolean ok = FALSE;

  switch (d->kind)
    {
    case OP_CREATE_TAP:
      d->out_str = banger_priv_backend_create_tap (self, d->a, d->b, d->c, d->flags, cancellable,
                                                   &error);
      ok = d->out_str != NULL;
      break;
    case OP_DELETE_TAP:
      ok = banger_priv_backend_delete_tap (self, d->a, d->flags, &d->deleted, cancellable,
                                           &error);
      break;
    case OP_NAT_ENABLE:
      ok = banger_priv_backend_nat_enable (self, d->a, d->b, d->flags, cancellable, &error);
      break;
    case OP_NAT_DISABLE:
      ok = banger_priv_backend_nat_disable (self, d->a, d->flags, cancellable, &error);
      break;
    case OP_COW_DISK:
      ok = banger_priv_backend_create_cow_disk (self, d->a, d->b, d->c, d->flags, &d->strategy,
                                                &d->out_str, cancellable, &error);
      break;
    case OP_WORK_DISK:
      ok = banger_priv_backend_create_work_disk (self, d->a, d->size, d->flags, cancellable,
                                                 &error);
      break;
    case OP_CLEANUP_VM:
      ok = banger_priv_backend_cleanup_vm (self, d->a, d->flags, cancellable, &error);
      break;
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
op_start (BangerPrivBackend *self, OpData *d, gpointer tag, GCancellable *cancellable,
          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, d, (GDestroyNotify) op_data_free);
  g_task_run_in_thread (task, op_thread);
}

static OpData *
op_new (OpKind kind, const char *a, const char *b, const char *c, BangerPrivBackendFlags flags)
{
  OpData *d = g_new0 (OpData, 1);

  d->kind = kind;
  d->a = g_strdup (a);
  d->b = g_strdup (b);
  d->c = g_strdup (c);
  d->flags = flags;
  return d;
}

/* The task's data when it succeeded, NULL with the error. */
static OpData *
op_finish (BangerPrivBackend *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_task_get_task_data (G_TASK (result));
}

/**
 * banger_priv_backend_create_tap_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM (a DNS label)
 * @bridge: (nullable): a bridge of this install
 * @address: (nullable): an IPv4 address `a.b.c.d/len` for the tap
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_create_tap().
 *
 * Since: 0.2
 */
void
banger_priv_backend_create_tap_async (BangerPrivBackend *self, const char *vm_id,
                                      const char *bridge, const char *address,
                                      BangerPrivBackendFlags flags, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL);
  op_start (self, op_new (OP_CREATE_TAP, vm_id, bridge, address, flags),
            banger_priv_backend_create_tap_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_create_tap_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the tap's name, or %NULL with the error
 *
 * Since: 0.2
 */
char *
banger_priv_backend_create_tap_finish (BangerPrivBackend *self, GAsyncResult *result,
                                       GError **error)
{
  OpData *d = op_finish (self, result, banger_priv_backend_create_tap_async, error);

  return d ? g_steal_pointer (&d->out_str) : NULL;
}

/**
 * banger_priv_backend_delete_tap_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM whose tap goes
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_delete_tap().
 *
 * Since: 0.2
 */
void
banger_priv_backend_delete_tap_async (BangerPrivBackend *self, const char *vm_id,
                                      BangerPrivBackendFlags flags, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL);
  op_start (self, op_new (OP_DELETE_TAP, vm_id, NULL, NULL, flags),
            banger_priv_backend_delete_tap_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_delete_tap_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @out_deleted: (out) (optional): whether there was a tap to delete
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_delete_tap_finish (BangerPrivBackend *self, GAsyncResult *result,
                                       gboolean *out_deleted, GError **error)
{
  OpData *d = op_finish (self, result, banger_priv_backend_delete_tap_async, error);

  if (d == NULL)
    return FALSE;
  if (out_deleted != NULL)
    *out_deleted = d->deleted;
  return TRUE;
}

/**
 * banger_priv_backend_nat_enable_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @guest_ip: its IPv4 address
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_nat_enable().
 *
 * Since: 0.2
 */
void
banger_priv_backend_nat_enable_async (BangerPrivBackend *self, const char *vm_id,
                                      const char *guest_ip, BangerPrivBackendFlags flags,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL && guest_ip != NULL);
  op_start (self, op_new (OP_NAT_ENABLE, vm_id, guest_ip, NULL, flags),
            banger_priv_backend_nat_enable_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_nat_enable_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_nat_enable_finish (BangerPrivBackend *self, GAsyncResult *result,
                                       GError **error)
{
  return op_finish (self, result, banger_priv_backend_nat_enable_async, error) != NULL;
}

/**
 * banger_priv_backend_nat_disable_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_nat_disable().
 *
 * Since: 0.2
 */
void
banger_priv_backend_nat_disable_async (BangerPrivBackend *self, const char *vm_id,
                                       BangerPrivBackendFlags flags, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL);
  op_start (self, op_new (OP_NAT_DISABLE, vm_id, NULL, NULL, flags),
            banger_priv_backend_nat_disable_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_nat_disable_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_nat_disable_finish (BangerPrivBackend *self, GAsyncResult *result,
                                        GError **error)
{
  return op_finish (self, result, banger_priv_backend_nat_disable_async, error) != NULL;
}

/**
 * banger_priv_backend_create_cow_disk_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM whose root disk this is
 * @image: (type filename): the image
 * @dest: (type filename): the VM's disk file to make
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_create_cow_disk().
 *
 * Since: 0.2
 */
void
banger_priv_backend_create_cow_disk_async (BangerPrivBackend *self, const char *vm_id,
                                           const char *image, const char *dest,
                                           BangerPrivBackendFlags flags,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL && image != NULL && dest != NULL);
  op_start (self, op_new (OP_COW_DISK, vm_id, image, dest, flags),
            banger_priv_backend_create_cow_disk_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_create_cow_disk_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @out_strategy: (out) (optional): the strategy used
 * @out_disk_path: (out) (optional) (transfer full) (type filename): what
 *   to give the VMM
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_create_cow_disk_finish (BangerPrivBackend *self, GAsyncResult *result,
                                            BangerCowStrategy *out_strategy,
                                            char **out_disk_path, GError **error)
{
  OpData *d = op_finish (self, result, banger_priv_backend_create_cow_disk_async, error);

  if (d == NULL)
    return FALSE;
  if (out_strategy != NULL)
    *out_strategy = d->strategy;
  if (out_disk_path != NULL)
    *out_disk_path = g_steal_pointer (&d->out_str);
  return TRUE;
}

/**
 * banger_priv_backend_create_work_disk_async:
 * @self: a #BangerPrivBackend
 * @path: (type filename): the file to make, under the backend's state
 *   directory
 * @size_bytes: its size
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_create_work_disk().
 *
 * Since: 0.2
 */
void
banger_priv_backend_create_work_disk_async (BangerPrivBackend *self, const char *path,
                                            guint64 size_bytes, BangerPrivBackendFlags flags,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data)
{
  OpData *d;

  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (path != NULL);
  d = op_new (OP_WORK_DISK, path, NULL, NULL, flags);
  d->size = size_bytes;
  op_start (self, d, banger_priv_backend_create_work_disk_async, cancellable, callback,
            user_data);
}

/**
 * banger_priv_backend_create_work_disk_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_create_work_disk_finish (BangerPrivBackend *self, GAsyncResult *result,
                                             GError **error)
{
  return op_finish (self, result, banger_priv_backend_create_work_disk_async, error) != NULL;
}

/**
 * banger_priv_backend_cleanup_vm_async:
 * @self: a #BangerPrivBackend
 * @vm_id: the VM
 * @flags: #BangerPrivBackendFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * The asynchronous form of banger_priv_backend_cleanup_vm().
 *
 * Since: 0.2
 */
void
banger_priv_backend_cleanup_vm_async (BangerPrivBackend *self, const char *vm_id,
                                      BangerPrivBackendFlags flags, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_PRIV_BACKEND (self));
  g_return_if_fail (vm_id != NULL);
  op_start (self, op_new (OP_CLEANUP_VM, vm_id, NULL, NULL, flags),
            banger_priv_backend_cleanup_vm_async, cancellable, callback, user_data);
}

/**
 * banger_priv_backend_cleanup_vm_finish:
 * @self: a #BangerPrivBackend
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with the error
 *
 * Since: 0.2
 */
gboolean
banger_priv_backend_cleanup_vm_finish (BangerPrivBackend *self, GAsyncResult *result,
                                       GError **error)
{
  return op_finish (self, result, banger_priv_backend_cleanup_vm_async, error) != NULL;
}
