/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reaching VMs end to end (issue 12, SSH and workspace), through the CLI
 * only: a bangerd (root, in-process executor) in a network namespace this
 * test makes, the real test guest under QEMU (TCG):
 *   - a workspace holding a symlink to /etc: vm create refused, nothing made;
 *   - vm create --workspace: the tree (a symlink, an 8 MiB file) is in the
 *     guest; a push of a tree with a symlink, an executable, an empty
 *     directory, UTF-8 and long names, deletes and type changes, and a pull
 *     of guest-made files, arrive identically (listing with modes, sizes,
 *     mtimes and hashes from both sides), and status then sees no change; `ssh NAME.banger.internal` works through the Include line
 *     `banger ssh-config install` added; `banger vm ssh NAME -- CMD` works;
 *   - a host edit: vm exec pushes first and says so; --no-sync does not;
 *   - guest edits and a file changed on both sides: status shows them; vm
 *     stop pulls what it can and refuses (conflict), the VM keeps running;
 *     pull --force: the guest wins; vm stop: everything is on the host;
 *   - the guest's host key changed while stopped: vm start fails with
 *     host-key-mismatch, and so does `banger vm ssh`'s OpenSSH;
 *   - vm rm: the VM leaves the included ssh_config.
 * Root only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-e2e-test.h"

typedef BangerE2eEnv Env;

/* the kit's helpers under the names the cases use */
#define cli banger_e2e_cli
#define error_code_of banger_e2e_error_code_of

static Env *
env_new (void)
{
  Env *env = banger_e2e_test_env_root ("banger-rs", "10.78.0.0/24");

  /* the CLI runs in the namespace (vm ssh execs ssh there) */
  env->cli_in_ns = TRUE;
  return env;
}

/* Runs @argv in the namespace; the exit status. */
static int
run_in_ns (Env *env, char **out, char **err, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int rc = banger_e2e_env_run (env, TRUE, argv, out, err, &error);

  ck_assert_msg (rc >= 0, "spawn %s: %s", argv[0], error ? error->message : "?");
  return rc;
}

static void
write_file (const char *dir, const char *rel, const char *content)
{
  g_autofree char *p = g_build_filename (dir, rel, NULL);
  g_autofree char *d = g_path_get_dirname (p);
  ck_assert_int_eq (g_mkdir_with_parents (d, 0755), 0);
  ck_assert (g_file_set_contents (p, content, -1, NULL));
}

static char *
read_file (const char *dir, const char *rel)
{
  g_autofree char *p = g_build_filename (dir, rel, NULL);
  char *text = NULL;
  ck_assert_msg (g_file_get_contents (p, &text, NULL, NULL), "cannot read %s", p);
  return text;
}

