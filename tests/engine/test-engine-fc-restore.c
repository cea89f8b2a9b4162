/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Firecracker VMs through the jailer, and their restores, through the
 * engine against the spec-validating fake Firecracker and the fake jailer
 * (tests/fakes/firecracker/; [guest] wait-ssh=false: the fakes boot no
 * guest).  A VM is launched through priv.launch_vmm's jailer with its files
 * bind-mounted into its jail by priv.launch_vmm, the runtime dir (in
 * test_fc_restore) a tmpfs, another filesystem than the state dir's, as a
 * real /run is; a Full snapshot restored twice at once gives
 * two VMs each in a jail of its own, on its own disks (other inodes than
 * the source's and each other's, the ones the fake reopened on load), on a
 * pool tap named in network_overrides, at its own address; a Diff restore
 * loads the base memory with the Diff layers written over it (checked byte
 * by byte against the stored files, which stay unchanged); deletes that
 * would break a Diff are BUSY; a restore the fake refuses leaves nothing
 * behind; a jail is found and removed after bangerd is killed (-9), for a
 * VMM that died meanwhile and for one that is adopted.  Root (the
 * in-process executor), in a network and a mount namespace of its own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-engine-private.h"
#include "banger-engine-snapshot.h"
#include "banger-engine.h"
#include "banger-error.h"
#include "banger-store.h"
#include "banger-test.h"
#include "engine-test-runner.h"

#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif
#ifndef FAKE_JAILER
#error "FAKE_JAILER must name tests/fakes/firecracker/fake-jailer.py"
#endif

#define MEM_MIB 128
#define PAGE 4096

/* A network namespace, and a mount namespace of our own: the bind mounts
 * priv.launch_vmm makes in the jails go with it if the test dies. */
static void
enter_namespaces (void)
{
  ck_assert_msg (unshare (CLONE_NEWNET | CLONE_NEWNS) == 0, "unshare: %s", g_strerror (errno));
  ck_assert_msg (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private mounts: %s",
                 g_strerror (errno));
}

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* The test's world: a dir, the fake jailer behind a root-owned wrapper that
 * sets the fake's request log and mode (the helper's spawn passes no
 * environment), an image, a kernel. */
typedef struct
{
  char *dir;
  char *image;
  char *kernel;
  char *jailer; /* the wrapper */
  char *fc_log; /* the fake's requests, one JSON line each */
  char *cgroup;
  char *fake_fc; /* absolute */
} World;

static void
world_set_mode (World *w, const char *mode)
{
  g_autofree char *fake_jailer = g_canonicalize_filename (FAKE_JAILER, NULL);
  g_autofree char *text = g_strdup_printf ("#!/bin/sh\n"
                                           "export FAKE_FC_LOG='%s'\n"
                                           "export FAKE_FC_MODE='%s'\n"
                                           "exec /usr/bin/python3 '%s' \"$@\"\n",
                                           w->fc_log, mode, fake_jailer);
  g_autofree char *tmp = g_strconcat (w->jailer, ".tmp", NULL);

  ck_assert (g_file_set_contents (tmp, text, -1, NULL));
  ck_assert (chmod (tmp, 0755) == 0);
  ck_assert (rename (tmp, w->jailer) == 0);
}

static void
world_init (World *w)
{
  g_autofree char *tree = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, &error);

  ck_assert_msg (mount != NULL, "%s", error ? error->message : "?");
  {
    /* a dir of this test's own under the runner's */
    g_autofree char *top = engine_runner_dir ();
    w->dir = g_strdup_printf ("%s/%d", top, (int)getpid ());
    ck_assert_msg (g_mkdir_with_parents (w->dir, 0700) == 0, "%s: %s", w->dir, g_strerror (errno));
  }
  tree = g_build_filename (w->dir, "tree", "root", ".ssh", NULL);
  ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
  w->image = g_build_filename (w->dir, "rootfs.ext4", NULL);
  {
    g_autofree char *t = g_build_filename (w->dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", t, w->image, "16M", NULL };
    ck_assert (g_spawn_sync (NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL));
  }
  w->kernel = g_build_filename (w->dir, "vmlinux", NULL);
  ck_assert (g_file_set_contents (w->kernel, "not a kernel: the fake boots nothing", -1, NULL));
  w->jailer = g_build_filename (w->dir, "jailer", NULL);
  w->fc_log = g_build_filename (w->dir, "fc-requests.log", NULL);
  w->cgroup = engine_runner_cgroup ();
  w->fake_fc = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  world_set_mode (w, "");
}

