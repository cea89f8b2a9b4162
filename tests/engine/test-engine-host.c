/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's host side, for real, as root inside a network namespace and
 * a cgroup root this test makes, with the in-process executor:
 *   - the tap pool ([pool] taps=2): real "bngp" taps on the bridge, a VM
 *     takes one (renamed to the VM's own tap, which the helper's ordinary
 *     delete_tap recognises), the pool refills; a restart keeps the pool,
 *     forgets a tap deleted behind its back, removes an unrecorded one;
 *   - orphans at start: taps, NAT elements, cgroup scopes, run dirs and VM
 *     directories of VM ids without a record or whose VM is stopped are
 *     removed; those of a running (adopted) VM are kept, its process too;
 *   - dm-snapshot root disks against a fake device-mapper in the executor
 *     (this kernel has none): the COW store and the device, the key in the
 *     VM's device and not in the image, the device gone when the VM is
 *     stopped, undone when device creation fails and when a start fails;
 *     and the fallback without device-mapper. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-cow-disk.h"
#include "banger-dm.h"
#include "banger-engine-private.h"
#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-install-config.h"
#include "banger-nft.h"
#include "banger-pool-tap-names.h"
#include "banger-proc-identity.h"
#include "banger-store.h"
#include "banger-test.h"
#include "host/host-test-util.h"

#define SUBNET "10.97.0.0/24"

typedef struct
{
  char *dir;
  char *state_dir;
  char *runtime_dir;
  char *cgroup_root;
  char *image;
  char *kernel;
} Dirs;

static char *
cgroup_root_of_test (void)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);
  ck_assert (mount != NULL);
  /* the fixture's (host_test_cgroup_setup, run in the parent) */
  return g_strdup_printf ("%s/banger-test-%d.slice", mount, (int)getppid ());
}

static Dirs *
dirs_new (void)
{
  Dirs *d = g_new0 (Dirs, 1);
  g_autofree char *tree = NULL;

  d->dir = g_dir_make_tmp ("banger-eh-XXXXXX", NULL);
  ck_assert (d->dir != NULL);
  ck_assert (chmod (d->dir, 0755) == 0);
  d->state_dir = g_build_filename (d->dir, "state", NULL);
  d->runtime_dir = g_build_filename (d->dir, "run", NULL);
  d->cgroup_root = cgroup_root_of_test ();
  tree = g_build_filename (d->dir, "tree", "root", ".ssh", NULL);
  ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
  d->image = g_build_filename (d->dir, "rootfs.ext4", NULL);
  {
    g_autofree char *t = g_build_filename (d->dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", t, d->image, "16M", NULL };
    ck_assert (g_spawn_sync (NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL));
  }
  d->kernel = g_build_filename (d->dir, "vmlinuz", NULL);
  ck_assert (g_file_set_contents (d->kernel, "not a kernel", -1, NULL));
  return d;
}

static void
dirs_free (Dirs *d)
{
  const char *rm[] = { "rm", "-rf", "--one-file-system", d->dir, NULL };
  g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (d->dir);
  g_free (d->state_dir);
  g_free (d->runtime_dir);
  g_free (d->cgroup_root);
  g_free (d->image);
  g_free (d->kernel);
  g_free (d);
}

static BangerEngine *
engine_new (Dirs *d, guint taps, const char *qemu)
{
  BangerEngineConfig *c = banger_engine_config_new ();
  g_autoptr (GError) error = NULL;
  BangerEngine *e;

  c->state_dir = g_strdup (d->state_dir);
  c->runtime_dir = g_strdup (d->runtime_dir);
  c->cgroup_root = g_strdup (d->cgroup_root);
  c->subnet = (g_free (c->subnet), g_strdup (SUBNET));
  c->taps = taps;
  c->nat = TRUE;
  if (qemu != NULL)
    c->qemu_path = g_strdup (qemu);
  e = banger_engine_new (c, &error);
  ck_assert_msg (e != NULL, "engine: %s", error ? error->message : "?");
  return e;
}

static void
add_kernel_and_image (BangerEngine *e, Dirs *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreKernel) k = banger_engine_kernel_add (e, "k", d->kernel, NULL, NULL, NULL,
                                                              NULL, &error);
  g_autoptr (BangerStoreImage) im = NULL;

  ck_assert_msg (k != NULL, "%s", error ? error->message : "?");
  im = banger_engine_image_import (e, "img", d->image, NULL, NULL, &error);
  ck_assert_msg (im != NULL, "%s", error ? error->message : "?");
}

