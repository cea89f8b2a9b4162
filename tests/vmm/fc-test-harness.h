/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared harness of the Firecracker driver tests (test-firecracker.c, unit;
 * test-firecracker-root.c, integration): a scratch directory with a kernel,
 * an initrd and two disks, a copy of the fake Firecracker named
 * "firecracker", the fake's request log, and helpers to boot and to read
 * the requests back.  Included by exactly one file per test executable. */
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-fc-http.h"
#include "banger-fc-jailer.h"
#include "banger-fc-metrics.h"
#include "banger-test.h"
#include "banger-vmm-firecracker.h"

#ifndef FAKE_FC_DIR
#error "FAKE_FC_DIR must point at tests/fakes/firecracker"
#endif

#define VM_ID "vm-test"

typedef struct
{
  char *tmp;
  char *bin;      /* tmp/bin/firecracker: a copy of the fake, named like the real one */
  char *jailer;   /* the fake jailer */
  char *req_log;  /* the fake's request log */
  char *jail_log; /* the fake jailer's argv log */
  char *kernel, *initrd, *rootfs, *work;
  GPtrArray *vmms; /* killed at teardown */
} H;

static H h;

/* Per test executable: every test's scratch dir lives under run_parent,
 * which the parent process removes at the end (a failed test exits its
 * forked child before its own teardown runs), after killing any fake left
 * running from there (matched by that unique directory in its argv). */
static char *run_parent;

G_GNUC_UNUSED static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

G_GNUC_UNUSED static void
write_file (const char *path, const char *contents, gsize size)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_file_set_contents (path, contents, (gssize) size, &error), "%s",
                 error ? error->message : "");
}

G_GNUC_UNUSED static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fake = g_build_filename (FAKE_FC_DIR, "fake-firecracker.py", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_autofree char *bindir = NULL;

  ck_assert_ptr_nonnull (run_parent);
  h.tmp = g_build_filename (run_parent, "t-XXXXXX", NULL);
  ck_assert_ptr_nonnull (g_mkdtemp (h.tmp));
  bindir = g_build_filename (h.tmp, "bin", NULL);
  g_mkdir (bindir, 0755);
  h.bin = g_build_filename (bindir, "firecracker", NULL);
  ck_assert (g_file_get_contents (fake, &contents, &len, NULL));
  write_file (h.bin, contents, len);
  chmod (h.bin, 0755);
  h.jailer = g_build_filename (FAKE_FC_DIR, "fake-jailer.py", NULL);
  h.req_log = g_build_filename (h.tmp, "requests.log", NULL);
  h.jail_log = g_build_filename (h.tmp, "jailer.log", NULL);
  h.kernel = g_build_filename (h.tmp, "vmlinux", NULL);
  h.initrd = g_build_filename (h.tmp, "initrd.img", NULL);
  h.rootfs = g_build_filename (h.tmp, "rootfs.ext4", NULL);
  h.work = g_build_filename (h.tmp, "work.ext4", NULL);
  write_file (h.kernel, "kernel", 6);
  write_file (h.initrd, "initrd", 6);
  write_file (h.rootfs, "rootfs", 6);
  write_file (h.work, "work", 4);
  h.vmms = g_ptr_array_new_with_free_func (g_object_unref);

  g_setenv ("FAKE_FC_LOG", h.req_log, TRUE);
  g_setenv ("FAKE_JAILER_LOG", h.jail_log, TRUE);
  {
    g_autofree char *spec = g_build_filename (FAKE_FC_DIR, "firecracker-api.yaml", NULL);
    g_setenv ("FAKE_FC_SPEC", spec, TRUE);
  }
  g_unsetenv ("FAKE_FC_MODE");
}