static void
world_clear (World *w)
{
  engine_runner_rm_rf (w->dir);
  g_free (w->dir);
  g_free (w->image);
  g_free (w->kernel);
  g_free (w->jailer);
  g_free (w->fc_log);
  g_free (w->cgroup);
  g_free (w->fake_fc);
}

static BangerEngine *
world_engine (World *w, gboolean add_objects)
{
  BangerEngineConfig *c = banger_engine_config_new ();
  g_autoptr (GError) error = NULL;
  BangerEngine *e;

  c->state_dir = g_build_filename (w->dir, "state", NULL);
  c->runtime_dir = g_build_filename (w->dir, "run", NULL);
  c->subnet = (g_free (c->subnet), g_strdup ("10.97.0.0/24"));
  c->firecracker_path = g_strdup (w->fake_fc);
  c->jailer_path = g_strdup (w->jailer);
  c->default_vmm = BANGER_STORE_VMM_FIRECRACKER;
  c->wait_ssh = FALSE;
  c->nat = FALSE;
  c->dns_port = 0;
  c->taps = 3;
  c->cgroup_root = g_strdup (w->cgroup);
  e = banger_engine_new (c, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "?");
  if (add_objects)
    {
      g_autoptr (BangerStoreKernel) k
          = banger_engine_kernel_add (e, "k", w->kernel, NULL, NULL, NULL, NULL, &error);
      g_autoptr (BangerStoreImage) im
          = banger_engine_image_import (e, "img", w->image, NULL, NULL, &error);
      ck_assert_msg (k != NULL && im != NULL, "%s", error ? error->message : "?");
    }
  ck_assert (e->tap_pool != NULL);
  ck_assert_msg (banger_tap_pool_wait_full (e->tap_pool, 20000), "the tap pool did not fill");
  return e;
}

static char *
vm_file (BangerEngine *e, const char *vm_id, const char *name)
{
  return g_build_filename (e->vms_dir, vm_id, name, NULL);
}

static char *
jail_dir_of (BangerEngine *e, const char *vm_id)
{
  g_autofree char *exec = g_path_get_basename (banger_engine_get_config (e)->firecracker_path);
  return g_build_filename (banger_engine_get_config (e)->runtime_dir, "jail", exec, vm_id, NULL);
}

static char *
jail_file (BangerEngine *e, const char *vm_id, const char *name)
{
  g_autofree char *d = jail_dir_of (e, vm_id);
  return g_build_filename (d, "root", name, NULL);
}

static ino_t
inode_of (const char *path)
{
  struct stat st;
  ck_assert_msg (stat (path, &st) == 0, "%s: %s", path, g_strerror (errno));
  return st.st_ino;
}

static BangerEngineVmInfo *
create_vm (BangerEngine *e, const char *name)
{
  BangerEngineVmSpec spec = { 0 };
  g_autoptr (GError) error = NULL;
  BangerEngineVmInfo *info;

  spec.name = name;
  spec.image = "img";
  spec.kernel = "k";
  spec.vmm = -1;
  spec.memory_mib = MEM_MIB;
  spec.work_disk_bytes = 16 * 1024 * 1024;
  info = banger_engine_vm_create (e, &spec, "t-create", NULL, &error);
  ck_assert_msg (info != NULL, "create %s: %s", name, error ? error->message : "?");
  ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_RUNNING);
  return info;
}

/* The VM's files are in its jail, the writable disks as hard links of its
 * own (same inode), under the chroot-relative names. */
static void
assert_jailed (BangerEngine *e, const char *vm_id)
{
  const char *pairs[][2] = { { "rootfs.ext4", "disk-rootfs" },
                             { "work.ext4", "disk-work" },
                             { "seed.img", "disk-seed" } };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *own = vm_file (e, vm_id, pairs[i][0]);
      g_autofree char *jailed = jail_file (e, vm_id, pairs[i][1]);
      ck_assert_msg (inode_of (own) == inode_of (jailed), "%s is not %s", jailed, own);
    }
  {
    g_autofree char *k = jail_file (e, vm_id, "kernel");
    ck_assert (g_file_test (k, G_FILE_TEST_IS_REGULAR));
  }
}

/* The fake's request lines of the VM @vm_id (its --id), in order; the
 * launch's probes (GET /) left out. */