static char *
create_stopped (BangerEngine *e, const char *name)
{
  BangerEngineVmSpec spec = { .name = name, .image = "img", .kernel = "k", .vmm = -1,
                              .no_start = TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_create (e, &spec, NULL, NULL, &error);

  ck_assert_msg (info != NULL, "create %s: %s", name, error ? error->message : "?");
  return g_strdup (info->vm->id);
}

static char *
run_out (const char *const *argv)
{
  char *out = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    {
      g_free (out);
      return NULL;
    }
  return out;
}

/* The links of this namespace whose name starts with @prefix. */
static guint
count_links (const char *prefix, const char *master)
{
  const char *argv[] = { "ip", "-o", "link", "show", NULL };
  g_autofree char *out = run_out (argv);
  g_auto (GStrv) lines = NULL;
  g_autofree char *needle = g_strdup_printf (": %s", prefix);
  g_autofree char *master_needle = master ? g_strdup_printf (" master %s ", master) : NULL;
  guint n = 0;

  ck_assert (out != NULL);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], needle) != NULL
        && (master_needle == NULL || strstr (lines[i], master_needle) != NULL))
      n++;
  return n;
}

static gboolean
link_exists (const char *name)
{
  const char *argv[] = { "ip", "link", "show", name, NULL };
  g_autofree char *out = run_out (argv);
  return out != NULL;
}

static char *
link_alias (const char *name)
{
  const char *argv[] = { "ip", "-d", "link", "show", name, NULL };
  g_autofree char *out = run_out (argv);
  const char *a = out ? strstr (out, "alias ") : NULL;
  const char *end;

  if (a == NULL)
    return NULL;
  a += strlen ("alias ");
  end = strchr (a, '\n');
  return g_strndup (a, end ? (gsize)(end - a) : strlen (a));
}

static JsonObject *
priv (BangerEngine *e, const char *method, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = json_from_string (json, &error);
  JsonObject *r;

  ck_assert (node != NULL);
  r = banger_priv_backend_call (banger_engine_get_backend (e), method, json_node_get_object (node),
                                NULL, NULL, &error);
  ck_assert_msg (r != NULL, "%s %s: %s", method, json, error ? error->message : "?");
  return r;
}

/* ------------------------------------------------------------ the pool */