G_GNUC_UNUSED static void
teardown (void)
{
  for (guint i = 0; i < h.vmms->len; i++)
    {
      BangerVmm *v = h.vmms->pdata[i];
      if (banger_vmm_get_pidfd (v) >= 0 && !banger_vmm_has_exited (v))
        banger_vmm_kill (v, NULL);
    }
  g_ptr_array_unref (h.vmms);
  nftw (h.tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  g_free (h.tmp);
  g_free (h.bin);
  g_free (h.jailer);
  g_free (h.req_log);
  g_free (h.jail_log);
  g_free (h.kernel);
  g_free (h.initrd);
  g_free (h.rootfs);
  g_free (h.work);
  memset (&h, 0, sizeof h);
}

G_GNUC_UNUSED static BangerVmmConfig *
make_config (const char *vm_id, const char *run_sub, const char *tap)
{
  g_autofree char *run = g_build_filename (h.tmp, run_sub, NULL);
  BangerVmmConfig *c = banger_vmm_config_new (vm_id, run);
  g_autoptr (JsonParser) p = json_parser_new ();

  c->kernel_path = g_strdup (h.kernel);
  c->initrd_path = g_strdup (h.initrd);
  c->vcpus = 2;
  c->mem_mib = 256;
  banger_vmm_config_add_drive (c, "rootfs", h.rootfs, TRUE, FALSE);
  banger_vmm_config_add_drive (c, "work", h.work, FALSE, FALSE);
  banger_vmm_config_add_nic (c, "eth0", tap, NULL);
  c->guest_ip = g_strdup ("172.30.0.2");
  c->gateway_ip = g_strdup ("172.30.0.1");
  c->netmask = g_strdup ("255.255.255.252");
  c->vsock_cid = 3;
  c->balloon_mib = 16;
  c->entropy = TRUE;
  ck_assert (json_parser_load_from_data (p, "{\"banger\": {\"vm\": \"" VM_ID "\"}}", -1, NULL));
  c->mmds = json_node_copy (json_parser_get_root (p));
  return c;
}

G_GNUC_UNUSED static BangerVmmFirecracker *
make_vmm (BangerVmmConfig *c)
{
  BangerVmm *v = banger_vmm_firecracker_new (c, h.bin);
  g_ptr_array_add (h.vmms, g_object_ref (v));
  return BANGER_VMM_FIRECRACKER (v);
}

#define OK(op)                                                                                 \
  do                                                                                           \
    {                                                                                          \
      g_autoptr (GError) err_ = NULL;                                                          \
      ck_assert_msg (op (BANGER_VMM (v), NULL, &err_), "%s: %s", #op,                          \
                     err_ ? err_->message : "?");                                              \
    }                                                                                          \
  while (0)

G_GNUC_UNUSED static void
boot (BangerVmmFirecracker *v)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (banger_vmm_prepare (BANGER_VMM (v), &error), "prepare: %s",
                 error ? error->message : "");
  OK (banger_vmm_launch);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_LAUNCHED);
  OK (banger_vmm_configure);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_CONFIGURED);
  OK (banger_vmm_start);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_RUNNING);
}

/* The fake's request log: one JSON object per request. */
G_GNUC_UNUSED static GPtrArray *
read_requests (void)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  if (!g_file_get_contents (h.req_log, &contents, NULL, NULL))
    return out;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      if (lines[i][0] == '\0')
        continue;
      ck_assert (json_parser_load_from_data (p, lines[i], -1, NULL));
      g_ptr_array_add (out, json_node_copy (json_parser_get_root (p)));
    }
  return out;
}

G_GNUC_UNUSED static JsonObject *
req (GPtrArray *reqs, guint i)
{
  ck_assert_uint_lt (i, reqs->len);
  return json_node_get_object (reqs->pdata[i]);
}

/* Find the first request @method @path at or after @from; its body. */
G_GNUC_UNUSED static JsonObject *
find_body (GPtrArray *reqs, const char *method, const char *path)
{
  for (guint i = 0; i < reqs->len; i++)
    {
      JsonObject *r = req (reqs, i);
      if (g_str_equal (json_object_get_string_member (r, "method"), method)
          && g_str_equal (json_object_get_string_member (r, "path"), path))
        {
          JsonNode *b = json_object_get_member (r, "body");
          return JSON_NODE_HOLDS_OBJECT (b) ? json_node_get_object (b) : NULL;
        }
    }
  ck_abort_msg ("no %s %s request", method, path);
  return NULL;
}

/* Every request the fake saw was accepted. */
G_GNUC_UNUSED static void
assert_all_accepted (GPtrArray *reqs)
{
  for (guint i = 0; i < reqs->len; i++)
    {
      JsonObject *r = req (reqs, i);
      gint64 status = json_object_get_int_member (r, "status");
      ck_assert_msg (status == 200 || status == 204, "%s %s -> %" G_GINT64_FORMAT ": %s",
                     json_object_get_string_member (r, "method"),
                     json_object_get_string_member (r, "path"), status,
                     json_object_get_string_member_with_default (r, "fault", ""));
    }
}