static GPtrArray *
requests_of (World *w, const char *vm_id)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)json_node_unref);

  ck_assert (g_file_get_contents (w->fc_log, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      JsonObject *o;
      if (*lines[i] == '\0')
        continue;
      ck_assert (json_parser_load_from_data (p, lines[i], -1, NULL));
      o = json_node_get_object (json_parser_get_root (p));
      if (g_str_equal (json_object_get_string_member (o, "id"), vm_id)
          && !(g_str_equal (json_object_get_string_member (o, "method"), "GET")
               && g_str_equal (json_object_get_string_member (o, "path"), "/")))
        g_ptr_array_add (out, json_node_copy (json_parser_get_root (p)));
    }
  return out;
}

static JsonObject *
req (GPtrArray *reqs, guint i)
{
  return json_node_get_object (reqs->pdata[i]);
}

/* A restore's Firecracker: logger, metrics, then the load (the only calls
 * the real server takes before a load), with the restored VM's own tap in
 * network_overrides; the drives it reopened are the restored VM's own. */
static void
assert_restore_requests (World *w, BangerEngine *e, const BangerEngineVmInfo *r)
{
  g_autoptr (GPtrArray) reqs = requests_of (w, r->vm->id);
  JsonObject *load, *body, *ov, *opened;
  JsonArray *ovs;

  ck_assert_uint_ge (reqs->len, 3);
  ck_assert_str_eq (json_object_get_string_member (req (reqs, 0), "path"), "/logger");
  ck_assert_str_eq (json_object_get_string_member (req (reqs, 1), "path"), "/metrics");
  load = req (reqs, 2);
  ck_assert_str_eq (json_object_get_string_member (load, "path"), "/snapshot/load");
  ck_assert_int_eq (json_object_get_int_member (load, "status"), 204);
  for (guint i = 0; i < 3; i++)
    ck_assert_str_eq (json_object_get_string_member (req (reqs, i), "method"), "PUT");
  body = json_object_get_object_member (load, "body");
  ck_assert_str_eq (json_object_get_string_member (body, "snapshot_path"), "/restore.vmstate");
  ck_assert_str_eq (json_object_get_string_member (
                        json_object_get_object_member (body, "mem_backend"), "backend_path"),
                    "/restore.mem");
  ck_assert (json_object_get_boolean_member (body, "resume_vm"));
  ovs = json_object_get_array_member (body, "network_overrides");
  ck_assert_uint_eq (json_array_get_length (ovs), 1);
  ov = json_array_get_object_element (ovs, 0);
  ck_assert_str_eq (json_object_get_string_member (ov, "iface_id"), "eth0");
  ck_assert_str_eq (json_object_get_string_member (ov, "host_dev_name"), r->tap);
  /* nothing else is configured: no boot-specific call before or after */
  for (guint i = 3; i < reqs->len; i++)
    {
      const char *path = json_object_get_string_member (req (reqs, i), "path");
      ck_assert_msg (!g_str_has_prefix (path, "/drives") && !g_str_equal (path, "/boot-source")
                         && !g_str_equal (path, "/machine-config"),
                     "restore sent %s", path);
    }
  /* Firecracker reopened this VM's own disks (through its jail) */
  opened = json_object_get_object_member (load, "opened");
  {
    const char *pairs[][2]
        = { { "rootfs", "rootfs.ext4" }, { "work", "work.ext4" }, { "seed", "seed.img" } };
    for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
      {
        JsonArray *devino = json_object_get_array_member (opened, pairs[i][0]);
        g_autofree char *own = vm_file (e, r->vm->id, pairs[i][1]);
        ck_assert_msg ((ino_t)json_array_get_int_element (devino, 1) == inode_of (own),
                       "the load reopened another %s than %s", pairs[i][0], own);
      }
  }
}

typedef struct
{
  BangerEngine *e;
  const char *snap;
  const char *name;
  BangerEngineVmInfo *info;
  GError *error;
} RestoreJob;

static gpointer
restore_thread (gpointer data)
{
  RestoreJob *j = data;
  j->info = banger_engine_vm_restore (j->e, j->snap, j->name, "t-restore", NULL, &j->error);
  return NULL;
}

/* Reads @path into pages of 1 MiB at a time; the bytes @expected_of gives
 * for each chunk must be the file's. */
static void
read_chunk (int fd, off_t off, guint8 *buf, gsize len)
{
  gsize done = 0;
  while (done < len)
    {
      ssize_t n = pread (fd, buf + done, len - done, off + (off_t)done);
      ck_assert_msg (n > 0, "pread: %s", g_strerror (errno));
      done += (gsize)n;
    }
}