START_TEST (test_pool_real)
{
  Dirs *d = dirs_new ();
  BangerEngine *e;
  g_autoptr (GError) error = NULL;
  g_autofree char *vm = NULL;
  g_autofree char *tap = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *alias = NULL;
  g_autofree char *want_alias = NULL;
  BangerTapPoolStats st;

  host_test_netns_enter ();
  e = engine_new (d, 2, NULL);
  add_kernel_and_image (e, d);
  ck_assert (banger_tap_pool_wait_full (e->tap_pool, 20000));
  /* two real taps, on the engine's bridge, marked as pool taps */
  ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, BANGER_ENGINE_BRIDGE), 2);
  ck_assert_uint_eq (count_links (BANGER_TAP_PREFIX, NULL), 0);

  /* a VM takes one: renamed to its own tap, marked for it, still on the
   * bridge; the pool makes another */
  vm = create_stopped (e, "vm-1");
  expected = banger_host_tap_name_for (NULL, vm, NULL);
  {
    gint64 t0 = g_get_monotonic_time ();
    tap = banger_tap_pool_take (e->tap_pool, vm, "t", NULL, &error);
    /* (a figure for doc/engine.md: a take against making a tap) */
    g_printerr ("# pool take: %.2f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
  }
  ck_assert_msg (tap != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (tap, expected);
  alias = link_alias (tap);
  want_alias = banger_host_tap_marker (NULL, vm);
  ck_assert_str_eq (alias, want_alias);
  ck_assert_uint_eq (count_links (BANGER_TAP_PREFIX, BANGER_ENGINE_BRIDGE), 1);
  ck_assert (banger_tap_pool_wait_full (e->tap_pool, 20000));
  ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, BANGER_ENGINE_BRIDGE), 2);
  banger_tap_pool_get_stats (e->tap_pool, &st);
  ck_assert_uint_eq (st.made, 3);
  ck_assert_uint_eq (st.taken, 1);

  {
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (JsonObject) r
        = priv (e, "priv.create_tap", "{\"vm_id\": \"figure\", \"bridge\": \"bngbr0\"}");
    g_printerr ("# create_tap: %.2f ms\n", (g_get_monotonic_time () - t0) / 1000.0);
    g_clear_pointer (&r, json_object_unref);
    r = priv (e, "priv.delete_tap", "{\"vm_id\": \"figure\"}");
  }
  /* it is the VM's tap for the helper: the ordinary delete_tap takes it */
  {
    g_autofree char *p = g_strdup_printf ("{\"vm_id\": \"%s\"}", vm);
    g_autoptr (JsonObject) r = priv (e, "priv.delete_tap", p);
    ck_assert (json_object_get_boolean_member (r, "deleted"));
  }
  ck_assert (!link_exists (tap));

  /* a restart keeps the pool as it is */
  g_clear_object (&e);
  e = engine_new (d, 2, NULL);
  ck_assert (banger_tap_pool_wait_full (e->tap_pool, 20000));
  banger_tap_pool_get_stats (e->tap_pool, &st);
  ck_assert_uint_eq (st.made, 0);
  ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, NULL), 2);

  /* one deleted behind its back, one made that the store does not know:
   * the restart forgets the first, removes the second, refills */
  {
    g_autoptr (GPtrArray) rows = banger_store_tap_list (banger_engine_get_store (e), &error);
    g_autofree char *stray = banger_pool_tap_name_new ();
    g_autofree char *p = g_strdup_printf ("{\"tap\": \"%s\"}", stray);
    const char *name = ((BangerStoreTap *)rows->pdata[0])->name;
    const char *del[] = { "ip", "link", "del", name, NULL };
    g_autofree char *out = NULL;
    g_autoptr (JsonObject) r = NULL;

    banger_tap_pool_stop (e->tap_pool);
    out = run_out (del);
    ck_assert (out != NULL);
    r = priv (e, "priv.pool_tap_create", p);
    ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, NULL), 2);
    g_clear_object (&e);
    e = engine_new (d, 2, NULL);
    ck_assert (!link_exists (stray));
    ck_assert (banger_tap_pool_wait_full (e->tap_pool, 20000));
    banger_tap_pool_get_stats (e->tap_pool, &st);
    ck_assert_uint_eq (st.made, 1);
    ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, NULL), 2);
    g_clear_pointer (&rows, g_ptr_array_unref);
    rows = banger_store_tap_list (banger_engine_get_store (e), &error);
    ck_assert_uint_eq (rows->len, 2);
    for (guint i = 0; i < rows->len; i++)
      ck_assert (link_exists (((BangerStoreTap *)rows->pdata[i])->name));
  }

  /* taps=0 after that: the pool's taps go at the next start */
  g_clear_object (&e);
  e = engine_new (d, 0, NULL);
  ck_assert_uint_eq (count_links (BANGER_POOL_TAP_PREFIX, NULL), 0);
  ck_assert (banger_engine_vm_delete (e, "vm-1", NULL, NULL, &error));
  g_clear_object (&e);
  dirs_free (d);
}
END_TEST

/* --------------------------------------------------------- orphans */

typedef struct
{
  const char *id;
  char *tap;
  char *scope;
  char *run;
} Planted;

static void
plant (BangerEngine *e, Dirs *d, Planted *p, const char *ip)
{
  g_autofree char *tap_json = g_strdup_printf ("{\"vm_id\": \"%s\"}", p->id);
  g_autofree char *nat_json
      = g_strdup_printf ("{\"vm_id\": \"%s\", \"guest_ip\": \"%s\"}", p->id, ip);
  g_autoptr (JsonObject) r1 = priv (e, "priv.create_tap", tap_json);
  g_autoptr (JsonObject) r2 = priv (e, "priv.nat_enable", nat_json);
  g_autofree char *scope_name = banger_host_scope_name (p->id, NULL);

  p->tap = g_strdup (json_object_get_string_member (r1, "name"));
  p->scope = g_build_filename (d->cgroup_root, scope_name, NULL);
  p->run = g_build_filename (d->runtime_dir, "vm", p->id, NULL);
  ck_assert_msg (g_mkdir_with_parents (p->scope, 0755) == 0, "%s: %s", p->scope,
                 g_strerror (errno));
  ck_assert (g_mkdir_with_parents (p->run, 0700) == 0);
  {
    g_autofree char *f = g_build_filename (p->run, "console.log", NULL);
    ck_assert (g_file_set_contents (f, "x", 1, NULL));
  }
}