G_GNUC_UNUSED static char *
req_line (GPtrArray *reqs, guint i)
{
  JsonObject *r = req (reqs, i);
  return g_strdup_printf ("%s %s", json_object_get_string_member (r, "method"),
                          json_object_get_string_member (r, "path"));
}

G_GNUC_UNUSED static void
assert_sequence (GPtrArray *reqs, guint from, const char *const *expected)
{
  for (guint i = 0; expected[i]; i++)
    {
      g_autofree char *got = req_line (reqs, from + i);
      ck_assert_str_eq (got, expected[i]);
    }
}

static const char *const boot_sequence[] = {
  "GET /",
  "PUT /logger",
  "PUT /metrics",
  "PUT /machine-config",
  "PUT /boot-source",
  "PUT /drives/rootfs",
  "PUT /drives/work",
  "PUT /network-interfaces/eth0",
  "PUT /vsock",
  "PUT /balloon",
  "PUT /entropy",
  "PUT /mmds/config",
  "PUT /mmds",
  "PUT /actions",
  NULL,
};


typedef struct
{
  GAsyncResult *res;
} Wait;

G_GNUC_UNUSED static void
got_result (GObject *src, GAsyncResult *res, gpointer data)
{
  ((Wait *) data)->res = g_object_ref (res);
}

G_GNUC_UNUSED static GAsyncResult *
wait_result (Wait *w, GMainContext *ctx)
{
  while (w->res == NULL)
    g_main_context_iteration (ctx, TRUE);
  return w->res;
}

/* FlushMetrics, to completion, on a context of its own. */
G_GNUC_UNUSED static void
flush_metrics (BangerVmmFirecracker *v)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  Wait w = { NULL };

  g_main_context_push_thread_default (ctx);
  banger_vmm_firecracker_flush_metrics_async (v, NULL, got_result, &w);
  ck_assert_msg (banger_vmm_firecracker_flush_metrics_finish (v, wait_result (&w, ctx), &error),
                 "FlushMetrics: %s", error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  g_object_unref (w.res);
}


G_GNUC_UNUSED static gint64
timed_stop (BangerVmmFirecracker *v)
{
  gint64 t0 = g_get_monotonic_time ();
  OK (banger_vmm_stop);
  ck_assert (banger_vmm_has_exited (BANGER_VMM (v)));
  return g_get_monotonic_time () - t0;
}


G_GNUC_UNUSED static BangerFcJailerConfig *
jailer_config (gboolean new_pid_ns)
{
  g_autofree char *base = g_build_filename (h.tmp, "jail", NULL);
  BangerFcJailerConfig *j = banger_fc_jailer_config_new (h.jailer, base, getuid (), getgid ());
  const char *cgroups[] = { "cpu.weight=100", NULL };

  /* our own network namespace: a real handle, and joining it (the fake
   * jailer does when run as root) changes nothing */
  j->netns = g_strdup_printf ("/proc/%d/ns/net", getpid ());
  j->cgroups = g_strdupv ((char **) cgroups);
  /* the real jailer finds the cgroup2 mount itself; point the fake at a
   * scratch tree (the driver is told the same, to clean up) */
  j->cgroup_root = g_build_filename (h.tmp, "cgroup", NULL);
  g_mkdir (j->cgroup_root, 0755);
  g_setenv ("FAKE_JAILER_CGROUP_ROOT", j->cgroup_root, TRUE);
  j->fsize_limit = 1ULL << 34;
  j->no_file_limit = 1024;
  j->new_pid_ns = new_pid_ns;
  return j;
}

G_GNUC_UNUSED static GPtrArray *
read_jailer_argv (void)
{
  g_autofree char *contents = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonArray *a;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = NULL;

  ck_assert (g_file_get_contents (h.jail_log, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", 2);
  ck_assert (json_parser_load_from_data (p, lines[0], -1, NULL));
  a = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "argv");
  for (guint i = 0; i < json_array_get_length (a); i++)
    g_ptr_array_add (out, g_strdup (json_array_get_string_element (a, i)));
  g_ptr_array_add (out, NULL);
  return out;
}


G_GNUC_UNUSED static void
suite_setup (void)
{
  run_parent = g_dir_make_tmp ("bfc-XXXXXX", NULL);
}

G_GNUC_UNUSED static void
suite_teardown (void)
{
  GDir *proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, run_parent) != NULL)
        kill (atoi (name), SIGKILL);
    }
  if (proc != NULL)
    g_dir_close (proc);
  nftw (run_parent, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  g_clear_pointer (&run_parent, g_free);
}