/* @restored must be @base with every non-zero page of each layer written
 * over it (in order): computed here page by page, without SEEK_DATA.  And
 * at least one page must differ from @base (the layers are not empty). */
static void
assert_layered (const char *restored, const char *base, const char *const *layers)
{
  const gsize chunk = 1024 * 1024;
  g_autofree guint8 *want = g_malloc (chunk);
  g_autofree guint8 *got = g_malloc (chunk);
  g_autofree guint8 *layer = g_malloc (chunk);
  g_autofree guint8 *zero = g_malloc0 (PAGE);
  int rfd = open (restored, O_RDONLY | O_CLOEXEC);
  int bfd = open (base, O_RDONLY | O_CLOEXEC);
  guint changed = 0;
  struct stat st;

  ck_assert (rfd >= 0 && bfd >= 0);
  ck_assert (fstat (bfd, &st) == 0);
  ck_assert_int_eq (st.st_size, (off_t)MEM_MIB * 1024 * 1024);
  ck_assert (fstat (rfd, &st) == 0);
  ck_assert_int_eq (st.st_size, (off_t)MEM_MIB * 1024 * 1024);
  for (off_t off = 0; off < st.st_size; off += (off_t)chunk)
    {
      read_chunk (bfd, off, want, chunk);
      for (guint l = 0; layers[l] != NULL; l++)
        {
          int lfd = open (layers[l], O_RDONLY | O_CLOEXEC);
          ck_assert (lfd >= 0);
          read_chunk (lfd, off, layer, chunk);
          close (lfd);
          for (gsize p = 0; p < chunk; p += PAGE)
            if (memcmp (layer + p, zero, PAGE) != 0)
              {
                changed += memcmp (want + p, layer + p, PAGE) != 0;
                memcpy (want + p, layer + p, PAGE);
              }
        }
      read_chunk (rfd, off, got, chunk);
      ck_assert_msg (memcmp (want, got, chunk) == 0,
                     "the restored memory differs from base + layers in the MiB at %lld",
                     (long long)off);
    }
  ck_assert_uint_gt (changed, 0);
  close (rfd);
  close (bfd);
}

static char *
file_sum (const char *path)
{
  g_autoptr (GMappedFile) m = g_mapped_file_new (path, FALSE, NULL);
  ck_assert (m != NULL);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                      (const guchar *)g_mapped_file_get_contents (m),
                                      g_mapped_file_get_length (m));
}

static char *
snap_file (BangerEngine *e, const BangerStoreSnapshot *s, const char *name)
{
  return g_build_filename (banger_engine_get_config (e)->state_dir, "snapshots", s->id, name, NULL);
}