static guint
nat_elements (const char *id)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ips = banger_nft_list_vm_for (BANGER_NFT_DEFAULT_TABLE, NULL, id, &error);
  ck_assert_msg (ips != NULL, "%s", error ? error->message : "?");
  return g_strv_length (ips);
}

static void
assert_planted (Planted *p, gboolean kept)
{
  ck_assert_msg (link_exists (p->tap) == kept, "tap of %s", p->id);
  ck_assert_msg (nat_elements (p->id) == (kept ? 1u : 0u), "NAT of %s", p->id);
  ck_assert_msg (g_file_test (p->scope, G_FILE_TEST_IS_DIR) == kept, "scope of %s", p->id);
  ck_assert_msg (g_file_test (p->run, G_FILE_TEST_IS_DIR) == kept, "run dir of %s", p->id);
}

/* An executor of another install (install id "kit", as the guest kit's
 * helper) in the same namespace: its host objects are never this
 * install's orphans, whatever VM id they are named after. */
static BangerPrivState *
other_install_new (Dirs *d)
{
  g_autoptr (BangerInstallConfig) ic = banger_install_config_new ();

  ic->owner_uid = getuid ();
  ic->owner_gid = getgid ();
  ic->install_id = g_strdup ("kit");
  g_free (ic->runtime_dir);
  ic->runtime_dir = g_build_filename (d->dir, "kit-run", NULL);
  g_free (ic->state_dir);
  ic->state_dir = g_build_filename (d->dir, "kit-state", NULL);
  ck_assert (g_mkdir (ic->runtime_dir, 0755) == 0 && g_mkdir (ic->state_dir, 0755) == 0);
  /* never made: it makes no VMM scope */
  ic->cgroup_root = g_strdup_printf ("%s-kit", d->cgroup_root);
  /* two installs on one host need a table each: the table is marked as one
   * install's, and the other's NAT (and priv.cleanup_vm) refuses it */
  g_free (ic->nft_table);
  ic->nft_table = g_strdup ("banger_kit");
  return banger_priv_state_new (ic);
}

static char *
other_tap (BangerPrivState *other, const char *vm_id)
{
  g_autofree char *params = g_strdup_printf ("{\"vm_id\": \"%s\"}", vm_id);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (other, "priv.create_tap", params, &error);

  ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
  return g_strdup (json_object_get_string_member (json_node_get_object (r), "name"));
}

