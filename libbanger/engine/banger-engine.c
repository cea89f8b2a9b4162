/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine object, and its kernel and image services
 * (see banger-engine.h, doc/engine.md). */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-cow-disk.h"
#include "banger-engine-private.h"
#include "banger-engine-pull.h"
#include "banger-engine-ssh.h"
#include "banger-error.h"
#include "banger-store.h"
#include "banger-vmm.h"

G_DEFINE_FINAL_TYPE (BangerEngine, banger_engine, G_TYPE_OBJECT)

static void
banger_engine_finalize (GObject *object)
{
  BangerEngine *self = BANGER_ENGINE (object);

  g_clear_pointer (&self->vmms, g_hash_table_unref);
  g_clear_pointer (&self->vm_locks, g_hash_table_unref);
  g_clear_pointer (&self->taps, g_hash_table_unref);
  g_clear_pointer (&self->pulls, banger_engine_pulls_free);
  g_clear_pointer (&self->key, banger_guest_key_unref);
  if (self->tap_pool != NULL)
    banger_tap_pool_stop (self->tap_pool);
  g_clear_object (&self->tap_pool);
  g_clear_pointer (&self->dns, banger_engine_dns_free);
  g_clear_pointer (&self->backend, banger_priv_backend_free);
  if (self->store != NULL)
    banger_store_set_vm_changed_func (self->store, NULL, NULL);
  g_clear_pointer (&self->store, banger_store_unref);
  g_clear_pointer (&self->events, banger_engine_events_free);
  g_clear_pointer (&self->config, banger_engine_config_free);
  g_free (self->images_dir);
  g_free (self->kernels_dir);
  g_free (self->vms_dir);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (banger_engine_parent_class)->finalize (object);
}

static void
banger_engine_class_init (BangerEngineClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_engine_finalize;
}

static void
free_mutex (gpointer p)
{
  g_mutex_clear (p);
  g_free (p);
}

static void
banger_engine_init (BangerEngine *self)
{
  g_mutex_init (&self->lock);
  self->vmms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->vm_locks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_mutex);
  self->taps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->events = banger_engine_events_new ();
  self->pulls = banger_engine_pulls_new ();
}

static gboolean
make_dir (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot create '%s': %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_backend (BangerEngine *self, GError **error)
{
  BangerEngineConfig *c = self->config;
  g_autoptr (BangerInstallConfig) ic = NULL;

  if (c->helper_socket != NULL)
    {
      self->backend = banger_priv_backend_new_client (c->helper_socket);
      return TRUE;
    }
  if (getuid () != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "banger needs root for taps, NAT and VM cgroups: run it as root, or "
                   "install the root helper (sudo banger system install) and set "
                   "[helper] socket= in the daemon's config");
      return FALSE;
    }
  ic = banger_install_config_new ();
  g_free (ic->runtime_dir);
  ic->runtime_dir = g_strdup (c->runtime_dir);
  g_free (ic->state_dir);
  ic->state_dir = g_strdup (c->state_dir);
  ic->firecracker_path = g_strdup (c->firecracker_path);
  ic->jailer_path = g_strdup (c->jailer_path);
  ic->qemu_path
      = c->qemu_path ? g_strdup (c->qemu_path) : g_find_program_in_path ("qemu-system-x86_64");
  if (c->cgroup_root != NULL)
    ic->cgroup_root = g_strdup (c->cgroup_root);
  else
    {
      g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);
      if (mount != NULL)
        ic->cgroup_root = g_build_filename (mount, "banger.slice", NULL);
    }
  /* in-process, the engine's subnet is the one VM network taps and
   * bridges may use */
  g_free (ic->vm_network);
  ic->vm_network = g_strdup (c->subnet);
  if (c->nft_table != NULL)
    {
      g_free (ic->nft_table);
      ic->nft_table = g_strdup (c->nft_table);
    }
  self->backend = banger_priv_backend_new_executor (ic);
  return TRUE;
}

