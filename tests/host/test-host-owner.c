/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "Attacker = the owner" (issue 8): what a compromised owner daemon can try
 * against bangerd-root beyond the wire format — files planted in the run dir
 * it owns, addresses that hijack host routes, floods of host objects, an
 * nftables table or a tun device that banger did not make, and probing
 * root-only directories through mkfs_work_disk.  Each test asserts the
 * specific refusal and that the foreign object is untouched.  As root, in a
 * network namespace and a cgroup the test makes; doc/security.md lists the
 * cases. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger.h"
#include "banger-host-names.h"
#include "banger-install-config.h"
#include "banger-netlink.h"
#include "banger-nft.h"
#include "banger-priv-client.h"
#include "banger-priv-ops-private.h"
#include "banger-priv-server.h"
#include "banger-test.h"
#include "host-test-util.h"

static const char *
fake_vmm (void)
{
  const char *p = g_getenv ("BANGER_TEST_FAKE_VMM");
  ck_assert_msg (p != NULL, "BANGER_TEST_FAKE_VMM is not set (run through meson)");
  return p;
}

static char *
run_out (const char *const *argv)
{
  char *out = host_test_run (argv, NULL);
  ck_assert_msg (out != NULL, "%s %s failed", argv[0], argv[1]);
  return out;
}

/* The link names and their ifaliases ("name alias\n" each): what the
 * helper could create, delete or mark (states and counters change on their
 * own, so they are not compared). */
static char *
links (void)
{
  const char *argv[] = { "ip", "-o", "link", "show", NULL };
  g_autofree char *out = run_out (argv);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  GString *s = g_string_new (NULL);

  for (char **l = lines; *l && **l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ": ", 3);
      g_auto (BangerLinkInfo) li = { 0 };
      g_autofree char *name = NULL;
      char *at;

      ck_assert (g_strv_length (f) >= 2);
      name = g_strdup (f[1]);
      if ((at = strchr (name, '@')) != NULL)
        *at = '\0';
      banger_netlink_get_link (name, &li, NULL);
      g_string_append_printf (s, "%s %s %s %" G_GINT64_FORMAT "\n", name,
                              li.kind ? li.kind : "-", li.alias ? li.alias : "-", li.tun_owner);
    }
  return g_string_free (s, FALSE);
}

static char *
all_addrs (void)
{
  const char *argv[] = { "ip", "-o", "addr", "show", NULL };
  return run_out (argv);
}

static char *
ruleset (void)
{
  const char *argv[] = { "nft", "list", "ruleset", NULL };
  return run_out (argv);
}

static void
refused (BangerPrivState *state, const char *method, const char *params, int code)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, method, params, &e);
  ck_assert_msg (r == NULL, "%s %s was accepted", method, params);
  banger_assert_error (e, code);
}

static JsonObject *
ok_call (BangerPrivState *state, const char *method, const char *params, JsonNode **keep)
{
  g_autoptr (GError) error = NULL;
  *keep = host_test_call (state, method, params, &error);
  ck_assert_msg (*keep != NULL, "%s %s: %s", method, params, error ? error->message : "");
  return json_node_get_object (*keep);
}

static void
ok (BangerPrivState *state, const char *method, const char *params)
{
  g_autoptr (JsonNode) keep = NULL;
  ok_call (state, method, params, &keep);
}

static char *
read_file (const char *path)
{
  char *data = NULL;
  ck_assert_msg (g_file_get_contents (path, &data, NULL, NULL), "cannot read %s", path);
  return data;
}

/* ---------------------------------------------------- 1/3: vmm.log plants */

typedef enum
{
  PLANT_HARDLINK,
  PLANT_FIFO,
  PLANT_CHARDEV,
  PLANT_SYMLINK,
} Plant;

static void
launch_with_planted_log (Plant plant)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  /* one VM per case: a case that fails leaves nothing in the next one's way */
  g_autofree char *vm_id = g_strdup_printf ("web-log-%d", (int) plant);
  g_autofree char *params = g_strdup_printf ("{\"vm_id\":\"%s\",\"vmm\":\"firecracker\"}", vm_id);
  g_autofree char *cleanup = g_strdup_printf ("{\"vm_id\":\"%s\"}", vm_id);
  g_autofree char *secret = g_build_filename (state->state_dir, "root-secret", NULL);
  g_autofree char *vm_dir = g_build_filename (state->runtime_dir, "vm", NULL);
  g_autofree char *run_dir = g_build_filename (vm_dir, vm_id, NULL);
  g_autofree char *log = g_build_filename (run_dir, "vmm.log", NULL);
  g_autofree char *content = NULL;
  g_autoptr (JsonNode) r = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;
  gint64 t0;

  state->firecracker_path = g_strdup (fake_vmm ());
  /* root's file, 0600, somewhere the owner cannot read */
  ck_assert (g_file_set_contents (secret, "root only\n", -1, NULL));
  ck_assert_int_eq (chmod (secret, 0600), 0);
  /* the VM's run dir as a previous launch left it: the owner's, 0700 */
  ck_assert_int_eq (g_mkdir_with_parents (vm_dir, 0755), 0);
  ck_assert_int_eq (mkdir (run_dir, 0700), 0);
  ck_assert_int_eq (chown (run_dir, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID), 0);
  switch (plant)
    {
    case PLANT_HARDLINK:
      ck_assert_int_eq (link (secret, log), 0);
      break;
    case PLANT_FIFO:
      ck_assert_int_eq (mkfifo (log, 0666), 0);
      break;
    case PLANT_CHARDEV:
      ck_assert_int_eq (mknod (log, S_IFCHR | 0666, makedev (1, 3)), 0); /* /dev/null */
      break;
    case PLANT_SYMLINK:
      ck_assert_int_eq (symlink (secret, log), 0);
      break;
    }

  t0 = g_get_monotonic_time ();
  r = host_test_call (state, "priv.launch_vmm", params, &error);
  /* the helper never blocks on what it finds there (a FIFO without reader) */
  ck_assert_msg (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC, "launch took too long");
  ck_assert_msg (r != NULL, "launch: %s", error ? error->message : "");

  /* root's file: same owner, mode, link count and bytes */
  ck_assert_int_eq (stat (secret, &st), 0);
  ck_assert_uint_eq (st.st_uid, 0);
  ck_assert_uint_eq (st.st_gid, 0);
  ck_assert_uint_eq (st.st_mode & 07777, 0600);
  ck_assert_uint_eq (st.st_nlink, 1);
  content = read_file (secret);
  ck_assert_str_eq (content, "root only\n");
  /* the log: a fresh regular file with one link, the owner's */
  ck_assert_int_eq (lstat (log, &st), 0);
  ck_assert (S_ISREG (st.st_mode));
  ck_assert_uint_eq (st.st_nlink, 1);
  ck_assert_uint_eq (st.st_uid, HOST_TEST_OWNER_UID);
  ck_assert_uint_eq (st.st_mode & 07777, 0600);

  ok (state, "priv.cleanup_vm", cleanup);
  host_test_state_free (state);
}