START_TEST (test_orphans)
{
  Dirs *d = dirs_new ();
  BangerEngine *e;
  g_autoptr (GError) error = NULL;
  g_autofree char *live_id = NULL;
  g_autofree char *stopped_id = NULL;
  g_autofree char *orphan_dir = NULL;
  g_autofree char *stray = banger_pool_tap_name_new ();
  Planted live = { 0 }, stopped = { 0 }, orphan = { "00000000deadbeef" };
  GPid sleeper;
  guint64 start_time = 0;
  BangerPrivState *other = NULL;
  g_autofree char *kit_tap = NULL, *kit_twin = NULL;

  host_test_netns_enter ();
  e = engine_new (d, 0, NULL);
  add_kernel_and_image (e, d);
  /* another install's taps: one for a VM id this install has no record
   * of (the kit's own), one for the very id of this install's orphan */
  other = other_install_new (d);
  kit_tap = other_tap (other, "banger-test");
  kit_twin = other_tap (other, orphan.id);
  live_id = create_stopped (e, "live");
  stopped_id = create_stopped (e, "stopped");
  live.id = live_id;
  stopped.id = stopped_id;
  plant (e, d, &live, "10.97.0.10");
  plant (e, d, &stopped, "10.97.0.11");
  plant (e, d, &orphan, "10.97.0.12");
  {
    g_autofree char *p = g_strdup_printf ("{\"tap\": \"%s\"}", stray);
    g_autoptr (JsonObject) r = priv (e, "priv.pool_tap_create", p);
  }
  /* the disks of a VM the store does not know */
  orphan_dir = g_build_filename (d->state_dir, "vms", orphan.id, NULL);
  ck_assert (g_mkdir_with_parents (orphan_dir, 0700) == 0);
  {
    g_autofree char *f = g_build_filename (orphan_dir, "rootfs.ext4", NULL);
    ck_assert (g_file_set_contents (f, "x", 1, NULL));
  }
  /* "live" runs: a process in its scope, recorded as its VMM */
  {
    const char *argv[] = { "sleep", "600", NULL };
    g_autofree char *procs = g_build_filename (live.scope, "cgroup.procs", NULL);
    g_autofree char *pid_text = NULL;
    g_autoptr (BangerStoreVmRuntime) rt = NULL;

    ck_assert (g_spawn_async (NULL, (char **)argv, NULL,
                              G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                              &sleeper, &error));
    pid_text = g_strdup_printf ("%d", (int)sleeper);
    {
      int fd = open (procs, O_WRONLY | O_CLOEXEC);
      ck_assert_msg (fd >= 0, "%s: %s", procs, g_strerror (errno));
      ck_assert_int_eq (write (fd, pid_text, strlen (pid_text)), (gssize)strlen (pid_text));
      close (fd);
    }
    ck_assert (banger_proc_start_time (sleeper, &start_time, NULL));
    rt = banger_store_vm_runtime_new (live.id, sleeper, start_time);
    ck_assert (banger_store_vm_runtime_set (banger_engine_get_store (e), rt, &error));
    ck_assert (banger_store_vm_set_state (banger_engine_get_store (e), live.id,
                                          BANGER_STORE_VM_STATE_STOPPED,
                                          BANGER_STORE_VM_STATE_RUNNING, NULL, NULL, &error));
  }
  assert_planted (&live, TRUE);
  assert_planted (&stopped, TRUE);
  assert_planted (&orphan, TRUE);

  /* the daemon starts again */
  g_clear_object (&e);
  e = engine_new (d, 0, NULL);
  assert_planted (&live, TRUE);
  assert_planted (&stopped, FALSE);
  assert_planted (&orphan, FALSE);
  ck_assert (!g_file_test (orphan_dir, G_FILE_TEST_EXISTS));
  ck_assert (!link_exists (stray));
  /* the other install's taps are not this install's to reconcile */
  ck_assert_msg (link_exists (kit_tap), "the other install's tap %s was removed", kit_tap);
  ck_assert_msg (link_exists (kit_twin), "the other install's tap %s (same VM id as the orphan) "
                 "was removed", kit_twin);
  ck_assert_int_eq (kill (sleeper, 0), 0);
  {
    g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (e, "live", &error);
    ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_RUNNING);
    ck_assert_int_eq (info->pid, sleeper);
  }
  {
    /* the stopped VM's disks are its own, not orphans */
    g_autofree char *disk = g_build_filename (d->state_dir, "vms", stopped.id, "rootfs.ext4", NULL);
    ck_assert (g_file_test (disk, G_FILE_TEST_IS_REGULAR));
  }

  /* deleting the adopted VM ends its process and leaves nothing */
  ck_assert_msg (banger_engine_vm_delete (e, "live", NULL, NULL, &error), "%s",
                 error ? error->message : "?");
  {
    int status = 0;
    ck_assert_int_eq (waitpid (sleeper, &status, 0), sleeper);
    ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  }
  assert_planted (&live, FALSE);
  ck_assert (banger_engine_vm_delete (e, "stopped", NULL, NULL, &error));
  g_clear_object (&e);
  g_free (live.tap), g_free (live.scope), g_free (live.run);
  g_free (stopped.tap), g_free (stopped.scope), g_free (stopped.run);
  g_free (orphan.tap), g_free (orphan.scope), g_free (orphan.run);
  {
    g_autoptr (GError) e1 = NULL, e2 = NULL;
    g_autoptr (JsonNode) r1 = host_test_call (other, "priv.cleanup_vm",
                                              "{\"vm_id\": \"banger-test\"}", &e1);
    g_autoptr (JsonNode) r2 = host_test_call (other, "priv.cleanup_vm",
                                              "{\"vm_id\": \"00000000deadbeef\"}", &e2);
    ck_assert_msg (r1 != NULL && r2 != NULL, "%s / %s", e1 ? e1->message : "-",
                   e2 ? e2->message : "-");
    ck_assert (!link_exists (kit_tap) && !link_exists (kit_twin));
  }
  banger_priv_state_free (other);
  dirs_free (d);
}
END_TEST