BangerEngine *
banger_engine_new (BangerEngineConfig *config, GError **error)
{
  g_autoptr (BangerEngine) self = g_object_new (BANGER_TYPE_ENGINE, NULL);
  g_autofree char *db = NULL;
  g_autofree char *ssh_dir = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  self->config = config;
  if (config->state_dir == NULL)
    config->state_dir = banger_engine_default_state_dir ();
  if (config->runtime_dir == NULL)
    config->runtime_dir = banger_engine_default_runtime_dir ();
  self->images_dir = g_build_filename (config->state_dir, "images", NULL);
  self->kernels_dir = g_build_filename (config->state_dir, "kernels", NULL);
  self->vms_dir = g_build_filename (config->state_dir, "vms", NULL);
  ssh_dir = g_build_filename (config->state_dir, "ssh", NULL);
  if (!make_dir (config->state_dir, 0700, error) || !make_dir (config->runtime_dir, 0700, error)
      || !make_dir (self->images_dir, 0700, error) || !make_dir (self->kernels_dir, 0700, error)
      || !make_dir (self->vms_dir, 0700, error))
    return NULL;
  db = g_build_filename (config->state_dir, BANGER_STORE_FILE_NAME, NULL);
  self->store = banger_store_open (db, BANGER_STORE_OPEN_NONE, error);
  if (self->store == NULL)
    return NULL;
  banger_engine_events_attach_store (self);
  self->key = banger_guest_key_load_or_create (ssh_dir, NULL, error);
  if (self->key == NULL)
    return NULL;
  self->dns = banger_engine_dns_new (config->domain, config->dns_port, error);
  if (self->dns == NULL)
    return NULL;
  if (!make_backend (self, error) || !banger_engine_reconcile (self, error)
      || !banger_engine_reconcile_host (self, error))
    return NULL;
  /* the included ssh_config, current from the start (doc/ssh.md) */
  banger_engine_ssh_config_refresh_logged (self, "start-up");
  return g_steal_pointer (&self);
}

const BangerEngineConfig *
banger_engine_get_config (BangerEngine *self)
{
  return self->config;
}

BangerStore *
banger_engine_get_store (BangerEngine *self)
{
  return self->store;
}

BangerPrivBackend *
banger_engine_get_backend (BangerEngine *self)
{
  return self->backend;
}

GMutex *
banger_engine_vm_lock (BangerEngine *self, const char *name)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GMutex *m = g_hash_table_lookup (self->vm_locks, name);

  if (m == NULL)
    {
      m = g_new0 (GMutex, 1);
      g_mutex_init (m);
      g_hash_table_insert (self->vm_locks, g_strdup (name), m);
    }
  return m;
}

gboolean
banger_engine_remove_tree (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) e = NULL;
  g_autoptr (GError) local = NULL;

  e = g_file_enumerate_children (file,
                                 G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                 G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, &local);
  if (e == NULL)
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  else
    {
      GFileInfo *info;
      GFile *child;

      while (g_file_enumerator_iterate (e, &info, &child, NULL, error) && info != NULL)
        {
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            {
              g_autofree char *p = g_file_get_path (child);
              if (!banger_engine_remove_tree (p, error))
                return FALSE;
            }
          else if (!g_file_delete (child, NULL, error))
            return FALSE;
        }
    }
  return g_file_delete (file, NULL, error);
}

/* ---------------------------------------------------------------- kernels */

static gboolean
copy_file (const char *src, const char *dest, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) s = g_file_new_for_path (src);
  g_autoptr (GFile) d = g_file_new_for_path (dest);
  g_autoptr (GError) local = NULL;

  if (!g_file_copy (s, d, G_FILE_COPY_NOFOLLOW_SYMLINKS, cancellable, NULL, NULL, &local))
    {
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                       ? BANGER_ERROR_NOT_FOUND
                       : BANGER_ERROR_FAILED,
                   "Cannot copy '%s': %s", src, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_source (const char *what, const char *path, GError **error)
{
  if (path == NULL || !g_path_is_absolute (path))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The %s path '%s' is not absolute", what, path ? path : "");
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "The %s '%s' is not a file", what,
                   path);
      return FALSE;
    }
  return TRUE;
}

