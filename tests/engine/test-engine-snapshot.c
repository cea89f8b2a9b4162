/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's running-VM services against the spec-validating fake
 * Firecracker ([guest] wait-ssh=false: the fake boots no guest): pause and
 * resume (state in the store, BUSY where it must be), stats (the fake's
 * /proc figures and balloon statistics), the balloon, Full and Diff
 * snapshots (files, store rows, parent, the VM left as it was), snapshot
 * delete (BUSY under a Diff, files gone), restore refusals, and the
 * snapshot methods through the engine's method table (strict parameters).
 * A subscriber of the event stream sees each snapshot's steps as progress
 * under its op id, the memory's bytes growing to the guest's memory while
 * the (slowed) fake writes the file, the disks' bytes, snapshot-created /
 * snapshot-deleted, and pause / resume as vm-state-changed.
 * Root (the in-process executor), in a network namespace of its own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-engine-ops.h"
#include "banger-engine-private.h"
#include "banger-engine-snapshot.h"
#include "banger-engine.h"
#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-store.h"
#include "banger-test.h"
#include "engine-test-runner.h"

#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

/* The runner's pid (set before Check forks): the cgroup and directory of
 * the Firecracker test are named from it, so the runner removes what a
 * failed test left (fake Firecrackers through cgroup.kill, the dir). */
static char *
write_tmp (const char *dir, const char *name, const char *text)
{
  char *p = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (p, text, -1, NULL));
  return p;
}

static guint
count_dirs (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *n;
  guint count = 0;

  while (d && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        count++;
    }
  return count;
}

static BangerStoreVmState
state_of (BangerEngine *e, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (e, name, &error);
  ck_assert_msg (info != NULL, "%s", error ? error->message : "?");
  return info->vm->state;
}

/* A subscriber that keeps every event (they come in the calling thread). */
typedef struct
{
  GMutex lock;
  GPtrArray *events; /* JsonObject* */
} Seen;

static gboolean
on_event (JsonNode *event, gpointer user_data)
{
  Seen *seen = user_data;

  g_mutex_lock (&seen->lock);
  g_ptr_array_add (seen->events, json_object_ref (json_node_get_object (event)));
  g_mutex_unlock (&seen->lock);
  return TRUE;
}

static const char *
ev_str (JsonObject *o, const char *name)
{
  return json_object_get_string_member_with_default (o, name, NULL);
}

/* The progress events of operation @op_id, as "step index/count" lines for
 * the step starts (bytes_total 0), and in @bytes (nullable) the byte
 * reports of step @bytes_step as "done/total". */
static char *
progress_of (Seen *seen, const char *op_id, const char *bytes_step, GPtrArray *bytes)
{
  GString *steps = g_string_new (NULL);

  g_mutex_lock (&seen->lock);
  for (guint i = 0; i < seen->events->len; i++)
    {
      JsonObject *o = seen->events->pdata[i];
      if (g_strcmp0 (ev_str (o, "type"), "progress") != 0
          || g_strcmp0 (ev_str (o, "op_id"), op_id) != 0)
        continue;
      ck_assert_str_eq (ev_str (o, "kind"), "vm.snapshot");
      ck_assert_str_eq (ev_str (o, "target"), "fc-1");
      if (json_object_get_int_member (o, "bytes_total") == 0)
        g_string_append_printf (steps, "%s %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "\n",
                                ev_str (o, "step"), json_object_get_int_member (o, "index"),
                                json_object_get_int_member (o, "count"));
      else if (bytes != NULL && g_strcmp0 (ev_str (o, "step"), bytes_step) == 0)
        g_ptr_array_add (bytes, g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                 json_object_get_int_member (o, "bytes_done"),
                                                 json_object_get_int_member (o, "bytes_total")));
    }
  g_mutex_unlock (&seen->lock);
  return g_string_free (steps, FALSE);
}

/* The other events as "type name/state op_id" lines. */
static char *
changes_of (Seen *seen)
{
  GString *out = g_string_new (NULL);

  g_mutex_lock (&seen->lock);
  for (guint i = 0; i < seen->events->len; i++)
    {
      JsonObject *o = seen->events->pdata[i];
      const char *type = ev_str (o, "type");
      if (g_strcmp0 (type, "vm-state-changed") == 0 && g_strcmp0 (ev_str (o, "name"), "fc-1") == 0)
        g_string_append_printf (out, "state %s %s\n", ev_str (o, "state"),
                                ev_str (o, "op_id") ? ev_str (o, "op_id") : "-");
      else if (g_str_has_prefix (type, "snapshot-"))
        g_string_append_printf (out, "%s %s of %s %s\n", type, ev_str (o, "name"), ev_str (o, "vm"),
                                ev_str (o, "op_id") ? ev_str (o, "op_id") : "-");
    }
  g_ptr_array_set_size (seen->events, 0);
  g_mutex_unlock (&seen->lock);
  return g_string_free (out, FALSE);
}