/* ----------------------------------------------- dm against a fake */

typedef struct
{
  BangerHostBackend parent;
  GPtrArray *calls;
  GHashTable *dm;    /* name -> uuid */
  GHashTable *loops; /* dev -> tag */
  int next_loop;
  gboolean fail_create;
  gboolean available;
  char *dir;   /* where the fake's "devices" are files */
  char *image; /* what a new snapshot reads like */
} FakeDm;

static gboolean
fake_available (BangerHostBackend *b, GError **error)
{
  if (((FakeDm *)b)->available)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "fake: no device-mapper");
  return FALSE;
}

static char *
fake_attach (BangerHostBackend *b, int fd, const char *tag, gboolean ro, GError **error)
{
  FakeDm *f = (FakeDm *)b;
  char *dev = g_strdup_printf ("/dev/loop%d", f->next_loop++);

  g_ptr_array_add (f->calls, g_strdup_printf ("attach %s", ro ? "ro" : "rw"));
  g_hash_table_insert (f->loops, g_strdup (dev), g_strdup (tag));
  return dev;
}

static GStrv
fake_find (BangerHostBackend *b, const char *tag, GError **error)
{
  FakeDm *f = (FakeDm *)b;
  g_autoptr (GStrvBuilder) sb = g_strv_builder_new ();
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, f->loops);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_str_equal (v, tag))
      g_strv_builder_add (sb, k);
  return g_strv_builder_end (sb);
}

static gboolean
fake_detach (BangerHostBackend *b, const char *dev, const char *tag, GError **error)
{
  FakeDm *f = (FakeDm *)b;
  g_ptr_array_add (f->calls, g_strdup ("detach"));
  g_hash_table_remove (f->loops, dev);
  return TRUE;
}

static char *
fake_device_path (BangerHostBackend *b, const char *name)
{
  return g_build_filename (((FakeDm *)b)->dir, name, NULL);
}

static gboolean
fake_create (BangerHostBackend *b, const char *name, const char *uuid, const char *table,
             GError **error)
{
  FakeDm *f = (FakeDm *)b;
  g_autofree char *dev = fake_device_path (b, name);
  const char *cp[] = { "cp", f->image, dev, NULL };

  g_ptr_array_add (f->calls, g_strdup_printf ("create %s", table));
  if (f->fail_create)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "fake: create fails");
      return FALSE;
    }
  /* the snapshot reads like the image */
  ck_assert (g_spawn_sync (NULL, (char **)cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                           NULL, NULL));
  g_hash_table_insert (f->dm, g_strdup (name), g_strdup (uuid));
  return TRUE;
}

static char *
fake_get_uuid (BangerHostBackend *b, const char *name, GError **error)
{
  const char *u = g_hash_table_lookup (((FakeDm *)b)->dm, name);
  if (u == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "fake: no %s", name);
      return NULL;
    }
  return g_strdup (u);
}

static gboolean
fake_remove (BangerHostBackend *b, const char *name, GError **error)
{
  FakeDm *f = (FakeDm *)b;
  g_autofree char *dev = fake_device_path (b, name);
  g_autofree char *kept = g_strconcat (dev, ".removed", NULL);

  g_ptr_array_add (f->calls, g_strdup ("remove"));
  g_hash_table_remove (f->dm, name);
  g_rename (dev, kept); /* what it held, for the test to read */
  return TRUE;
}

static FakeDm *
fake_dm_new (Dirs *d)
{
  FakeDm *f = g_new0 (FakeDm, 1);
  f->parent = (BangerHostBackend){ fake_available, fake_attach, fake_find, fake_detach,
                                   fake_create,    fake_get_uuid, fake_remove, NULL,
                                   fake_device_path };
  f->calls = g_ptr_array_new_with_free_func (g_free);
  f->dm = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->loops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->available = TRUE;
  f->dir = g_build_filename (d->dir, "fake-dev", NULL);
  f->image = g_strdup (d->image);
  ck_assert (g_mkdir (f->dir, 0700) == 0);
  return f;
}