START_TEST (test_log_hardlink_to_root_file)
{
  host_test_netns_enter ();
  launch_with_planted_log (PLANT_HARDLINK);
}
END_TEST

START_TEST (test_log_fifo)
{
  host_test_netns_enter ();
  launch_with_planted_log (PLANT_FIFO);
}
END_TEST

START_TEST (test_log_device_node)
{
  host_test_netns_enter ();
  launch_with_planted_log (PLANT_CHARDEV);
}
END_TEST

START_TEST (test_log_symlink)
{
  host_test_netns_enter ();
  launch_with_planted_log (PLANT_SYMLINK);
}
END_TEST

/* A directory planted as vmm.log cannot be unlinked: refused, not used. */
START_TEST (test_log_directory)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  g_autofree char *run_dir = g_build_filename (state->runtime_dir, "vm", "web-dir", NULL);
  g_autofree char *log = g_build_filename (run_dir, "vmm.log", NULL);

  host_test_netns_enter ();
  state->firecracker_path = g_strdup (fake_vmm ());
  ck_assert_int_eq (g_mkdir_with_parents (log, 0755), 0);
  ck_assert_int_eq (chown (run_dir, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID), 0);
  refused (state, "priv.launch_vmm", "{\"vm_id\":\"web-dir\",\"vmm\":\"firecracker\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  ck_assert (g_file_test (log, G_FILE_TEST_IS_DIR));
  ok (state, "priv.cleanup_vm", "{\"vm_id\":\"web-dir\"}");
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------- 9a: mkfs probing root-only dirs */

START_TEST (test_mkfs_reveals_nothing)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *hidden_dir = g_build_filename (state->state_dir, "root-only", NULL);
  g_autofree char *hidden_file = g_build_filename (hidden_dir, "disk.img", NULL);
  g_autofree char *hidden_missing = g_build_filename (hidden_dir, "nothing.img", NULL);
  g_autofree char *missing = g_build_filename (state->state_dir, "missing", "disk.img", NULL);
  const char *paths[] = { hidden_file, hidden_missing, missing };
  g_autofree char *first = NULL;

  ck_assert_int_eq (mkdir (hidden_dir, 0700), 0);
  {
    int fd = open (hidden_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge (fd, 0);
    ck_assert_int_eq (ftruncate (fd, 2 * 1024 * 1024), 0);
    close (fd);
  }
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *p = g_strdup_printf ("{\"path\":\"%s\"}", paths[i]);
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = host_test_call (state, "priv.mkfs_work_disk", p, &e);
      g_autofree char *generic = NULL;

      ck_assert_ptr_null (r);
      banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
      /* the same sentence, whatever is there */
      {
        g_auto (GStrv) parts = g_strsplit (e->message, paths[i], -1);
        generic = g_strjoinv ("<path>", parts);
      }
      if (first == NULL)
        first = g_strdup (generic);
      ck_assert_str_eq (generic, first);
    }
  /* the root-only file was not touched */
  {
    struct stat st;
    ck_assert_int_eq (stat (hidden_file, &st), 0);
    ck_assert_uint_eq (st.st_uid, 0);
    ck_assert_int_eq (st.st_size, 2 * 1024 * 1024);
  }
  /* control: the same file in a directory the owner can search is
   * refused for what it is (root's), which the owner could see itself */
  ck_assert_int_eq (chmod (hidden_dir, 0711), 0);
  {
    g_autofree char *p = g_strdup_printf ("{\"path\":\"%s\"}", hidden_file);
    refused (state, "priv.mkfs_work_disk", p, BANGER_ERROR_PERMISSION_DENIED);
  }
  host_test_state_free (state);
}
END_TEST

/* ---------------------------------------------------- 5: address policy */