/* Byte reports "done/total": never going down, the last at @total, at
 * least one strictly between 0 and @total when @want_between. */
static void
assert_bytes (GPtrArray *bytes, guint64 total, gboolean want_between)
{
  guint64 last = 0;
  gboolean between = FALSE;

  ck_assert_msg (bytes->len > 0, "no byte reports");
  for (guint i = 0; i < bytes->len; i++)
    {
      guint64 done = 0, t = 0;
      ck_assert (sscanf (bytes->pdata[i], "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, &done, &t)
                 == 2);
      ck_assert_uint_eq (t, total);
      ck_assert_msg (done >= last, "bytes went down: %s after %" G_GUINT64_FORMAT,
                     (char *)bytes->pdata[i], last);
      between = between || (done > 0 && done < total);
      last = done;
    }
  ck_assert_uint_eq (last, total);
  if (want_between)
    ck_assert_msg (between, "no report between 0 and the total (%u reports)", bytes->len);
}

/* One call through the engine's method table, as bangerd serves it. */
static JsonNode *
call (BangerPrivState *st, const char *method, const char *params_json, GError **error)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  BangerPeerCred me = { getuid (), getgid (), getpid () };

  ck_assert (json_parser_load_from_data (p, params_json, -1, NULL));
  return banger_priv_execute (banger_engine_ops_table (), st, &me, method,
                              json_node_get_object (json_parser_get_root (p)), NULL, error);
}