/* "sha256  -" of a host file */
static char *
host_sha256 (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* The one VM dir under state/vms. */
static char *
vm_dir (Env *env)
{
  g_autofree char *vms = g_build_filename (env->state_dir, "vms", NULL);
  g_autoptr (GDir) d = g_dir_open (vms, 0, NULL);
  const char *name = d ? g_dir_read_name (d) : NULL;
  ck_assert (name != NULL);
  return g_build_filename (vms, name, NULL);
}

static guint
count_vm_dirs (Env *env)
{
  g_autofree char *vms = g_build_filename (env->state_dir, "vms", NULL);
  g_autoptr (GDir) d = g_dir_open (vms, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* dropbearkey from the guest build's unpacked dropbear-bin */
static char *
find_dropbearkey (const char *guest)
{
  g_autofree char *cache = g_path_get_dirname (guest);
  g_autofree char *debs = g_build_filename (cache, "debs", "dropbear-bin", NULL);
  g_autoptr (GDir) d = g_dir_open (debs, 0, NULL);
  const char *v;

  while (d != NULL && (v = g_dir_read_name (d)) != NULL)
    {
      char *p = g_build_filename (debs, v, "tree", "usr", "bin", "dropbearkey", NULL);
      if (g_file_test (p, G_FILE_TEST_IS_EXECUTABLE))
        return p;
      g_free (p);
    }
  return NULL;
}

/* The same listing on both sides: path, type, mode, size, mtime (whole
 * seconds) and SHA-256 of each file; symlink targets; directory modes. */
#define TREE_LISTING                                                                          \
  "cd \"$1\" && LC_ALL=C find . | LC_ALL=C sort | while IFS= read -r f; do "                  \
  "if [ -L \"$f\" ]; then echo \"$f l $(readlink \"$f\")\"; "                                 \
  "elif [ -d \"$f\" ]; then echo \"$f d $(stat -c %a \"$f\")\"; "                             \
  "else echo \"$f f $(stat -c '%a %s %Y' \"$f\") $(sha256sum < \"$f\" | cut -d ' ' -f 1)\"; " \
  "fi; done"

static char *
tree_listing_host (const char *dir)
{
  const char *argv[] = { "sh", "-c", TREE_LISTING, "sh", dir, NULL };
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = -1;

  ck_assert_msg (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &error),
                 "listing: %s", error ? error->message : "?");
  ck_assert_int_eq (status, 0);
  return out;
}

static void
assert_tree_in_guest (Env *env, const char *host_dir, const char *guest_dir)
{
  g_autofree char *want = tree_listing_host (host_dir);
  g_autofree char *out = NULL, *err = NULL;
  int rc = cli (env, &out, &err, "vm", "exec", "--no-sync", "w1", "--", "sh", "-c", TREE_LISTING,
                "sh", guest_dir, NULL);

  ck_assert_msg (rc == 0, "guest listing: %s", err);
  ck_assert_msg (g_str_equal (out, want), "guest:\n%s\nhost:\n%s", out, want);
}

/* The push's one tar stream: a tree with a symlink, an executable, an
 * empty directory, a name with spaces and UTF-8, long names, arrives
 * identically; then a deleted file, a directory turned into a file, a
 * file turned into a directory, a retargeted symlink; and the next status
 * sees nothing changed (the guest's mtimes are what it compares). */
static void
check_push_stream (Env *env, const char *ws)
{
  g_autofree char *t = g_build_filename (ws, "t", NULL);
  g_autofree char *longname = g_strnfill (180, 'n');
  g_autofree char *longrel = g_strdup_printf ("deep/%s/%s.txt", longname, longname);
  g_autofree char *out = NULL, *err = NULL;
  int rc;

  write_file (t, "run.sh", "#!/bin/sh\necho hi\n");
  write_file (t, "sp ace \xc3\xa9t\xc3\xa9.txt", "utf8\n");
  write_file (t, longrel, "long\n");
  write_file (t, "gone.txt", "bye\n");
  write_file (t, "tc_dir/inner.txt", "inner\n");
  write_file (t, "tc_file", "file\n");
  {
    g_autofree char *run = g_build_filename (t, "run.sh", NULL);
    g_autofree char *empty = g_build_filename (t, "empty", NULL);
    g_autofree char *ln = g_build_filename (t, "ln", NULL);
    g_autofree char *secret = g_build_filename (t, "tc_dir", "inner.txt", NULL);
    struct timespec old[2] = { { 1500000000, 123456789 }, { 1500000000, 987654321 } };
    ck_assert_int_eq (chmod (run, 0755), 0);
    ck_assert_int_eq (chmod (secret, 0600), 0);
    /* an mtime in the past, with nanoseconds: the guest gets its seconds */
    ck_assert_int_eq (utimensat (AT_FDCWD, run, old, 0), 0);
    ck_assert_int_eq (g_mkdir (empty, 0700), 0);
    ck_assert_int_eq (symlink ("run.sh", ln), 0);
  }
  rc = cli (env, &out, &err, "vm", "workspace", "push", "w1", NULL);
  ck_assert_msg (rc == 0, "push: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  assert_tree_in_guest (env, t, "/workspace/t");

  /* deletes and type changes */
  {
    g_autofree char *gone = g_build_filename (t, "gone.txt", NULL);
    g_autofree char *inner = g_build_filename (t, "tc_dir", "inner.txt", NULL);
    g_autofree char *tc_dir = g_build_filename (t, "tc_dir", NULL);
    g_autofree char *tc_file = g_build_filename (t, "tc_file", NULL);
    g_autofree char *ln = g_build_filename (t, "ln", NULL);
    ck_assert_int_eq (unlink (gone), 0);
    ck_assert_int_eq (unlink (inner), 0);
    ck_assert_int_eq (rmdir (tc_dir), 0);
    write_file (t, "tc_dir", "now a file\n");
    ck_assert_int_eq (unlink (tc_file), 0);
    write_file (t, "tc_file/x", "now a dir\n");
    ck_assert_int_eq (unlink (ln), 0);
    ck_assert_int_eq (symlink ("tc_dir", ln), 0);
  }
  rc = cli (env, &out, &err, "vm", "workspace", "push", "w1", NULL);
  ck_assert_msg (rc == 0, "push: %d: %s", rc, err);
  ck_assert_msg (strstr (out, "4 written, 2 deleted") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  assert_tree_in_guest (env, t, "/workspace/t");

  /* the next status: in step, nothing to push either way */
  rc = cli (env, &out, &err, "vm", "workspace", "status", "w1", NULL);
  ck_assert_msg (rc == 0, "status: %s", err);
  ck_assert_msg (strstr (out, "changed") == NULL && strstr (out, "conflict") == NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "workspace", "push", "w1", NULL);
  ck_assert_msg (rc == 0 && strstr (out, "0 written, 0 deleted") != NULL, "%s %s", out, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a pull of guest-made files of every kind (one cpio stream) */
  rc = cli (env, NULL, &err, "vm", "exec", "--no-sync", "w1", "--", "sh", "-c",
            "cd /workspace/t && mkdir -p g/sub && printf 'g1\\n' > g/sub/a.txt && "
            "printf 'sp\\n' > 'g/b c \xc3\xa9.txt' && chmod 0751 g/sub/a.txt && "
            "dd if=/dev/urandom of=g/big.bin bs=1024 count=300 2>/dev/null && "
            "ln -s sub/a.txt g/l && touch -d '2021-02-03 04:05:06' g/sub/a.txt && sync",
            NULL);
  ck_assert_msg (rc == 0, "guest writes: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "workspace", "pull", "w1", NULL);
  ck_assert_msg (rc == 0, "pull: %d: %s", rc, err);
  ck_assert_msg (strstr (out, "6 written, 0 deleted") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  assert_tree_in_guest (env, t, "/workspace/t");
  rc = cli (env, &out, &err, "vm", "workspace", "status", "w1", NULL);
  ck_assert_msg (rc == 0, "status: %s", err);
  ck_assert_msg (strstr (out, "changed") == NULL && strstr (out, "conflict") == NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
}

START_TEST (test_reach)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *ws = NULL, *bad_ws = NULL, *home_cfg = NULL, *include = NULL;
  g_autofree char *big = NULL, *big_sha = NULL;
  Env *env;
  int rc;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  kernel = g_build_filename (guest, "vmlinuz", NULL);
  initrd = g_build_filename (guest, "initrd.img", NULL);
  rootfs = g_build_filename (guest, "rootfs.ext4", NULL);
  env = env_new ();
  rc = cli (env, NULL, &err, "kernel", "add", "k", "--kernel", kernel, "--initrd", initrd, NULL);
  ck_assert_msg (rc == 0, "kernel add: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "image", "import", "guest", "--rootfs", rootfs, NULL);
  ck_assert_msg (rc == 0, "image import: %s", err);
  g_clear_pointer (&err, g_free);

  /* the host tree: files, a symlink, an 8 MiB file */
  ws = g_build_filename (env->dir, "ws", NULL);
  write_file (ws, "src/main.c", "int main(void){return 0;}\n");
  write_file (ws, "both.txt", "base\n");
  write_file (ws, "todelete", "x\n");
  {
    g_autofree char *lnk = g_build_filename (ws, "link", NULL);
    g_autoptr (GRand) r = g_rand_new_with_seed (7);
    g_autofree guint32 *data = g_new (guint32, 2 * 1024 * 1024);
    ck_assert_int_eq (symlink ("src/main.c", lnk), 0);
    for (guint i = 0; i < 2 * 1024 * 1024; i++)
      data[i] = g_rand_int (r);
    big = g_build_filename (ws, "big.bin", NULL);
    ck_assert (g_file_set_contents (big, (const char *)data, 8 * 1024 * 1024, NULL));
    big_sha = host_sha256 (big);
  }

  /* a workspace with a symlink to /etc: refused, nothing made */
  bad_ws = g_build_filename (env->dir, "bad", NULL);
  write_file (bad_ws, "ok.txt", "ok\n");
  {
    g_autofree char *lnk = g_build_filename (bad_ws, "etc", NULL);
    ck_assert_int_eq (symlink ("/etc", lnk), 0);
  }
  rc = cli (env, &out, &err, "--json", "vm", "create", "bad", "--image", "guest", "--kernel", "k",
            "--workspace", bad_ws, NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "invalid-argument");
  }
  ck_assert_msg (strstr (err, "outside the workspace") != NULL, "%s", err);
  ck_assert_uint_eq (count_vm_dirs (env), 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* a guest path with '..': refused */
  {
    g_autofree char *spec = g_strdup_printf ("%s:/work/../etc", ws);
    rc = cli (env, &out, &err, "--json", "vm", "create", "bad", "--image", "guest", "--kernel",
              "k", "--workspace", spec, NULL);
    ck_assert_int_eq (rc, 1);
    {
      g_autofree char *code = error_code_of (out);
      ck_assert_str_eq (code, "invalid-argument");
    }
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* create with the workspace */
  rc = cli (env, &out, &err, "vm", "create", "w1", "--image", "guest", "--kernel", "k",
            "--workspace", ws, NULL);
  ck_assert_msg (rc == 0, "vm create: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "exec", "w1", "--", "sh", "-c",
            "cat /workspace/src/main.c; readlink /workspace/link; sha256sum /workspace/big.bin",
            NULL);
  ck_assert_msg (rc == 0, "exec: %s", err);
  ck_assert_msg (g_str_has_prefix (out, "int main(void){return 0;}\nsrc/main.c\n"), "%s", out);
  ck_assert_msg (strstr (out, big_sha) != NULL, "%s vs %s", out, big_sha);
  ck_assert_msg (strstr (err, "workspace pushed") == NULL, "clean: no push: %s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  check_push_stream (env, ws);

  /* ssh NAME.banger.internal through the Include line */
  home_cfg = g_build_filename (env->dir, "home", ".ssh", "config", NULL);
  write_file (env->dir, "home/.ssh/config", "Host other\n  User nobody\n");
  rc = cli (env, &out, &err, "ssh-config", "install", "--file", home_cfg, NULL);
  ck_assert_msg (rc == 0, "ssh-config install: %s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "ssh-config", "install", "--file", home_cfg, NULL);
  ck_assert_msg (rc == 0 && strstr (out, "already includes") != NULL, "second install: %s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *cfg = read_file (env->dir, "home/.ssh/config");
    g_auto (GStrv) lines = g_strsplit (cfg, "\n", -1);
    ck_assert (g_str_has_prefix (lines[1], "Include "));
    include = g_strdup (lines[1] + strlen ("Include "));
    ck_assert_msg (g_str_has_suffix (cfg, "\nHost other\n  User nobody\n"), "%s", cfg);
  }
  {
    const char *argv[] = { "ssh", "-F", home_cfg, "-o", "BatchMode=yes", "w1.banger.internal",
                           "cat", "/workspace/src/main.c", NULL };
    rc = run_in_ns (env, &out, &err, argv);
    ck_assert_msg (rc == 0, "ssh w1.banger.internal: %d: %s", rc, err);
    ck_assert_str_eq (out, "int main(void){return 0;}\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  /* banger vm ssh NAME -- CMD */
  rc = cli (env, &out, &err, "vm", "ssh", "w1", "--", "cat", "/workspace/link", NULL);
  ck_assert_msg (rc == 0, "vm ssh: %d: %s", rc, err);
  ck_assert_str_eq (out, "int main(void){return 0;}\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a host edit: exec pushes first and says so; --no-sync does not push */
  write_file (ws, "src/main.c", "int main(void){return 1;}\n");
  rc = cli (env, &out, &err, "vm", "exec", "w1", "--", "cat", "/workspace/src/main.c", NULL);
  ck_assert_msg (rc == 0, "exec: %s", err);
  ck_assert_str_eq (out, "int main(void){return 1;}\n");
  ck_assert_msg (strstr (err, "banger: workspace pushed to w1:/workspace (1 written, 0 deleted)")
                     != NULL,
                 "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  write_file (ws, "src/main.c", "int main(void){return 2;}\n");
  rc = cli (env, &out, &err, "vm", "exec", "--no-sync", "w1", "--", "cat", "/workspace/src/main.c",
            NULL);
  ck_assert_msg (rc == 0, "exec --no-sync: %s", err);
  ck_assert_str_eq (out, "int main(void){return 1;}\n");
  ck_assert_msg (strstr (err, "workspace pushed") == NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* guest edits, and both.txt changed on both sides */
  rc = cli (env, NULL, &err, "vm", "exec", "--no-sync", "w1", "--", "sh", "-c",
            "echo guest > /workspace/fromguest.txt && rm /workspace/todelete && "
            "echo guest-edit >> /workspace/both.txt && mkdir /workspace/gdir && "
            "ln -s ../both.txt /workspace/gdir/l && sync",
            NULL);
  ck_assert_msg (rc == 0, "guest edits: %s", err);
  g_clear_pointer (&err, g_free);
  write_file (ws, "both.txt", "host-edit\n");
  rc = cli (env, &out, &err, "vm", "workspace", "status", "w1", NULL);
  ck_assert_msg (rc == 0, "status: %s", err);
  ck_assert_msg (strstr (out, "conflicts (changed on both sides, left alone):\n  both.txt\n")
                     != NULL,
                 "%s", out);
  ck_assert_msg (strstr (out, "changed in the guest:\n  fromguest.txt\n  gdir\n  gdir/l\n"
                              "  todelete\n")
                     != NULL,
                 "%s", out);
  ck_assert_msg (strstr (out, "changed on the host:\n  src/main.c\n") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* vm stop: pulls what it can, refuses on the conflict, keeps running */
  rc = cli (env, &out, &err, "--json", "vm", "stop", "w1", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "conflict");
  }
  ck_assert_msg (strstr (err, "'both.txt'") != NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *g = read_file (ws, "fromguest.txt");
    g_autofree char *todel = g_build_filename (ws, "todelete", NULL);
    g_autofree char *l = g_build_filename (ws, "gdir", "l", NULL);
    g_autofree char *target = g_file_read_link (l, NULL);
    g_autofree char *both = read_file (ws, "both.txt");
    ck_assert_str_eq (g, "guest\n");
    ck_assert (!g_file_test (todel, G_FILE_TEST_EXISTS));
    ck_assert_str_eq (target, "../both.txt"); /* a symlink, kept as one */
    ck_assert_str_eq (both, "host-edit\n");   /* the conflict: left alone */
  }
  rc = cli (env, &out, NULL, "vm", "exec", "--no-sync", "w1", "--", "true", NULL);
  ck_assert_int_eq (rc, 0); /* still running */
  g_clear_pointer (&out, g_free);
  /* a pull without --force leaves it and exits 3; with --force the guest wins */
  rc = cli (env, &out, &err, "vm", "workspace", "pull", "w1", NULL);
  ck_assert_int_eq (rc, 3);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "workspace", "pull", "--force", "w1", NULL);
  ck_assert_msg (rc == 0, "pull --force: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *both = read_file (ws, "both.txt");
    ck_assert_str_eq (both, "base\nguest-edit\n");
  }
  /* a last guest write, then stop: it comes home */
  rc = cli (env, NULL, &err, "vm", "exec", "--no-sync", "w1", "--", "sh", "-c",
            "echo last > /workspace/last.txt && sync", NULL);
  ck_assert_msg (rc == 0, "%s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "stop", "w1", NULL);
  ck_assert_msg (rc == 0, "stop: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *last = read_file (ws, "last.txt");
    g_autofree char *main_c = read_file (ws, "src/main.c");
    g_autofree char *sha = host_sha256 (big);
    ck_assert_str_eq (last, "last\n");
    ck_assert_str_eq (main_c, "int main(void){return 2;}\n"); /* the host's own edit kept */
    ck_assert_str_eq (sha, big_sha);
  }

  /* the guest's host key changes while stopped: start refuses it */
  {
    g_autofree char *dbk = find_dropbearkey (guest);
    g_autofree char *dir = vm_dir (env);
    g_autofree char *img = g_build_filename (dir, "rootfs.ext4", NULL);
    g_autofree char *newkey = g_build_filename (env->dir, "newkey", NULL);
    g_autofree char *cmd = NULL;
    ck_assert_msg (dbk != NULL, "no dropbearkey in the guest cache");
    {
      const char *argv[] = { dbk, "-t", "ed25519", "-f", newkey, NULL };
      ck_assert (banger_kit_run (argv, NULL, NULL));
    }
    cmd = g_strdup_printf ("rm /etc/dropbear/dropbear_ed25519_host_key\n"
                           "write %s /etc/dropbear/dropbear_ed25519_host_key\n",
                           newkey);
    {
      g_autofree char *cmdfile = g_build_filename (env->dir, "debugfs.cmds", NULL);
      const char *argv[] = { "debugfs", "-w", "-f", cmdfile, img, NULL };
      ck_assert (g_file_set_contents (cmdfile, cmd, -1, NULL));
      ck_assert (banger_kit_run (argv, NULL, NULL));
    }
  }
  rc = cli (env, &out, &err, "--json", "vm", "start", "w1", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "host-key-mismatch");
  }
  ck_assert_msg (strstr (err, "host key") != NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* vm rm: gone from the included ssh_config */
  {
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    ck_assert (g_file_get_contents (include, &before, NULL, NULL));
    ck_assert_msg (strstr (before, "Host w1.banger.internal w1\n") != NULL, "%s", before);
    rc = cli (env, NULL, &err, "vm", "rm", "w1", NULL);
    ck_assert_msg (rc == 0, "rm: %s", err);
    g_clear_pointer (&err, g_free);
    ck_assert (g_file_get_contents (include, &after, NULL, NULL));
    ck_assert_msg (strstr (after, "w1") == NULL, "%s", after);
  }
  rc = cli (env, &out, &err, "ssh-config", "uninstall", "--file", home_cfg, NULL);
  ck_assert_msg (rc == 0, "uninstall: %s", err);
  {
    g_autofree char *cfg = read_file (env->dir, "home/.ssh/config");
    ck_assert_str_eq (cfg, "Host other\n  User nobody\n");
  }
}
END_TEST

static Suite *
reach_suite (void)
{
  Suite *s = suite_create ("e2e-reach");
  TCase *tc = tcase_create ("reach");

  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_reach);
  suite_add_tcase (s, tc);
  return s;
}

/* no fork: a failed assertion longjmps back to the runner; the kit's
 * cleanup (at the next env_new and at the end) kills and removes what it
 * left */
BANGER_E2E_TEST_MAIN (reach_suite, CK_NOFORK, "network namespace, taps, QEMU")