START_TEST (test_address_policy)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  static const struct
  {
    const char *cidr;
    int code;
  } bad[] = {
    { "128.0.0.1/1", BANGER_ERROR_PERMISSION_DENIED },   /* half the internet */
    { "0.0.0.1/1", BANGER_ERROR_INVALID_ARGUMENT },      /* 0/8 */
    { "10.64.0.1/8", BANGER_ERROR_PERMISSION_DENIED },   /* wider than the VM network */
    { "192.168.1.1/24", BANGER_ERROR_PERMISSION_DENIED }, /* outside it */
    { "10.128.0.1/24", BANGER_ERROR_PERMISSION_DENIED }, /* just past it */
    { "127.0.0.1/8", BANGER_ERROR_INVALID_ARGUMENT },    /* loopback */
    { "127.1.2.3/32", BANGER_ERROR_INVALID_ARGUMENT },
    { "224.0.0.1/24", BANGER_ERROR_INVALID_ARGUMENT },   /* multicast */
    { "169.254.1.1/16", BANGER_ERROR_INVALID_ARGUMENT }, /* link-local */
    { "255.255.255.255/32", BANGER_ERROR_INVALID_ARGUMENT }, /* broadcast */
    { "240.0.0.1/24", BANGER_ERROR_INVALID_ARGUMENT },   /* reserved */
    { "10.77.0.255/24", BANGER_ERROR_INVALID_ARGUMENT }, /* the subnet's broadcast */
    { "10.77.0.0/24", BANGER_ERROR_INVALID_ARGUMENT },   /* the subnet's network */
    { "10.80.0.1/24", BANGER_ERROR_ALREADY_EXISTS },     /* already on the host (veth) */
    { "10.80.0.1/30", BANGER_ERROR_ALREADY_EXISTS },
  };
  g_autofree char *links_before = NULL;
  g_autofree char *addrs_before = NULL;
  g_autofree char *tap = banger_host_tap_name ("web-a", NULL);

  host_test_netns_enter ();
  {
    const char *a1[] = { "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1", NULL };
    const char *a2[] = { "ip", "addr", "add", "10.80.0.1/24", "dev", "eth0", NULL };
    g_autofree char *o1 = run_out (a1);
    g_autofree char *o2 = run_out (a2);
  }
  links_before = links ();
  addrs_before = all_addrs ();
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *pb = g_strdup_printf ("{\"name\":\"bngsec0\",\"address\":\"%s\"}", bad[i].cidr);
      g_autofree char *pt = g_strdup_printf ("{\"vm_id\":\"web-a\",\"address\":\"%s\"}", bad[i].cidr);
      refused (state, "priv.create_bridge", pb, bad[i].code);
      refused (state, "priv.create_tap", pt, bad[i].code);
    }
  /* nothing was made, no address added anywhere */
  {
    g_autofree char *l = links ();
    g_autofree char *a = all_addrs ();
    ck_assert_str_eq (l, links_before);
    ck_assert_str_eq (a, addrs_before);
  }
  /* an existing tap of banger's cannot be given such an address either */
  ok (state, "priv.create_tap", "{\"vm_id\":\"web-a\"}");
  refused (state, "priv.create_tap", "{\"vm_id\":\"web-a\",\"address\":\"128.0.0.1/1\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.create_tap", "{\"vm_id\":\"web-a\",\"address\":\"10.80.0.1/24\"}",
           BANGER_ERROR_ALREADY_EXISTS);
  /* control: inside the VM network; again on the same tap is fine */
  ok (state, "priv.create_tap", "{\"vm_id\":\"web-a\",\"address\":\"10.78.0.1/30\"}");
  ok (state, "priv.create_tap", "{\"vm_id\":\"web-a\",\"address\":\"10.78.0.1/30\"}");
  ok (state, "priv.create_bridge", "{\"name\":\"bngsec0\",\"address\":\"10.77.0.1/24\"}");
  /* … but not the same address on a second interface */
  refused (state, "priv.create_bridge", "{\"name\":\"bngsec1\",\"address\":\"10.78.0.1/24\"}",
           BANGER_ERROR_ALREADY_EXISTS);
  {
    const char *argv[] = { "ip", "-o", "-4", "addr", "show", "dev", tap, NULL };
    g_autofree char *a = run_out (argv);
    ck_assert_msg (strstr (a, "10.78.0.1/30") != NULL, "tap addresses: %s", a);
  }
  ok (state, "priv.delete_tap", "{\"vm_id\":\"web-a\"}");
  ok (state, "priv.delete_bridge", "{\"name\":\"bngsec0\"}");
  host_test_state_free (state);
}
END_TEST

/* -------------------------------------------------------------- 6: caps */