START_TEST (test_fc_snapshots)
{
  g_autofree char *dir = NULL;
  g_autofree char *tree = NULL, *image = NULL, *kernel = NULL, *mount = NULL;
  g_autofree char *snaps_dir = NULL, *cgroup = NULL;
  g_autofree char *fake = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngine) e = NULL;
  g_autoptr (BangerEngineVmInfo) info = NULL;
  g_autoptr (BangerStoreSnapshot) full = NULL, diff = NULL, running = NULL;
  g_autoptr (GPtrArray) list = NULL;
  BangerEngineConfig *c;
  BangerEngineVmSpec spec = { 0 };
  BangerEngineVmStats stats;
  Seen seen = { 0 };
  guint sub;

  if (geteuid () != 0 && banger_test_skip_part ("needs root (the in-process executor, netns)"))
    return;
  /* a network namespace of our own: the bridge and taps live there */
  ck_assert_msg (unshare (CLONE_NEWNET) == 0, "unshare: %s", g_strerror (errno));
  mount = banger_cgroup2_find_mount (NULL, &error);
  ck_assert_msg (mount != NULL, "%s", error ? error->message : "?");

  dir = engine_runner_dir ();
  ck_assert_msg (g_mkdir (dir, 0700) == 0, "%s: %s", dir, g_strerror (errno));
  tree = g_build_filename (dir, "tree", "root", ".ssh", NULL);
  image = g_build_filename (dir, "rootfs.ext4", NULL);
  ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
  {
    g_autofree char *t = g_build_filename (dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", t, image, "16M", NULL };
    ck_assert (g_spawn_sync (NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL));
  }
  kernel = write_tmp (dir, "vmlinux", "not a kernel: the fake boots nothing");
  c = banger_engine_config_new ();
  c->state_dir = g_build_filename (dir, "state", NULL);
  c->runtime_dir = g_build_filename (dir, "run", NULL);
  c->subnet = (g_free (c->subnet), g_strdup ("10.98.0.0/24"));
  {
    /* the fake writes a snapshot's memory file over 1.2 s (bytes to
     * watch); the privileged launch gives the VMM a clean environment, so
     * the mode comes from a wrapper */
    g_autofree char *text = g_strdup_printf ("#!/usr/bin/python3\nimport os, sys\n"
                                             "os.environ['FAKE_FC_MODE'] = 'slow-snapshot=1200'\n"
                                             "os.execv('%s', ['%s'] + sys.argv[1:])\n",
                                             fake, fake);
    c->firecracker_path = write_tmp (dir, "slow-firecracker", text);
    ck_assert (g_chmod (c->firecracker_path, 0755) == 0);
  }
  c->default_vmm = BANGER_STORE_VMM_FIRECRACKER;
  c->wait_ssh = FALSE;
  c->nat = FALSE;
  cgroup = engine_runner_cgroup ();
  c->cgroup_root = g_strdup (cgroup);
  snaps_dir = g_build_filename (c->state_dir, "snapshots", NULL);
  e = banger_engine_new (c, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "?");
  g_mutex_init (&seen.lock);
  seen.events = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  sub = banger_engine_subscribe (e, on_event, &seen, NULL);
  {
    g_autoptr (BangerStoreKernel) k
        = banger_engine_kernel_add (e, "k", kernel, NULL, NULL, NULL, NULL, &error);
    g_autoptr (BangerStoreImage) im
        = banger_engine_image_import (e, "img", image, NULL, NULL, &error);
    ck_assert_msg (k != NULL && im != NULL, "%s", error ? error->message : "?");
  }

  spec.name = "fc-1";
  spec.image = "img";
  spec.kernel = "k";
  spec.vmm = -1;
  spec.memory_mib = 128;
  spec.work_disk_bytes = 16 * 1024 * 1024;
  info = banger_engine_vm_create (e, &spec, "t-create", NULL, &error);
  ck_assert_msg (info != NULL, "create: %s", error ? error->message : "?");
  ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_RUNNING);
  ck_assert_int_eq (info->vm->vmm, BANGER_STORE_VMM_FIRECRACKER);
  {
    /* the seed disk: how a restored guest would learn its address */
    g_autofree char *seed = g_build_filename (c->state_dir, "vms", info->vm->id, "seed.img", NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autofree char *want_ip
        = g_strdup_printf ("\nip=%s::10.98.0.1:255.255.255.0:fc-1:eth0:off\n", info->ip);
    ck_assert (g_file_get_contents (seed, &text, &len, NULL));
    ck_assert_uint_eq (len, 4096);
    ck_assert (g_str_has_prefix (text, "BANGER-SEED 1\nid="));
    ck_assert_msg (strstr (text, want_ip) != NULL, "%s", text);
    ck_assert (strstr (text, "\nmac=02:") != NULL);
  }

  /* a stopped VM: no pause, no snapshot, no stats */
  {
    BangerEngineVmSpec cold = spec;
    g_autoptr (BangerEngineVmInfo) ci = NULL;
    cold.name = "cold";
    cold.no_start = TRUE;
    cold.work_disk_bytes = 0;
    ci = banger_engine_vm_create (e, &cold, NULL, NULL, &error);
    ck_assert_msg (ci != NULL, "%s", error ? error->message : "?");
    ck_assert (!banger_engine_vm_pause (e, "cold", NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_BUSY);
    g_clear_error (&error);
    ck_assert (banger_engine_vm_snapshot (e, "cold", NULL, FALSE, NULL, NULL, &error) == NULL);
    banger_assert_error (error, BANGER_ERROR_BUSY);
    g_clear_error (&error);
    ck_assert (!banger_engine_vm_stats (e, "cold", &stats, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_BUSY);
    g_clear_error (&error);
    ck_assert (!banger_engine_vm_set_balloon (e, "cold", 8, NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_BUSY);
    g_clear_error (&error);
    ck_assert (banger_engine_vm_delete (e, "cold", NULL, NULL, &error));
  }

  /* resume of a running VM: busy; pause; pause again: busy */
  ck_assert (!banger_engine_vm_resume (e, "fc-1", NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  /* (vm-state-changed carries the thread's op id, as bangerd sets it) */
  banger_priv_set_current_op_id ("t-pause");
  ck_assert_msg (banger_engine_vm_pause (e, "fc-1", "t-pause", NULL, &error), "%s",
                 error ? error->message : "?");
  banger_priv_set_current_op_id (NULL);
  ck_assert_int_eq (state_of (e, "fc-1"), BANGER_STORE_VM_STATE_PAUSED);
  ck_assert (!banger_engine_vm_pause (e, "fc-1", NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  {
    g_autofree char *changes = changes_of (&seen);
    ck_assert_msg (g_str_has_suffix (changes, "state paused t-pause\n"), "%s", changes);
  }

  /* stats of a paused VM: its process and the balloon's statistics */
  ck_assert_msg (banger_engine_vm_stats (e, "fc-1", &stats, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (stats.state, BANGER_STORE_VM_STATE_PAUSED);
  ck_assert_uint_gt (stats.rss_bytes, 0);
  ck_assert_uint_gt (stats.cpu_user_us + stats.cpu_system_us, 0);
  ck_assert_uint_eq (stats.memory_mib, 128);
  ck_assert_int_eq (stats.balloon_target_mib, 0);
  ck_assert_int_eq (stats.balloon_actual_mib, 0);

  /* balloon: below the memory only; the fake reports what was asked */
  ck_assert (!banger_engine_vm_set_balloon (e, "fc-1", 128, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_msg (banger_engine_vm_set_balloon (e, "fc-1", 48, NULL, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert (banger_engine_vm_stats (e, "fc-1", &stats, NULL, &error));
  ck_assert_int_eq (stats.balloon_target_mib, 48);
  ck_assert_int_eq (stats.balloon_actual_mib, 48);

  /* Diff before any Full: refused, nothing written */
  ck_assert (banger_engine_vm_snapshot (e, "fc-1", "d0", TRUE, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_uint_eq (count_dirs (snaps_dir), 0);

  /* Full, from paused: stays paused */
  full = banger_engine_vm_snapshot (e, "fc-1", "full", FALSE, "t-snap", NULL, &error);
  ck_assert_msg (full != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (full->vm_name, "fc-1");
  ck_assert (!full->diff);
  ck_assert (full->parent_id == NULL);
  ck_assert_str_eq (full->guest_ip, info->ip);
  ck_assert_uint_eq (full->memory_mib, 128);
  ck_assert_uint_eq (full->work_disk_bytes, 16 * 1024 * 1024);
  ck_assert_uint_gt (full->size_bytes, 0);
  ck_assert_int_eq (state_of (e, "fc-1"), BANGER_STORE_VM_STATE_PAUSED);
  {
    /* from paused: memory, disks, record; the memory's bytes grow to the
     * guest's 128 MiB, the disks' to the two images (16 MiB each) */
    g_autoptr (GPtrArray) mem_bytes = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GPtrArray) disk_bytes = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *steps = progress_of (&seen, "t-snap", "memory", mem_bytes);
    g_autofree char *steps2 = progress_of (&seen, "t-snap", "disks", disk_bytes);
    g_autofree char *changes = changes_of (&seen);

    ck_assert_str_eq (steps, "memory 1/3\ndisks 2/3\nrecord 3/3\n");
    assert_bytes (mem_bytes, 128 * 1024 * 1024, TRUE);
    assert_bytes (disk_bytes, 2 * 16 * 1024 * 1024, FALSE);
    ck_assert_str_eq (changes, "snapshot-created full of fc-1 t-snap\n");
  }
  {
    const char *files[] = { "vmstate", "mem", "rootfs.ext4", "work.ext4" };
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *p = g_build_filename (snaps_dir, full->id, files[i], NULL);
        ck_assert_msg (g_file_test (p, G_FILE_TEST_IS_REGULAR), "%s missing", p);
      }
  }
  /* the name is taken */
  ck_assert (banger_engine_vm_snapshot (e, "fc-1", "full", FALSE, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);

  /* Diff: over the Full one */
  diff = banger_engine_vm_snapshot (e, "fc-1", "diff", TRUE, NULL, NULL, &error);
  ck_assert_msg (diff != NULL, "%s", error ? error->message : "?");
  ck_assert (diff->diff);
  ck_assert_str_eq (diff->parent_id, full->id);
  /* the Full one is the Diff's base: not deleted under it */
  ck_assert (!banger_engine_snapshot_delete (e, "full", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  /* resume, then a snapshot of the running VM: paused for it, running after */
  g_free (changes_of (&seen)); /* (what came before: not looked at) */
  banger_priv_set_current_op_id ("t-resume");
  ck_assert_msg (banger_engine_vm_resume (e, "fc-1", "t-resume", NULL, &error), "%s",
                 error ? error->message : "?");
  banger_priv_set_current_op_id (NULL);
  ck_assert_int_eq (state_of (e, "fc-1"), BANGER_STORE_VM_STATE_RUNNING);
  {
    g_autofree char *changes = changes_of (&seen);
    ck_assert_str_eq (changes, "state running t-resume\n");
  }
  running = banger_engine_vm_snapshot (e, "fc-1", NULL, FALSE, "t-snap2", NULL, &error);
  ck_assert_msg (running != NULL, "%s", error ? error->message : "?");
  {
    /* from running: paused for it and resumed */
    g_autofree char *steps = progress_of (&seen, "t-snap2", NULL, NULL);
    ck_assert_str_eq (steps, "pause 1/5\nmemory 2/5\ndisks 3/5\nresume 4/5\nrecord 5/5\n");
  }
  g_free (changes_of (&seen)); /* (what came before: not looked at) */
  ck_assert (g_str_has_prefix (running->name, "fc-1-"));
  ck_assert_int_eq (state_of (e, "fc-1"), BANGER_STORE_VM_STATE_RUNNING);
  {
    g_autoptr (BangerVmm) vmm = banger_engine_lookup_vmm (e, info->vm->id);
    ck_assert (vmm != NULL);
    ck_assert (banger_vmm_refresh_state (vmm, NULL, &error));
    ck_assert_int_eq (banger_vmm_get_state (vmm), BANGER_VMM_STATE_RUNNING);
  }

  list = banger_engine_snapshot_list (e, &error);
  ck_assert_uint_eq (list->len, 3);
  ck_assert_uint_eq (count_dirs (snaps_dir), 3);

  /* restores: a missing snapshot; a Firecracker one (no drive override) */
  ck_assert (banger_engine_vm_restore (e, "nope", "r-1", NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_engine_vm_restore (e, "full", "r-1", NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  ck_assert (banger_engine_vm_get (e, "r-1", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* through the method table: strict parameters, the same services */
  {
    g_autoptr (BangerPrivState) st = banger_engine_ops_state_new (e);
    g_autoptr (JsonNode) r = NULL;
    JsonObject *o;

    r = call (st, "vm.snapshot", "{\"name\": \"fc-1\", \"bogus\": 1}", &error);
    ck_assert (r == NULL);
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    r = call (st, "vm.set", "{\"name\": \"fc-1\", \"balloon_mib\": 8, \"vcpus\": 2}", &error);
    ck_assert (r == NULL);
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    r = call (st, "vm.stats", "{\"name\": \"fc-1\"}", &error);
    ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
    o = json_object_get_object_member (json_node_get_object (r), "stats");
    ck_assert_str_eq (json_object_get_string_member (o, "state"), "running");
    ck_assert_int_eq (json_object_get_int_member (o, "balloon_target_mib"), 48);
    g_clear_pointer (&r, json_node_unref);
    r = call (st, "snapshot.list", "{}", &error);
    ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
    {
      JsonArray *a = json_object_get_array_member (json_node_get_object (r), "snapshots");
      ck_assert_uint_eq (json_array_get_length (a), 3);
      o = json_array_get_object_element (a, 0); /* by name: "diff" first */
      ck_assert_str_eq (json_object_get_string_member (o, "name"), "diff");
      ck_assert_str_eq (json_object_get_string_member (o, "parent"), "full");
      ck_assert_str_eq (json_object_get_string_member (o, "image"), "img");
      ck_assert (json_object_get_boolean_member (o, "diff"));
    }
    g_clear_pointer (&r, json_node_unref);
    r = call (st, "vm.pause", "{\"name\": \"fc-1\"}", &error);
    ck_assert_msg (r != NULL, "%s", error ? error->message : "?");
    o = json_object_get_object_member (json_node_get_object (r), "vm");
    ck_assert_str_eq (json_object_get_string_member (o, "state"), "paused");
    g_clear_pointer (&r, json_node_unref);
  }

  /* delete: the Diff, then its base, then the last; no files left */
  g_free (changes_of (&seen)); /* (what came before: not looked at) */
  ck_assert (banger_engine_snapshot_delete (e, "diff", "t-rm", &error));
  ck_assert (banger_engine_snapshot_delete (e, "full", "t-rm", &error));
  ck_assert (banger_engine_snapshot_delete (e, running->name, "t-rm", &error));
  ck_assert (!banger_engine_snapshot_delete (e, "full", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autofree char *changes = changes_of (&seen);
    g_autofree char *want = g_strdup_printf ("snapshot-deleted diff of fc-1 t-rm\n"
                                             "snapshot-deleted full of fc-1 t-rm\n"
                                             "snapshot-deleted %s of fc-1 t-rm\n",
                                             running->name);
    ck_assert_str_eq (changes, want);
  }
  ck_assert_uint_eq (count_dirs (snaps_dir), 0);

  /* a Diff follows a Full of the VM's current run only: Firecracker counts
   * dirty pages from its boot, so a Full from before a stop is no base */
  {
    g_autoptr (BangerStoreSnapshot) old_full = NULL, new_full = NULL, new_diff = NULL;

    old_full = banger_engine_vm_snapshot (e, "fc-1", "run1-full", FALSE, NULL, NULL, &error);
    ck_assert_msg (old_full != NULL, "%s", error ? error->message : "?");
    ck_assert_ptr_nonnull (old_full->run);
    ck_assert_msg (banger_engine_vm_kill (e, "fc-1", NULL, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert_msg (banger_engine_vm_start (e, "fc-1", NULL, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert (banger_engine_vm_snapshot (e, "fc-1", "run2-d", TRUE, NULL, NULL, &error) == NULL);
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    ck_assert_msg (strstr (error->message, "take a Full snapshot first") != NULL, "%s",
                   error->message);
    g_clear_error (&error);
    ck_assert_uint_eq (count_dirs (snaps_dir), 1);

    new_full = banger_engine_vm_snapshot (e, "fc-1", "run2-full", FALSE, NULL, NULL, &error);
    ck_assert_msg (new_full != NULL, "%s", error ? error->message : "?");
    ck_assert_str_ne (new_full->run, old_full->run);
    new_diff = banger_engine_vm_snapshot (e, "fc-1", "run2-diff", TRUE, NULL, NULL, &error);
    ck_assert_msg (new_diff != NULL, "%s", error ? error->message : "?");
    ck_assert_str_eq (new_diff->parent_id, new_full->id);
    ck_assert_str_eq (new_diff->run, new_full->run);
    /* read back from the store (the run column) */
    {
      g_autoptr (BangerStoreSnapshot) back
          = banger_store_snapshot_get_by_name (e->store, "run2-diff", &error);
      ck_assert_msg (back != NULL, "%s", error ? error->message : "?");
      ck_assert_str_eq (back->run, new_full->run);
    }
    ck_assert (banger_engine_snapshot_delete (e, "run2-diff", NULL, &error));
    ck_assert (banger_engine_snapshot_delete (e, "run2-full", NULL, &error));
    ck_assert (banger_engine_snapshot_delete (e, "run1-full", NULL, &error));
    ck_assert_uint_eq (count_dirs (snaps_dir), 0);
  }

  /* a paused VM can be stopped (killed) and deleted */
  ck_assert_msg (banger_engine_vm_kill (e, "fc-1", NULL, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (state_of (e, "fc-1"), BANGER_STORE_VM_STATE_STOPPED);
  ck_assert (banger_engine_vm_delete (e, "fc-1", NULL, NULL, &error));

  banger_engine_unsubscribe (e, sub);
  g_ptr_array_unref (seen.events);
  g_mutex_clear (&seen.lock);
  g_clear_object (&e);
  g_rmdir (cgroup);
  engine_runner_rm_rf (dir);
}
END_TEST

/* [guest] wait-ssh: a boolean, default true */
START_TEST (test_config_wait_ssh)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-engsnap-XXXXXX", NULL);
  g_autofree char *off = write_tmp (dir, "off.conf", "[guest]\nwait-ssh=false\n");
  g_autofree char *bad = write_tmp (dir, "bad.conf", "[guest]\nwait-ssh=maybe\n");
  g_autoptr (BangerEngineConfig) c = banger_engine_config_new ();
  g_autoptr (GError) error = NULL;

  ck_assert (c->wait_ssh);
  ck_assert_msg (banger_engine_config_load (c, off, &error), "%s", error ? error->message : "?");
  ck_assert (!c->wait_ssh);
  ck_assert (!banger_engine_config_load (c, bad, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (strstr (error->message, "wait-ssh") != NULL);
  engine_runner_rm_rf (dir);
}
END_TEST

/* "1" into a cgroup.kill file (g_file_set_contents would write a temp
 * file and rename it, which cgroupfs refuses). */
static Suite *
engine_snapshot_suite (void)
{
  Suite *s = suite_create ("engine-snapshot");
  TCase *tc = tcase_create ("firecracker-fake");

  engine_runner_set_tag ("engsnap");
  tcase_add_unchecked_fixture (tc, engine_runner_setup, engine_runner_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_config_wait_ssh);
  tcase_add_test (tc, test_fc_snapshots);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (engine_snapshot_suite)