START_TEST (test_fc_restore)
{
  World w = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngine) e = NULL;
  g_autoptr (BangerEngineVmInfo) src = NULL;
  g_autoptr (BangerStoreSnapshot) full = NULL, d1 = NULL, d2 = NULL;
  g_autofree char *full_mem_sum = NULL, *d1_mem_sum = NULL, *d2_mem_sum = NULL;
  g_autofree char *jail_base = NULL;
  BangerTapPoolStats before, after;

  if (geteuid () != 0 && banger_test_skip_part ("needs root (the in-process executor, netns)"))
    return;
  enter_namespaces ();
  world_init (&w);
  /* the runtime dir a tmpfs, as /run is: another filesystem than the state
   * dir's, so nothing can be hard-linked from there into a jail */
  {
    g_autofree char *run = g_build_filename (w.dir, "run", NULL);
    ck_assert_int_eq (g_mkdir (run, 0755), 0);
    ck_assert_msg (mount ("banger-test-run", run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0,
                   "tmpfs: %s", g_strerror (errno));
  }
  e = world_engine (&w, TRUE);
  {
    struct stat rs, ss;
    ck_assert_int_eq (stat (banger_engine_get_config (e)->runtime_dir, &rs), 0);
    ck_assert_int_eq (stat (banger_engine_get_config (e)->state_dir, &ss), 0);
    ck_assert (rs.st_dev != ss.st_dev);
  }

  /* the source: launched through the jailer, its files bind-mounted into its jail */
  src = create_vm (e, "src");
  assert_jailed (e, src->vm->id);
  {
    g_autoptr (GPtrArray) reqs = requests_of (&w, src->vm->id);
    gboolean saw_drive = FALSE;
    for (guint i = 0; i < reqs->len; i++)
      if (g_str_equal (json_object_get_string_member (req (reqs, i), "path"), "/drives/rootfs"))
        {
          JsonObject *b = json_object_get_object_member (req (reqs, i), "body");
          ck_assert_str_eq (json_object_get_string_member (b, "path_on_host"), "/disk-rootfs");
          saw_drive = TRUE;
        }
    ck_assert (saw_drive);
  }
  {
    g_autofree char *exec = g_path_get_basename (w.fake_fc);
    jail_base = g_build_filename (w.dir, "run", "jail", exec, NULL);
    ck_assert_uint_eq (count_entries (jail_base), 1);
  }

  /* Full, then two Diffs: each holds only what changed since the one before */
  full = banger_engine_vm_snapshot (e, "src", "full", FALSE, NULL, NULL, &error);
  ck_assert_msg (full != NULL, "%s", error ? error->message : "?");
  d1 = banger_engine_vm_snapshot (e, "src", "d1", TRUE, NULL, NULL, &error);
  ck_assert_msg (d1 != NULL, "%s", error ? error->message : "?");
  d2 = banger_engine_vm_snapshot (e, "src", "d2", TRUE, NULL, NULL, &error);
  ck_assert_msg (d2 != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (d2->parent_id, full->id);
  {
    g_autofree char *a = snap_file (e, full, "mem");
    g_autofree char *b = snap_file (e, d1, "mem");
    g_autofree char *c = snap_file (e, d2, "mem");
    full_mem_sum = file_sum (a);
    d1_mem_sum = file_sum (b);
    d2_mem_sum = file_sum (c);
  }

  /* two restores of the Full one at once */
  banger_tap_pool_get_stats (e->tap_pool, &before);
  {
    RestoreJob jobs[2] = { { e, "full", "r-a", NULL, NULL }, { e, "full", "r-b", NULL, NULL } };
    GThread *t[2];
    ino_t src_root = 0;
    g_autofree char *sr = vm_file (e, src->vm->id, "rootfs.ext4");

    src_root = inode_of (sr);
    for (guint i = 0; i < 2; i++)
      t[i] = g_thread_new ("restore", restore_thread, &jobs[i]);
    for (guint i = 0; i < 2; i++)
      g_thread_join (t[i]);
    for (guint i = 0; i < 2; i++)
      ck_assert_msg (jobs[i].info != NULL, "restore %s: %s", jobs[i].name,
                     jobs[i].error ? jobs[i].error->message : "?");
    banger_tap_pool_get_stats (e->tap_pool, &after);
    ck_assert_uint_eq (after.taken, before.taken + 2);
    ck_assert_str_ne (jobs[0].info->vm->id, jobs[1].info->vm->id);
    ck_assert_str_ne (jobs[0].info->ip, jobs[1].info->ip);
    ck_assert_str_ne (jobs[0].info->ip, src->ip);
    ck_assert_str_ne (jobs[1].info->ip, src->ip);
    ck_assert_str_ne (jobs[0].info->tap, jobs[1].info->tap);
    ck_assert_str_ne (jobs[0].info->tap, src->tap);
    for (guint i = 0; i < 2; i++)
      {
        BangerEngineVmInfo *r = jobs[i].info;
        g_autofree char *root = vm_file (e, r->vm->id, "rootfs.ext4");
        g_autofree char *seed = vm_file (e, r->vm->id, "seed.img");
        g_autofree char *seed_text = NULL;
        g_autofree char *want_ip = g_strdup_printf ("\nip=%s::", r->ip);

        ck_assert_int_eq (r->vm->state, BANGER_STORE_VM_STATE_RUNNING);
        assert_jailed (e, r->vm->id);
        ck_assert (inode_of (root) != src_root);
        assert_restore_requests (&w, e, r);
        /* the seed disk carries the new id and address */
        ck_assert (g_file_get_contents (seed, &seed_text, NULL, NULL));
        ck_assert (strstr (seed_text, r->vm->id) != NULL);
        ck_assert_msg (strstr (seed_text, want_ip) != NULL, "%s", seed_text);
      }
    {
      g_autofree char *ra = vm_file (e, jobs[0].info->vm->id, "rootfs.ext4");
      g_autofree char *rb = vm_file (e, jobs[1].info->vm->id, "rootfs.ext4");
      g_autofree char *wa = vm_file (e, jobs[0].info->vm->id, "work.ext4");
      g_autofree char *wb = vm_file (e, jobs[1].info->vm->id, "work.ext4");
      ck_assert (inode_of (ra) != inode_of (rb));
      ck_assert (inode_of (wa) != inode_of (wb));
    }
    ck_assert_uint_eq (count_entries (jail_base), 3);
    /* delete: the VM's jail goes with it */
    for (guint i = 0; i < 2; i++)
      {
        g_autofree char *jd = jail_dir_of (e, jobs[i].info->vm->id);
        ck_assert_msg (banger_engine_vm_delete (e, jobs[i].name, NULL, NULL, &error), "%s",
                       error ? error->message : "?");
        ck_assert_msg (!g_file_test (jd, G_FILE_TEST_EXISTS), "%s left behind", jd);
        banger_engine_vm_info_free (jobs[i].info);
      }
  }

  /* a Diff restore: the base memory with d1 then d2 written over it */
  {
    g_autoptr (BangerEngineVmInfo) r
        = banger_engine_vm_restore (e, "d2", "r-d", NULL, NULL, &error);
    g_autofree char *mem = NULL, *base = NULL, *l1 = NULL, *l2 = NULL, *jailed = NULL;

    ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
    mem = vm_file (e, r->vm->id, "restore.mem");
    jailed = jail_file (e, r->vm->id, "restore.mem");
    base = snap_file (e, full, "mem");
    l1 = snap_file (e, d1, "mem");
    l2 = snap_file (e, d2, "mem");
    /* the very files, across filesystems: bind-mounted by priv.launch_vmm */
    ck_assert_uint_eq (inode_of (mem), inode_of (jailed));
    {
      g_autofree char *st = snap_file (e, d2, "vmstate");
      g_autofree char *st_jailed = jail_file (e, r->vm->id, "restore.vmstate");
      ck_assert_uint_eq (inode_of (st), inode_of (st_jailed));
    }
    assert_layered (mem, base, (const char *const[]){ l1, l2, NULL });
    assert_restore_requests (&w, e, r);
    /* the stored snapshots are untouched */
    {
      g_autofree char *s0 = file_sum (base), *s1 = file_sum (l1), *s2 = file_sum (l2);
      ck_assert_str_eq (s0, full_mem_sum);
      ck_assert_str_eq (s1, d1_mem_sum);
      ck_assert_str_eq (s2, d2_mem_sum);
    }
    ck_assert (banger_engine_vm_delete (e, "r-d", NULL, NULL, &error));
  }
  /* ... and loading d2's memory alone is what the fake refuses (its
   * oracle: the guest would resume corrupt) */

  /* deletes that would break a Diff: BUSY */
  ck_assert (!banger_engine_snapshot_delete (e, "full", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (!banger_engine_snapshot_delete (e, "d1", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  ck_assert (strstr (error->message, "'d2'") != NULL);
  g_clear_error (&error);

  /* a restore the fake refuses: nothing left behind */
  {
    guint vms = count_entries (e->vms_dir), jails = count_entries (jail_base);
    guint free_before = 0, free_after = 0;
    g_autoptr (GPtrArray) leases_before = banger_store_lease_list (e->store, "10.97.0.0/24", NULL);
    g_autoptr (GPtrArray) leases_after = NULL;
    g_autoptr (GPtrArray) list = NULL;

    ck_assert (banger_tap_pool_count_free (e->tap_pool, &free_before, NULL));
    banger_tap_pool_get_stats (e->tap_pool, &before);
    world_set_mode (&w, "reject-on=/snapshot/load");
    ck_assert (banger_engine_vm_restore (e, "full", "r-fail", NULL, NULL, &error) == NULL);
    banger_assert_error (error, BANGER_ERROR_VMM);
    ck_assert_msg (strstr (error->message, "reject-on") != NULL, "%s", error->message);
    g_clear_error (&error);
    world_set_mode (&w, "");
    ck_assert (banger_engine_vm_get (e, "r-fail", &error) == NULL);
    banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
    g_clear_error (&error);
    list = banger_engine_vm_list (e, NULL);
    ck_assert_uint_eq (list->len, 1); /* src */
    ck_assert_uint_eq (count_entries (e->vms_dir), vms);
    ck_assert_uint_eq (count_entries (jail_base), jails);
    leases_after = banger_store_lease_list (e->store, "10.97.0.0/24", NULL);
    ck_assert_uint_eq (leases_after->len, leases_before->len);
    banger_tap_pool_get_stats (e->tap_pool, &after);
    ck_assert_uint_eq (after.taken, before.taken + 1);
    ck_assert (banger_tap_pool_wait_full (e->tap_pool, 20000));
    ck_assert (banger_tap_pool_count_free (e->tap_pool, &free_after, NULL));
    ck_assert_uint_eq (free_after, free_before);
  }

  /* delete in order; the source's jail goes with it */
  ck_assert (banger_engine_snapshot_delete (e, "d2", NULL, &error));
  ck_assert (banger_engine_snapshot_delete (e, "d1", NULL, &error));
  ck_assert (banger_engine_snapshot_delete (e, "full", NULL, &error));
  ck_assert (banger_engine_vm_delete (e, "src", NULL, NULL, &error));
  ck_assert_uint_eq (count_entries (jail_base), 0);
  {
    /* no mount is left beneath the runtime dir but the tmpfs itself */
    g_autofree char *info = NULL;
    g_autofree char *jails = g_build_filename (w.dir, "run", "jail", NULL);
    ck_assert (g_file_get_contents ("/proc/self/mountinfo", &info, NULL, NULL));
    ck_assert_msg (strstr (info, jails) == NULL, "a mount is left in a jail");
  }

  g_clear_object (&e);
  {
    g_autofree char *run = g_build_filename (w.dir, "run", NULL);
    ck_assert_int_eq (umount2 (run, MNT_DETACH), 0);
  }
  world_clear (&w);
}
END_TEST

/* Without a jailer configured a Firecracker restore is refused, naming it
 * (the VM itself runs directly). */
START_TEST (test_fc_restore_needs_jailer)
{
  World w = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngine) e = NULL;
  g_autoptr (BangerEngineVmInfo) src = NULL;
  g_autoptr (BangerStoreSnapshot) full = NULL;

  if (geteuid () != 0 && banger_test_skip_part ("needs root (the in-process executor, netns)"))
    return;
  enter_namespaces ();
  world_init (&w);
  /* (an engine without a jailer: the same world, the key left out) */
  {
    BangerEngineConfig *c;
    g_autoptr (BangerEngine) with = world_engine (&w, TRUE);
    c = banger_engine_config_new ();
    c->state_dir = g_strdup (banger_engine_get_config (with)->state_dir);
    c->runtime_dir = g_strdup (banger_engine_get_config (with)->runtime_dir);
    c->subnet = (g_free (c->subnet), g_strdup ("10.97.0.0/24"));
    c->firecracker_path = g_strdup (w.fake_fc);
    c->default_vmm = BANGER_STORE_VMM_FIRECRACKER;
    c->wait_ssh = FALSE;
    c->nat = FALSE;
    c->dns_port = 0;
    c->cgroup_root = g_strdup (w.cgroup);
    g_clear_object (&with);
    e = banger_engine_new (c, &error);
    ck_assert_msg (e != NULL, "%s", error ? error->message : "?");
  }
  src = create_vm (e, "direct");
  full = banger_engine_vm_snapshot (e, "direct", "full", FALSE, NULL, NULL, &error);
  ck_assert_msg (full != NULL, "%s", error ? error->message : "?");
  ck_assert (banger_engine_vm_restore (e, "full", "r-1", NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  ck_assert_msg (strstr (error->message, "jailer") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (banger_engine_vm_get (e, "r-1", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_engine_snapshot_delete (e, "full", NULL, &error));
  ck_assert (banger_engine_vm_delete (e, "direct", NULL, NULL, &error));
  g_clear_object (&e);
  world_clear (&w);
}
END_TEST

/* bangerd killed (-9) with two jailed VMs running: one VMM dies
 * meanwhile, one lives on.  The next engine finds both: the dead one's
 * jail removed and the VM stopped; the live one adopted, its jail removed
 * when it is deleted; a jail of an id without a record removed as an
 * orphan. */
START_TEST (test_fc_jail_after_crash)
{
  World w = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngine) e = NULL;
  int pipefd[2];
  pid_t child;
  char buf[256] = { 0 };
  gsize got = 0;
  g_auto (GStrv) parts = NULL;
  int status;

  if (geteuid () != 0 && banger_test_skip_part ("needs root (the in-process executor, netns)"))
    return;
  enter_namespaces ();
  /* the VMMs of the killed "bangerd" become ours to reap */
  ck_assert (prctl (PR_SET_CHILD_SUBREAPER, 1) == 0);
  world_init (&w);
  ck_assert (pipe2 (pipefd, O_CLOEXEC) == 0);
  child = fork ();
  ck_assert (child >= 0);
  if (child == 0)
    {
      /* "bangerd": two VMs, report their ids and pids, wait to be killed */
      BangerEngine *ce = world_engine (&w, TRUE);
      BangerEngineVmInfo *a = create_vm (ce, "dies");
      BangerEngineVmInfo *b = create_vm (ce, "lives");
      g_autofree char *line
          = g_strdup_printf ("%s %d %s %d\n", a->vm->id, a->pid, b->vm->id, b->pid);
      if (write (pipefd[1], line, strlen (line)) < 0)
        _exit (1);
      for (;;)
        pause ();
    }
  close (pipefd[1]);
  while (got < sizeof buf - 1)
    {
      ssize_t n = read (pipefd[0], buf + got, sizeof buf - 1 - got);
      if (n <= 0)
        break;
      got += (gsize)n;
      if (strchr (buf, '\n') != NULL)
        break;
    }
  close (pipefd[0]);
  ck_assert_msg (strchr (buf, '\n') != NULL, "the child engine did not report");
  kill (child, SIGKILL);
  ck_assert (waitpid (child, &status, 0) == child);
  parts = g_strsplit (g_strstrip (buf), " ", -1);
  ck_assert_uint_eq (g_strv_length (parts), 4);
  /* one VMM dies while bangerd is down */
  {
    pid_t dead = (pid_t)g_ascii_strtoll (parts[1], NULL, 10);
    ck_assert (kill (dead, SIGKILL) == 0);
    ck_assert (waitpid (dead, &status, 0) == dead);
  }
  {
    g_autofree char *exec = g_path_get_basename (w.fake_fc);
    g_autofree char *dead_jail = g_build_filename (w.dir, "run", "jail", exec, parts[0], NULL);
    g_autofree char *live_jail = g_build_filename (w.dir, "run", "jail", exec, parts[2], NULL);
    g_autoptr (BangerEngineVmInfo) dies = NULL, lives = NULL;

    g_autofree char *orphan_jail
        = g_build_filename (w.dir, "run", "jail", exec, "0123456789abcdef", NULL);
    g_autofree char *orphan_file = g_build_filename (orphan_jail, "root", "disk-rootfs", NULL);

    ck_assert (g_file_test (dead_jail, G_FILE_TEST_IS_DIR));
    ck_assert (g_file_test (live_jail, G_FILE_TEST_IS_DIR));
    /* and the jail of a VM the store never recorded (a crash between the
     * launch and ... anything): an orphan, by its id */
    {
      g_autofree char *root = g_path_get_dirname (orphan_file);
      ck_assert (g_mkdir_with_parents (root, 0755) == 0);
      ck_assert (g_file_set_contents (orphan_file, "", 0, NULL));
    }
    e = world_engine (&w, FALSE);
    ck_assert_msg (!g_file_test (orphan_jail, G_FILE_TEST_EXISTS), "%s left behind", orphan_jail);
    ck_assert_msg (!g_file_test (dead_jail, G_FILE_TEST_EXISTS), "%s left behind", dead_jail);
    dies = banger_engine_vm_get (e, "dies", &error);
    ck_assert_msg (dies != NULL, "%s", error ? error->message : "?");
    ck_assert_int_eq (dies->vm->state, BANGER_STORE_VM_STATE_STOPPED);
    lives = banger_engine_vm_get (e, "lives", &error);
    ck_assert_msg (lives != NULL, "%s", error ? error->message : "?");
    ck_assert_int_eq (lives->vm->state, BANGER_STORE_VM_STATE_RUNNING);
    ck_assert (g_file_test (live_jail, G_FILE_TEST_IS_DIR));
    ck_assert_msg (banger_engine_vm_delete (e, "lives", NULL, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert_msg (!g_file_test (live_jail, G_FILE_TEST_EXISTS), "%s left behind", live_jail);
    ck_assert (banger_engine_vm_delete (e, "dies", NULL, NULL, &error));
  }
  /* reap what the adopted stop ended */
  while (waitpid (-1, &status, WNOHANG) > 0)
    ;
  g_clear_object (&e);
  world_clear (&w);
}
END_TEST

static Suite *
engine_fc_restore_suite (void)
{
  Suite *s = suite_create ("engine-fc-restore");
  TCase *tc = tcase_create ("firecracker-jailed");

  /* each test cleans up after itself; the runner after a failed one */
  engine_runner_set_tag ("engfcr");
  tcase_add_unchecked_fixture (tc, engine_runner_setup, engine_runner_teardown);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_fc_restore);
  tcase_add_test (tc, test_fc_restore_needs_jailer);
  tcase_add_test (tc, test_fc_jail_after_crash);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (engine_fc_restore_suite)