START_TEST (test_caps)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  g_autofree char *rules_after_two = NULL;
  g_autofree char *links_after_two = NULL;

  host_test_netns_enter ();
  state->firecracker_path = g_strdup (fake_vmm ());
  state->max_taps = 2;
  state->max_bridges = 1;
  state->max_nat_elements = 2;
  state->max_vmms = 2;

  ok (state, "priv.create_tap", "{\"vm_id\":\"cap-1\"}");
  ok (state, "priv.create_tap", "{\"vm_id\":\"cap-2\"}");
  ok (state, "priv.create_bridge", "{\"name\":\"bngcap0\"}");
  links_after_two = links ();
  refused (state, "priv.create_tap", "{\"vm_id\":\"cap-3\"}", BANGER_ERROR_LIMIT_EXCEEDED);
  refused (state, "priv.create_bridge", "{\"name\":\"bngcap1\"}", BANGER_ERROR_LIMIT_EXCEEDED);
  {
    g_autofree char *l = links ();
    ck_assert_str_eq (l, links_after_two);
  }
  /* reconfiguring what exists is not a new object */
  ok (state, "priv.create_tap", "{\"vm_id\":\"cap-2\",\"mtu\":1400}");
  ok (state, "priv.create_bridge", "{\"name\":\"bngcap0\",\"mtu\":1400}");

  ok (state, "priv.nat_enable", "{\"vm_id\":\"cap-1\",\"guest_ip\":\"10.77.0.2\"}");
  ok (state, "priv.nat_enable", "{\"vm_id\":\"cap-2\",\"guest_ip\":\"10.77.0.6\"}");
  rules_after_two = ruleset ();
  refused (state, "priv.nat_enable", "{\"vm_id\":\"cap-3\",\"guest_ip\":\"10.77.0.10\"}",
           BANGER_ERROR_LIMIT_EXCEEDED);
  {
    g_autofree char *r = ruleset ();
    ck_assert_str_eq (r, rules_after_two);
  }
  ok (state, "priv.nat_enable", "{\"vm_id\":\"cap-2\",\"guest_ip\":\"10.77.0.6\"}");

  ok (state, "priv.launch_vmm", "{\"vm_id\":\"cap-1\",\"vmm\":\"firecracker\"}");
  ok (state, "priv.launch_vmm", "{\"vm_id\":\"cap-2\",\"vmm\":\"firecracker\"}");
  refused (state, "priv.launch_vmm", "{\"vm_id\":\"cap-3\",\"vmm\":\"firecracker\"}",
           BANGER_ERROR_LIMIT_EXCEEDED);
  {
    g_autofree char *run3 = g_build_filename (state->runtime_dir, "vm", "cap-3", NULL);
    ck_assert (!g_file_test (run3, G_FILE_TEST_EXISTS));
  }
  /* a slot frees when a VM goes */
  ok (state, "priv.cleanup_vm", "{\"vm_id\":\"cap-1\"}");
  ok (state, "priv.create_tap", "{\"vm_id\":\"cap-3\"}");
  ok (state, "priv.nat_enable", "{\"vm_id\":\"cap-3\",\"guest_ip\":\"10.77.0.10\"}");
  ok (state, "priv.launch_vmm", "{\"vm_id\":\"cap-3\",\"vmm\":\"firecracker\"}");
  ok (state, "priv.cleanup_vm", "{\"vm_id\":\"cap-2\"}");
  ok (state, "priv.cleanup_vm", "{\"vm_id\":\"cap-3\"}");
  ok (state, "priv.delete_bridge", "{\"name\":\"bngcap0\"}");
  {
    const char *argv[] = { "nft", "delete", "table", "ip", "banger", NULL };
    g_autofree char *o = run_out (argv);
  }
  host_test_state_free (state);
}
END_TEST

/* The real bangerd-root with the owner at its limits: root is still served
 * at once; and a config whose caps do not fit the helper's descriptors is
 * refused at start. */

typedef struct
{
  BangerPrivState *dirs;
  char *config_path;
  char *socket_path;
} HelperEnv;

static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (data != NULL)
    {
      struct rlimit rl = { GPOINTER_TO_UINT (data), GPOINTER_TO_UINT (data) };
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static GSubprocess *
spawn_helper (HelperEnv *env, guint nofile, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);

  g_subprocess_launcher_set_child_setup (launcher, die_with_test, GUINT_TO_POINTER (nofile),
                                         NULL);
  return g_subprocess_launcher_spawn (launcher, error, g_getenv ("BANGER_TEST_HELPER"), "-c",
                                      env->config_path, NULL);
}

static void
on_waited (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  *(gboolean *) user_data = TRUE;
}