BangerStoreKernel *
banger_engine_kernel_add (BangerEngine *self, const char *name, const char *kernel_path,
                          const char *initrd_path, const char *cmdline, const char *op_id,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerStoreKernel) record = NULL;
  g_autoptr (BangerStoreKernel) added = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *kdest = NULL;
  g_autofree char *idest = NULL;
  g_autoptr (BangerStoreKernel) existing = NULL;

  if (!banger_store_validate_object_name ("kernel", name, error)
      || !check_source ("kernel", kernel_path, error)
      || (initrd_path != NULL && !check_source ("initrd", initrd_path, error)))
    return NULL;
  existing = banger_store_kernel_get_by_name (self->store, name, NULL);
  if (existing != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS, "Kernel '%s' already exists",
                   name);
      return NULL;
    }
  dir = g_build_filename (self->kernels_dir, name, NULL);
  if (g_mkdir (dir, 0700) < 0)
    {
      g_set_error (error, BANGER_ERROR,
                   errno == EEXIST ? BANGER_ERROR_ALREADY_EXISTS : BANGER_ERROR_FAILED,
                   "Cannot create '%s': %s", dir, g_strerror (errno));
      return NULL;
    }
  banger_engine_log (op_id, "kernel.add %s from %s", name, kernel_path);
  kdest = g_build_filename (dir, "vmlinuz", NULL);
  if (initrd_path != NULL)
    idest = g_build_filename (dir, "initrd.img", NULL);
  record = banger_store_kernel_new (name, kdest, idest, cmdline);
  if (!copy_file (kernel_path, kdest, cancellable, error)
      || (idest != NULL && !copy_file (initrd_path, idest, cancellable, error))
      || (added = banger_store_kernel_add (self->store, record, error)) == NULL)
    {
      banger_engine_remove_tree (dir, NULL);
      return NULL;
    }
  return g_steal_pointer (&added);
}

GPtrArray *
banger_engine_kernel_list (BangerEngine *self, GError **error)
{
  return banger_store_kernel_list (self->store, error);
}

gboolean
banger_engine_kernel_delete (BangerEngine *self, const char *name, const char *op_id,
                             GError **error)
{
  g_autoptr (BangerStoreKernel) k = banger_store_kernel_get_by_name (self->store, name, error);
  g_autofree char *dir = NULL;

  if (k == NULL)
    return FALSE;
  banger_engine_log (op_id, "kernel.delete %s", name);
  if (!banger_store_kernel_delete (self->store, name, error))
    return FALSE;
  dir = g_path_get_dirname (k->kernel_path);
  return banger_engine_remove_tree (dir, error);
}

/* ----------------------------------------------------------------- images */

BangerStoreImage *
banger_engine_image_import (BangerEngine *self, const char *name, const char *rootfs_path,
                            const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerStoreImage) existing = NULL;
  g_autoptr (BangerStoreImage) record = NULL;
  g_autoptr (BangerStoreImage) added = NULL;
  g_autofree char *file = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *detail = NULL;
  BangerCowStrategy strategy;
  BangerCowResult result = { 0 };

  if (!banger_store_validate_object_name ("image", name, error)
      || !check_source ("rootfs", rootfs_path, error))
    return NULL;
  existing = banger_store_image_get_by_name (self->store, name, NULL);
  if (existing != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS, "Image '%s' already exists",
                   name);
      return NULL;
    }
  file = g_strconcat (name, ".ext4", NULL);
  dest = g_build_filename (self->images_dir, file, NULL);
  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS, "'%s' already exists", dest);
      return NULL;
    }
  /* reflink where the file system can, else a sparse copy (never dm: an
   * image is a plain file) */
  if (!banger_cow_choose (self->images_dir, rootfs_path, BANGER_COW_CHOOSE_NONE, &strategy, &detail,
                          error))
    return NULL;
  banger_engine_log (op_id, "image.import %s from %s (%s)", name, rootfs_path,
                     banger_cow_strategy_to_string (strategy));
  if (!banger_cow_disk_create (strategy, rootfs_path, dest, BANGER_COW_CREATE_NONE, NULL, NULL,
                               &result, cancellable, error))
    return NULL;
  record = banger_store_image_new (name, dest, result.image_size, NULL);
  added = banger_store_image_add (self->store, record, error);
  if (added == NULL)
    g_unlink (dest);
  return g_steal_pointer (&added);
}

GPtrArray *
banger_engine_image_list (BangerEngine *self, GError **error)
{
  return banger_store_image_list (self->store, error);
}

gboolean
banger_engine_image_delete (BangerEngine *self, const char *name, const char *op_id, GError **error)
{
  g_autoptr (BangerStoreImage) image = banger_store_image_get_by_name (self->store, name, error);

  if (image == NULL)
    return FALSE;
  banger_engine_log (op_id, "image.delete %s", name);
  if (!banger_store_image_delete (self->store, name, error))
    return FALSE;
  if (g_unlink (image->rootfs_path) < 0 && errno != ENOENT)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot remove '%s': %s",
                   image->rootfs_path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}