static void
fake_dm_free (FakeDm *f)
{
  g_ptr_array_unref (f->calls);
  g_hash_table_unref (f->dm);
  g_hash_table_unref (f->loops);
  g_free (f->dir);
  g_free (f->image);
  g_free (f);
}

static char *
calls_of (FakeDm *f)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (guint i = 0; i < f->calls->len; i++)
    g_string_append_printf (s, "%s%s", i ? "; " : "", (char *)f->calls->pdata[i]);
  g_ptr_array_set_size (f->calls, 0);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
debugfs_cat (const char *image, const char *path)
{
  g_autofree char *req = g_strdup_printf ("cat %s", path);
  const char *argv[] = { "debugfs", "-R", req, image, NULL };
  return run_out (argv);
}

START_TEST (test_dm_fake)
{
  Dirs *d = dirs_new ();
  BangerEngine *e;
  FakeDm *f = fake_dm_new (d);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *cow = NULL;
  g_autofree char *expect = NULL;
  struct stat st, ist;

  host_test_netns_enter ();
  /* a "qemu" that exits at once: a start fails at its launch or start */
  e = engine_new (d, 0, "/bin/false");
  banger_priv_backend_get_executor_state (banger_engine_get_backend (e))->backend = &f->parent;
  add_kernel_and_image (e, d);

  /* create: the COW store, the device over the image, the key in the
   * device; --no-start: the device removed again */
  id = create_stopped (e, "dm-1");
  name = banger_host_dm_name_for (NULL, id, "rootfs", NULL);
  {
    g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (e, "dm-1", &error);
    ck_assert_int_eq (info->vm->rootfs_cow, BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT);
  }
  ck_assert (stat (d->image, &ist) == 0);
  calls = calls_of (f);
  expect = g_strdup_printf ("attach ro; attach rw; create 0 %" G_GINT64_FORMAT
                            " snapshot /dev/loop0 /dev/loop1 P 8; remove; detach; detach",
                            (gint64)ist.st_size / 512);
  ck_assert_str_eq (calls, expect);
  ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
  cow = g_build_filename (d->state_dir, "vms", id, "rootfs.ext4", NULL);
  ck_assert (stat (cow, &st) == 0);
  ck_assert_int_eq (st.st_size, (gint64)banger_cow_dm_store_size (ist.st_size));
  ck_assert_int_lt (st.st_blocks * 512, 64 * 1024); /* sparse */
  {
    g_autofree char *dev = fake_device_path (&f->parent, name);
    g_autofree char *kept = g_strconcat (dev, ".removed", NULL);
    g_autofree char *in_dev = debugfs_cat (kept, "/root/.ssh/authorized_keys");
    g_autofree char *in_image = NULL;
    g_autofree char *img = NULL;
    g_autoptr (BangerStoreImage) im = banger_store_image_get_by_name (banger_engine_get_store (e),
                                                                     "img", NULL);

    ck_assert (in_dev != NULL && g_str_has_prefix (in_dev, "ssh-ed25519 "));
    in_image = debugfs_cat (im->rootfs_path, "/root/.ssh/authorized_keys");
    ck_assert (in_image == NULL || in_image[0] == '\0');
    g_unlink (kept);
  }

  /* a start that fails after the device was made: the device goes too */
  ck_assert (!banger_engine_vm_start (e, "dm-1", NULL, NULL, &error));
  g_clear_error (&error);
  g_clear_pointer (&calls, g_free);
  calls = calls_of (f);
  ck_assert_msg (g_str_has_prefix (calls, "attach ro; attach rw; create "), "%s", calls);
  ck_assert_msg (strstr (calls, "; remove; detach; detach") != NULL, "%s", calls);
  ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
  ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
  {
    g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (e, "dm-1", &error);
    ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_STOPPED);
  }

  /* device creation fails: the create is undone, nothing attached */
  f->fail_create = TRUE;
  {
    BangerEngineVmSpec spec = { .name = "dm-2", .image = "img", .kernel = "k", .vmm = -1,
                                .no_start = TRUE };
    g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_create (e, &spec, NULL, NULL, &error);
    ck_assert (info == NULL);
    banger_assert_error (error, BANGER_ERROR_FAILED);
    g_clear_error (&error);
    info = banger_engine_vm_get (e, "dm-2", &error);
    ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_FAILED);
    ck_assert_str_eq (info->vm->failed_step, "rootfs");
    {
      g_autofree char *vmdir = g_build_filename (d->state_dir, "vms", info->vm->id, NULL);
      ck_assert (!g_file_test (vmdir, G_FILE_TEST_EXISTS));
    }
  }
  ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
  ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
  f->fail_create = FALSE;

  /* stop of a running dm VM: its clean-up removes the device.  (No VMM
   * boots here: the device is made as a start makes it, and a process
   * stands in for the VMM, adopted from its runtime record.) */
  {
    g_autoptr (BangerStoreImage) im = banger_store_image_get_by_name (banger_engine_get_store (e),
                                                                     "img", NULL);
    g_autofree char *dev = banger_engine_rootfs_attach (e, id, im->rootfs_path, cow, NULL, NULL,
                                                        &error);
    const char *argv[] = { "sleep", "600", NULL };
    g_autoptr (BangerStoreVmRuntime) rt = NULL;
    guint64 start_time = 0;
    GPid pid;
    int status = 0;

    ck_assert_msg (dev != NULL, "%s", error ? error->message : "?");
    ck_assert (g_spawn_async (NULL, (char **)argv, NULL,
                              G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                              &error));
    ck_assert (banger_proc_start_time (pid, &start_time, NULL));
    rt = banger_store_vm_runtime_new (id, pid, start_time);
    ck_assert (banger_store_vm_runtime_set (banger_engine_get_store (e), rt, &error));
    ck_assert (banger_store_vm_set_state (banger_engine_get_store (e), id,
                                          BANGER_STORE_VM_STATE_STOPPED,
                                          BANGER_STORE_VM_STATE_RUNNING, NULL, NULL, &error));
    ck_assert_uint_eq (g_hash_table_size (f->dm), 1);
    g_clear_pointer (&calls, g_free);
    g_free (calls_of (f));
    ck_assert_msg (banger_engine_vm_stop (e, "dm-1", NULL, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert_int_eq (waitpid (pid, &status, 0), pid);
    calls = calls_of (f);
    ck_assert_str_eq (calls, "remove; detach; detach");
    ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
    ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
    ck_assert (g_file_test (cow, G_FILE_TEST_IS_REGULAR)); /* the VM's layer is kept */
    {
      g_autofree char *kept = g_strconcat (dev, ".removed", NULL);
      g_unlink (kept);
    }
  }

  /* delete: the device's removal is asked for (nothing there: fine) */
  g_clear_pointer (&calls, g_free);
  g_free (calls_of (f));
  ck_assert (banger_engine_vm_delete (e, "dm-1", NULL, NULL, &error));
  calls = calls_of (f);
  ck_assert_msg (strstr (calls, "remove") == NULL, "%s", calls); /* none to remove */
  ck_assert (banger_engine_vm_delete (e, "dm-2", NULL, NULL, &error));
  g_clear_object (&e);

  /* without device-mapper: the fallback (ext4 here: a sparse copy) */
  f->available = FALSE;
  {
    Dirs *d2 = dirs_new ();
    BangerEngine *e2 = engine_new (d2, 0, NULL);
    g_autoptr (BangerEngineVmInfo) info = NULL;

    banger_priv_backend_get_executor_state (banger_engine_get_backend (e2))->backend = &f->parent;
    add_kernel_and_image (e2, d2);
    g_free (create_stopped (e2, "plain"));
    info = banger_engine_vm_get (e2, "plain", &error);
    ck_assert_int_eq (info->vm->rootfs_cow, BANGER_STORE_ROOTFS_COW_SPARSE_COPY);
    g_clear_pointer (&calls, g_free);
    calls = calls_of (f);
    ck_assert_str_eq (calls, "");
    ck_assert (banger_engine_vm_delete (e2, "plain", NULL, NULL, &error));
    g_clear_object (&e2);
    dirs_free (d2);
  }
  fake_dm_free (f);
  dirs_free (d);
}
END_TEST

static Suite *
engine_host_suite (void)
{
  Suite *s = suite_create ("engine-host");
  TCase *tc = tcase_create ("host");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_pool_real);
  tcase_add_test (tc, test_orphans);
  tcase_add_test (tc, test_dm_fake);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (engine_host_suite, "needs root (netns, taps, nftables, cgroups)")