/* Did @p exit within @ms?  (If not, it is killed.) */
static gboolean
exits_within (GSubprocess *p, guint ms)
{
  gboolean done = FALSE;
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  g_subprocess_wait_async (p, NULL, on_waited, &done);
  while (!done && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  if (!done)
    {
      g_subprocess_force_exit (p);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      return FALSE;
    }
  return TRUE;
}

static void
write_helper_config (HelperEnv *env, guint max_conns, guint max_vmms)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  g_autoptr (GError) error = NULL;

  config->owner_uid = HOST_TEST_OWNER_UID;
  config->owner_gid = HOST_TEST_OWNER_GID;
  g_free (config->runtime_dir);
  config->runtime_dir = g_strdup (env->dirs->runtime_dir);
  g_free (config->state_dir);
  config->state_dir = g_strdup (env->dirs->state_dir);
  config->firecracker_path = g_strdup (fake_vmm ());
  config->cgroup_root = g_strdup (env->dirs->cgroup_root);
  config->socket_path = g_strdup (env->socket_path);
  config->max_connections_per_uid = max_conns;
  config->max_vmms = max_vmms;
  ck_assert_msg (banger_install_config_save (config, env->config_path, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_eq (chmod (env->config_path, 0644), 0);
}

static JsonObject *
client_call (const char *socket_path, const char *method, const char *params_json,
             GError **error)
{
  g_autoptr (BangerPrivClient) client = banger_priv_client_new (socket_path);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert (json_parser_load_from_data (parser, params_json, -1, NULL));
  return banger_priv_client_call_sync (client, method,
                                       json_node_get_object (json_parser_get_root (parser)),
                                       "test-host-owner", NULL, error);
}

/* A raw connection made with the owner's uid (SO_PEERCRED is taken at
 * connect time). */
static int
connect_as_owner (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd, r;

  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  ck_assert_int_eq (setresgid (-1, HOST_TEST_OWNER_GID, -1), 0);
  ck_assert_int_eq (setresuid (-1, HOST_TEST_OWNER_UID, -1), 0);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  r = connect (fd, (struct sockaddr *) &sa, sizeof sa);
  ck_assert_int_eq (setresuid (-1, 0, -1), 0);
  ck_assert_int_eq (setresgid (-1, 0, -1), 0);
  ck_assert_msg (r == 0, "connect as the owner: %s", g_strerror (errno));
  return fd;
}

START_TEST (test_root_served_with_owner_at_limits)
{
  HelperEnv env = { 0 };
  g_autoptr (GSubprocess) helper = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean up = FALSE;

  host_test_netns_enter ();
  env.dirs = host_test_state_new (TRUE);
  env.config_path = g_build_filename (env.dirs->state_dir, "install.conf", NULL);
  env.socket_path = g_build_filename (env.dirs->runtime_dir, "bangerd-root.sock", NULL);

  /* caps that the descriptors cannot hold: refused at start */
  write_helper_config (&env, 64, 64);
  helper = spawn_helper (&env, 150, &error);
  g_assert_no_error (error);
  ck_assert_msg (exits_within (helper, 5000),
                 "the helper started with caps its descriptors cannot hold");
  ck_assert (g_subprocess_get_if_exited (helper));
  ck_assert_int_eq (g_subprocess_get_exit_status (helper), 1);
  ck_assert (!g_file_test (env.socket_path, G_FILE_TEST_EXISTS));
  g_clear_object (&helper);

  write_helper_config (&env, 4, 2);
  helper = spawn_helper (&env, 150, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 500 && !up; i++)
    {
      g_autoptr (JsonObject) r = NULL;
      if (g_file_test (env.socket_path, G_FILE_TEST_EXISTS))
        r = client_call (env.socket_path, "priv.status", "{}", NULL);
      up = r != NULL;
      if (!up)
        g_usleep (10 * 1000);
    }
  ck_assert_msg (up, "the helper did not start");

  /* the owner: every VMM slot and every connection slot taken */
  for (int i = 1; i <= 2; i++)
    {
      g_autofree char *p = g_strdup_printf ("{\"vm_id\":\"lim-%d\",\"vmm\":\"firecracker\"}", i);
      g_autoptr (JsonObject) r = client_call (env.socket_path, "priv.launch_vmm", p, &error);
      ck_assert_msg (r != NULL, "launch: %s", error ? error->message : "");
    }
  {
    g_autoptr (JsonObject) r = client_call (env.socket_path, "priv.launch_vmm",
                                            "{\"vm_id\":\"lim-3\",\"vmm\":\"firecracker\"}",
                                            &error);
    ck_assert_ptr_null (r);
    banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
    g_clear_error (&error);
  }
  for (int i = 0; i < 4; i++)
    {
      int fd = connect_as_owner (env.socket_path);
      g_array_append_val (fds, fd);
    }
  g_usleep (100 * 1000); /* let the helper accept them */
  {
    /* a fifth of the owner's: refused with limit-exceeded */
    int fd = connect_as_owner (env.socket_path);
    char buf[512] = { 0 };
    ssize_t n;
    struct timeval tv = { 2, 0 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = read (fd, buf, sizeof buf - 1);
    ck_assert_msg (n > 0 && strstr (buf, "limit-exceeded") != NULL, "fifth owner connection: %s",
                   buf);
    close (fd);
  }
  /* root: answered at once, every time */
  for (int i = 0; i < 10; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (JsonObject) r = client_call (env.socket_path, "priv.status", "{}", &error);
      gint64 dt = g_get_monotonic_time () - t0;
      ck_assert_msg (r != NULL, "root's status: %s", error ? error->message : "");
      ck_assert_msg (dt < 100 * 1000, "root's status took %" G_GINT64_FORMAT " us", dt);
    }

  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  for (int i = 1; i <= 2; i++)
    {
      g_autofree char *p = g_strdup_printf ("{\"vm_id\":\"lim-%d\"}", i);
      g_autoptr (JsonObject) r = client_call (env.socket_path, "priv.cleanup_vm", p, &error);
      ck_assert_msg (r != NULL, "cleanup: %s", error ? error->message : "");
    }
  g_subprocess_send_signal (helper, SIGTERM);
  g_subprocess_wait (helper, NULL, NULL);
  host_test_state_free (env.dirs);
  g_free (env.config_path);
  g_free (env.socket_path);
}
END_TEST


/* The helper's process out of descriptors, the owner at its connection cap
 * and filling the listen backlog ahead of root: root's connection is still
 * accepted (on the spare descriptor the server keeps) and answered; the
 * owner's extra connections get limit-exceeded.  In-process server, real
 * operation table; root and the owner are separate processes. */

typedef struct
{
  BangerPrivState *state;
  BangerPrivServer *server;
  GMainContext *context;
  GMainLoop *loop;
  char *path;
  GMutex lock;
  GCond cond;
  gboolean ready;
} InProc;

static gpointer
inproc_thread (gpointer data)
{
  InProc *ip = data;
  g_autoptr (GError) error = NULL;
  BangerPrivServerLimits limits = { 4, 2000, 60000 };

  g_main_context_push_thread_default (ip->context);
  ip->server = banger_priv_server_new (banger_priv_ops_table (), ip->state, &limits);
  if (!banger_priv_server_listen_path (ip->server, ip->path, HOST_TEST_OWNER_UID,
                                      HOST_TEST_OWNER_GID, &error))
    g_error ("listen: %s", error->message);
  banger_priv_server_start (ip->server);
  g_mutex_lock (&ip->lock);
  ip->ready = TRUE;
  g_cond_signal (&ip->cond);
  g_mutex_unlock (&ip->lock);
  g_main_loop_run (ip->loop);
  banger_priv_server_stop (ip->server);
  for (int i = 0; i < 100; i++)
    {
      while (g_main_context_iteration (ip->context, FALSE))
        ;
      g_usleep (1000);
    }
  g_clear_object (&ip->server);
  g_main_context_pop_thread_default (ip->context);
  return NULL;
}

static gboolean
inproc_quit (gpointer data)
{
  g_main_loop_quit (((InProc *) data)->loop);
  return G_SOURCE_REMOVE;
}

static void
wait_byte (int fd)
{
  char c;
  ck_assert_int_eq (read (fd, &c, 1), 1);
}

static void
send_byte (int fd)
{
  ck_assert_int_eq (write (fd, "x", 1), 1);
}

static int
raw_connect (const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return -1;
  return fd;
}

START_TEST (test_root_accepted_when_out_of_descriptors)
{
  InProc ip = { 0 };
  int to_owner[2], from_owner[2], to_root[2], from_root[2];
  pid_t owner, root;
  char verdict[256] = { 0 };
  GThread *thread;

  ip.state = host_test_state_new (FALSE);
  ip.path = g_build_filename (ip.state->runtime_dir, "root.sock", NULL);
  ip.context = g_main_context_new ();
  ip.loop = g_main_loop_new (ip.context, FALSE);
  g_mutex_init (&ip.lock);
  g_cond_init (&ip.cond);
  thread = g_thread_new ("server", inproc_thread, &ip);
  g_mutex_lock (&ip.lock);
  while (!ip.ready)
    g_cond_wait (&ip.cond, &ip.lock);
  g_mutex_unlock (&ip.lock);
  ck_assert (pipe2 (to_owner, O_CLOEXEC) == 0 && pipe2 (from_owner, O_CLOEXEC) == 0);
  ck_assert (pipe2 (to_root, O_CLOEXEC) == 0 && pipe2 (from_root, O_CLOEXEC) == 0);

  owner = fork ();
  ck_assert_int_ge (owner, 0);
  if (owner == 0)
    {
      int held[64];
      /* a child of a threaded process: raw system calls only */
      if (syscall (SYS_setresgid, HOST_TEST_OWNER_GID, HOST_TEST_OWNER_GID, HOST_TEST_OWNER_GID) < 0
          || syscall (SYS_setresuid, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_UID) < 0)
        _exit (7);
      for (int i = 0; i < 4; i++)
        held[i] = raw_connect (ip.path);
      send_byte (from_owner[1]);
      wait_byte (to_owner[0]);
      /* the backlog, ahead of root */
      for (int i = 4; i < 64; i++)
        held[i] = raw_connect (ip.path);
      send_byte (from_owner[1]);
      wait_byte (to_owner[0]);
      for (int i = 0; i < 64; i++)
        if (held[i] >= 0)
          close (held[i]);
      _exit (0);
    }
  root = fork ();
  ck_assert_int_ge (root, 0);
  if (root == 0)
    {
      /* a child of a threaded process: no GLib, raw calls; the framing by
       * hand (one JSON object, then a NUL) */
      static const char req[] = "{\"id\":1,\"method\":\"priv.status\",\"params\":{}}";
      static char reply[8192];
      struct timeval tv = { 10, 0 };
      struct timespec t0, t1;
      size_t got = 0;
      char c;
      int fd;

      if (read (to_root[0], &c, 1) != 1)
        _exit (1);
      clock_gettime (CLOCK_MONOTONIC, &t0);
      fd = raw_connect (ip.path);
      if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0
          || write (fd, req, sizeof req) != (ssize_t) sizeof req)
        _exit (1);
      while (got < sizeof reply - 1)
        {
          ssize_t n = read (fd, reply + got, sizeof reply - 1 - got);
          if (n <= 0)
            break;
          got += (size_t) n;
          if (memchr (reply, '\0', got) != NULL)
            break;
        }
      clock_gettime (CLOCK_MONOTONIC, &t1);
      if (got > 0 && memchr (reply, '\0', got) != NULL && strstr (reply, "\"result\"") != NULL)
        {
          char msg[64];
          long ms = (long) ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
          int len = snprintf (msg, sizeof msg, "ok %ld", ms);
          (void) !write (from_root[1], msg, (size_t) len);
        }
      else
        (void) !write (from_root[1], "error: no result", 16);
      _exit (0);
    }

  /* the owner holds its 4 connections */
  wait_byte (from_owner[0]);
  for (int i = 0; i < 500 && banger_priv_server_get_n_connections (ip.server) < 4; i++)
    g_usleep (10 * 1000);
  ck_assert_uint_eq (banger_priv_server_get_n_connections (ip.server), 4);
  /* this process (the server's) out of descriptors: every number below
   * the limit is in use */
  {
    g_autoptr (GArray) fillers = g_array_new (FALSE, FALSE, sizeof (int));
    struct rlimit rl;
    int hi = 0;
    g_autoptr (GDir) d = g_dir_open ("/proc/self/fd", 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      hi = MAX (hi, atoi (name));
    g_clear_pointer (&d, g_dir_close);
    for (;;)
      {
        int f = open ("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge (f, 0);
        if (f > hi)
          {
            close (f);
            ck_assert_int_eq (getrlimit (RLIMIT_NOFILE, &rl), 0);
            rl.rlim_cur = (rlim_t) f;
            ck_assert_int_eq (setrlimit (RLIMIT_NOFILE, &rl), 0);
            break;
          }
        g_array_append_val (fillers, f);
      }
    /* no check assertion until the limit is restored: check itself needs
     * descriptors to report */
    {
      struct pollfd pfd = { .fd = from_root[0], .events = POLLIN };
      char c;
      (void) !write (to_owner[1], "x", 1); /* the owner fills the backlog */
      (void) !read (from_owner[0], &c, 1);
      (void) !write (to_root[1], "x", 1); /* then root connects and asks */
      if (poll (&pfd, 1, 10000) == 1)
        (void) !read (from_root[0], verdict, sizeof verdict - 1);
      else
        g_strlcpy (verdict, "no answer within 10 s", sizeof verdict);
      (void) !write (to_owner[1], "x", 1);
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
    for (guint i = 0; i < fillers->len; i++)
      close (g_array_index (fillers, int, i));
    if (verdict[0] == 'n')
      kill (root, SIGKILL);
    waitpid (owner, NULL, 0);
    waitpid (root, NULL, 0);
  }
  ck_assert_msg (g_str_has_prefix (verdict, "ok "), "root was not served: %s", verdict);
  ck_assert_msg (atoi (verdict + 3) < 2000, "root waited %s ms", verdict + 3);
  g_main_context_invoke (ip.context, inproc_quit, &ip);
  g_thread_join (thread);
  g_main_loop_unref (ip.loop);
  g_main_context_unref (ip.context);
  g_mutex_clear (&ip.lock);
  g_cond_clear (&ip.cond);
  host_test_state_free (ip.state);
  g_free (ip.path);
}
END_TEST

/* ----------------------------------------------- 7: a foreign nft table */

START_TEST (test_nat_foreign_table)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *before = NULL;

  host_test_netns_enter ();
  {
    const char *argv[] = { "nft", "add table ip banger; "
                                  "add chain ip banger forward { type filter hook forward priority 0; policy drop; }; "
                                  "add rule ip banger forward tcp dport 22 accept",
                           NULL };
    g_autofree char *o = run_out (argv);
  }
  before = ruleset ();
  refused (state, "priv.nat_enable", "{\"vm_id\":\"web-n\",\"guest_ip\":\"10.77.0.2\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.nat_disable", "{\"vm_id\":\"web-n\"}", BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.cleanup_vm", "{\"vm_id\":\"web-n\"}", BANGER_ERROR_PERMISSION_DENIED);
  {
    g_autofree char *after = ruleset ();
    ck_assert_str_eq (after, before);
    ck_assert (strstr (after, "policy drop") != NULL);
  }
  /* banger's own table is marked; another install's helper leaves it alone */
  {
    const char *argv[] = { "nft", "delete", "table", "ip", "banger", NULL };
    g_autofree char *o = run_out (argv);
  }
  ok (state, "priv.nat_enable", "{\"vm_id\":\"web-n\",\"guest_ip\":\"10.77.0.2\"}");
  {
    const char *argv[] = { "nft", "list", "table", "ip", "banger", NULL };
    g_autofree char *t = run_out (argv);
    ck_assert_msg (strstr (t, "comment \"banger:-:nat\"") != NULL, "table: %s", t);
  }
  {
    BangerPrivState *other = host_test_state_new (FALSE);
    g_autofree char *mine = ruleset ();
    other->install_id = g_strdup ("b2");
    refused (other, "priv.nat_enable", "{\"vm_id\":\"web-n\",\"guest_ip\":\"10.77.0.6\"}",
             BANGER_ERROR_PERMISSION_DENIED);
    refused (other, "priv.nat_disable", "{\"vm_id\":\"web-n\"}", BANGER_ERROR_PERMISSION_DENIED);
    {
      g_autofree char *after = ruleset ();
      ck_assert_str_eq (after, mine);
    }
    host_test_state_free (other);
  }
  ok (state, "priv.nat_disable", "{\"vm_id\":\"web-n\"}");
  {
    const char *argv[] = { "nft", "delete", "table", "ip", "banger", NULL };
    g_autofree char *o = run_out (argv);
  }
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------ 8: a foreign tun device */

static void
foreign_tun_refused (const char *vm_id, const char *user)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  g_autofree char *tap = banger_host_tap_name (vm_id, NULL);
  g_autofree char *p_tap = g_strdup_printf ("{\"vm_id\":\"%s\",\"address\":\"10.78.0.1/30\"}", vm_id);
  g_autofree char *p_vm = g_strdup_printf ("{\"vm_id\":\"%s\"}", vm_id);
  g_autofree char *before = NULL;
  g_autofree char *kernel = g_build_filename (state->state_dir, "vmlinuz", NULL);
  g_autofree char *rootfs = g_build_filename (state->state_dir, "root.ext4", NULL);
  g_autofree char *launch = NULL;

  state->qemu_path = g_strdup (fake_vmm ());
  {
    const char *argv[] = { "ip", "tuntap", "add", "dev", tap, "mode", "tap", "user", user, NULL };
    g_autofree char *o = run_out (argv);
  }
  before = links ();
  refused (state, "priv.create_tap", p_tap, BANGER_ERROR_PERMISSION_DENIED);
  launch = g_strdup_printf ("{\"vm_id\":\"%s\",\"vmm\":\"qemu\",\"kernel\":\"%s\","
                            "\"rootfs\":\"%s\",\"tap\":true}", vm_id, kernel, rootfs);
  refused (state, "priv.launch_vmm", launch, BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.delete_tap", p_vm, BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.cleanup_vm", p_vm, BANGER_ERROR_PERMISSION_DENIED);
  {
    g_autofree char *after = links ();
    g_auto (BangerLinkInfo) li = { 0 };
    ck_assert_str_eq (after, before);
    ck_assert (banger_netlink_get_link (tap, &li, NULL));
    ck_assert_ptr_null (li.alias);
  }
  {
    const char *argv[] = { "ip", "link", "del", tap, NULL };
    g_autofree char *o = run_out (argv);
  }
  host_test_state_free (state);
}

START_TEST (test_foreign_tun_root_owned)
{
  host_test_netns_enter ();
  foreign_tun_refused ("web-f", "0");
}
END_TEST

/* Owned by the owner uid but not marked: the owner could make this one
 * itself (with CAP_NET_ADMIN somewhere); the marker is still required. */
START_TEST (test_foreign_tun_owner_owned)
{
  host_test_netns_enter ();
  foreign_tun_refused ("web-g", "65534");
}
END_TEST

START_TEST (test_foreign_bridge)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *before = NULL;

  host_test_netns_enter ();
  {
    const char *argv[] = { "ip", "link", "add", "bngfor0", "type", "bridge", NULL };
    g_autofree char *o = run_out (argv);
  }
  before = links ();
  refused (state, "priv.create_bridge", "{\"name\":\"bngfor0\",\"address\":\"10.77.0.1/24\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.delete_bridge", "{\"name\":\"bngfor0\"}", BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.create_tap", "{\"vm_id\":\"web-b\",\"bridge\":\"bngfor0\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  {
    g_autofree char *after = links ();
    ck_assert_str_eq (after, before);
  }
  host_test_state_free (state);
}
END_TEST

/* Two installs on one host: different names for the same VM id, and
 * neither touches the other's tap. */
START_TEST (test_two_installs)
{
  BangerPrivState *a = host_test_state_new (FALSE);
  BangerPrivState *b = host_test_state_new (FALSE);
  g_autofree char *ta = banger_host_tap_name_for ("a1", "web", NULL);
  g_autofree char *tb = banger_host_tap_name_for ("b2", "web", NULL);
  g_autofree char *t0 = banger_host_tap_name ("web", NULL);
  g_autofree char *da = banger_host_dm_name_for ("a1", "web", "rootfs", NULL);
  g_autofree char *db = banger_host_dm_name_for ("b2", "web", "rootfs", NULL);
  g_autofree char *la = banger_host_loop_tag_for ("a1", "web", "cow", NULL);
  g_autofree char *lb = banger_host_loop_tag_for ("b2", "web", "cow", NULL);
  g_autoptr (JsonNode) ra = NULL;
  g_autoptr (JsonNode) rb = NULL;

  ck_assert_str_ne (ta, tb);
  ck_assert_str_ne (ta, t0);
  ck_assert_str_ne (da, db);
  ck_assert_str_ne (la, lb);
  ck_assert_uint_eq (strlen (ta), 15);

  host_test_netns_enter ();
  a->install_id = g_strdup ("a1");
  b->install_id = g_strdup ("b2");
  ck_assert_str_eq (json_object_get_string_member (ok_call (a, "priv.create_tap", "{\"vm_id\":\"web\"}", &ra), "name"), ta);
  ck_assert_str_eq (json_object_get_string_member (ok_call (b, "priv.create_tap", "{\"vm_id\":\"web\"}", &rb), "name"), tb);
  ok (a, "priv.create_bridge", "{\"name\":\"bngtwo0\"}");
  refused (b, "priv.delete_bridge", "{\"name\":\"bngtwo0\"}", BANGER_ERROR_PERMISSION_DENIED);
  refused (b, "priv.create_tap", "{\"vm_id\":\"web2\",\"bridge\":\"bngtwo0\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  ok (a, "priv.delete_tap", "{\"vm_id\":\"web\"}");
  {
    g_auto (BangerLinkInfo) li = { 0 };
    ck_assert (banger_netlink_get_link (tb, &li, NULL));
  }
  ok (b, "priv.delete_tap", "{\"vm_id\":\"web\"}");
  ok (a, "priv.delete_bridge", "{\"name\":\"bngtwo0\"}");
  host_test_state_free (a);
  host_test_state_free (b);
}
END_TEST

static Suite *
owner_suite (void)
{
  Suite *s = suite_create ("host-owner");
  TCase *tc = tcase_create ("attacker-is-the-owner");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  /* generous: these start real helpers, and the machines are shared (a
   * FIFO that blocks the helper is caught by its own 5 s bound) */
  tcase_set_timeout (tc, 90);
  tcase_add_test (tc, test_log_hardlink_to_root_file);
  tcase_add_test (tc, test_log_fifo);
  tcase_add_test (tc, test_log_device_node);
  tcase_add_test (tc, test_log_symlink);
  tcase_add_test (tc, test_log_directory);
  tcase_add_test (tc, test_mkfs_reveals_nothing);
  tcase_add_test (tc, test_address_policy);
  tcase_add_test (tc, test_caps);
  tcase_add_test (tc, test_root_served_with_owner_at_limits);
  tcase_add_test (tc, test_root_accepted_when_out_of_descriptors);
  tcase_add_test (tc, test_nat_foreign_table);
  tcase_add_test (tc, test_foreign_tun_root_owned);
  tcase_add_test (tc, test_foreign_tun_owner_owned);
  tcase_add_test (tc, test_foreign_bridge);
  tcase_add_test (tc, test_two_installs);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (owner_suite, "files in owner dirs, netlink, nftables, uid changes")
