/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-install-config.h"
#include "banger-ipv4.h"
#include "banger-path-private.h"
#include "banger-quote.h"

#define CONFIG_FILE_MAX (64 * 1024)

BangerInstallConfig *
banger_install_config_new (void)
{
  BangerInstallConfig *c = g_new0 (BangerInstallConfig, 1);

  c->owner_uid = (uid_t) -1;
  c->owner_gid = (gid_t) -1;
  c->runtime_dir = g_strdup ("/run/banger");
  c->state_dir = g_strdup ("/var/lib/banger");
  c->nft_table = g_strdup ("banger");
  c->max_connections_per_uid = 16;
  c->message_timeout_ms = 5000;
  c->idle_timeout_ms = 600000;
  c->vm_network = g_strdup (BANGER_INSTALL_DEFAULT_VM_NETWORK);
  c->max_vmms = BANGER_INSTALL_DEFAULT_MAX_VMMS;
  c->max_taps = BANGER_INSTALL_DEFAULT_MAX_TAPS;
  c->max_bridges = BANGER_INSTALL_DEFAULT_MAX_BRIDGES;
  c->max_nat_elements = BANGER_INSTALL_DEFAULT_MAX_NAT_ELEMENTS;
  return c;
}

void
banger_install_config_free (BangerInstallConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->owner_user);
  g_free (c->runtime_dir);
  g_free (c->state_dir);
  g_free (c->firecracker_path);
  g_free (c->jailer_path);
  g_free (c->qemu_path);
  g_free (c->cgroup_root);
  g_free (c->nft_table);
  g_free (c->socket_path);
  g_free (c->install_id);
  g_free (c->vm_network);
  g_free (c);
}

const char *
banger_install_config_default_path (void)
{
  return BANGER_SYSCONFDIR "/banger/install.conf";
}

static gboolean
invalid (GError **error, const char *key, const char *why, const char *value)
{
  g_autofree char *q = banger_quote (value);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Install config: '%s' = '%s' %s", key, q, why);
  return FALSE;
}

static gboolean
check_abs_path (const char *key, const char *value, gboolean optional, GError **error)
{
  g_autofree char *norm = NULL;

  if (value == NULL)
    return optional ? TRUE : invalid (error, key, "is required", "");
  norm = banger_path_normalize (value);
  if (norm == NULL || !g_str_equal (norm, value) || g_str_equal (value, "/")
      || strchr (value, '\n') != NULL)
    return invalid (error, key, "is not a normalised absolute path", value);
  return TRUE;
}

static gboolean
is_nft_table_name (const char *s)
{
  gsize len = s ? strlen (s) : 0;

  if (len == 0 || len > 32 || !g_ascii_isalpha (s[0]))
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_'))
      return FALSE;
  return TRUE;
}

gboolean
banger_install_parse_cidr (const char *cidr, guint32 *out_addr, guint *out_prefix)
{
  return banger_ipv4_parse_cidr (cidr, out_addr, out_prefix);
}

/* Ranges no VM network may touch: this network, loopback, link-local,
 * multicast, reserved and broadcast. */
static const struct
{
  guint32 net;
  guint prefix;
} special_ranges[] = {
  { 0x00000000, 8 }, { 0x7f000000, 8 }, { 0xa9fe0000, 16 }, { 0xe0000000, 4 }, { 0xf0000000, 4 },
};

static gboolean
check_vm_network (const char *value, GError **error)
{
  guint32 addr, mask;
  guint prefix;

  if (!banger_install_parse_cidr (value, &addr, &prefix) || prefix < 8 || prefix > 30)
    return invalid (error, "vm-network", "is not an IPv4 network a.b.c.d/len with len 8-30",
                    value ? value : "");
  mask = 0xffffffffu << (32 - prefix);
  if ((addr & ~mask) != 0)
    return invalid (error, "vm-network", "has host bits set (write the network address)",
                    value);
  for (guint i = 0; i < G_N_ELEMENTS (special_ranges); i++)
    {
      guint p = MIN (prefix, special_ranges[i].prefix);
      guint32 m = 0xffffffffu << (32 - p);
      if ((addr & m) == (special_ranges[i].net & m))
        return invalid (error, "vm-network",
                        "overlaps a loopback, link-local, multicast or reserved range", value);
    }
  return TRUE;
}

static gboolean
is_install_id (const char *s)
{
  gsize len = s ? strlen (s) : 0;

  if (len == 0 || len > 8)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p)))
      return FALSE;
  return TRUE;
}

gboolean
banger_install_config_validate (const BangerInstallConfig *c, GError **error)
{
  if (c->owner_uid == (uid_t) -1 || c->owner_gid == (gid_t) -1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Install config: 'owner-uid' and 'owner-gid' are required");
      return FALSE;
    }
  if (c->owner_uid == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Install config: the owner must not be root (a daemon running as root "
                   "executes privileged operations in-process)");
      return FALSE;
    }
  if (!check_abs_path ("runtime-dir", c->runtime_dir, FALSE, error)
      || !check_abs_path ("state-dir", c->state_dir, FALSE, error)
      || !check_abs_path ("firecracker", c->firecracker_path, TRUE, error)
      || !check_abs_path ("jailer", c->jailer_path, TRUE, error)
      || !check_abs_path ("qemu", c->qemu_path, TRUE, error)
      || !check_abs_path ("cgroup-root", c->cgroup_root, TRUE, error)
      || !check_abs_path ("socket", c->socket_path, TRUE, error))
    return FALSE;
  if (!is_nft_table_name (c->nft_table))
    return invalid (error, "nft-table", "is not a table name ([A-Za-z][A-Za-z0-9_]{0,31})",
                    c->nft_table ? c->nft_table : "");
  if (c->install_id != NULL && !is_install_id (c->install_id))
    return invalid (error, "install-id", "is not 1-8 of [a-z0-9]", c->install_id);
  if (!check_vm_network (c->vm_network, error))
    return FALSE;
  if (c->max_vmms < 1 || c->max_vmms > 4096 || c->max_taps < 1 || c->max_taps > 4096
      || c->max_bridges < 1 || c->max_bridges > 1024 || c->max_nat_elements < 1
      || c->max_nat_elements > 65536)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Install config: 'max-vmms' and 'max-taps' must be in 1-4096, "
                   "'max-bridges' in 1-1024 and 'max-nat-elements' in 1-65536");
      return FALSE;
    }
  if (c->max_connections_per_uid < 1 || c->max_connections_per_uid > 1024)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Install config: 'max-connections-per-uid' must be in 1-1024");
      return FALSE;
    }
  if (c->message_timeout_ms < 10 || c->message_timeout_ms > 600000 || c->idle_timeout_ms < 10
      || c->idle_timeout_ms > 86400000)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Install config: 'message-timeout-ms' must be in 10-600000 and "
                   "'idle-timeout-ms' in 10-86400000");
      return FALSE;
    }
  return TRUE;
}

static const char *const install_keys[] = {
  "owner-user", "owner-uid", "owner-gid", "runtime-dir", "state-dir", "firecracker",
  "jailer",     "qemu",      "cgroup-root", "nft-table", "install-id", "vm-network", NULL,
};
static const char *const helper_keys[] = {
  "socket", "max-connections-per-uid", "message-timeout-ms", "idle-timeout-ms",
  "max-vmms", "max-taps", "max-bridges", "max-nat-elements", NULL,
};

static gboolean
check_keys (GKeyFile *kf, const char *group, const char *const *allowed, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (char **k = keys; k && *k; k++)
    if (!g_strv_contains (allowed, *k))
      {
        g_autofree char *q = banger_quote (*k);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     "Install config: unknown key '%s' in [%s]", q, group);
        return FALSE;
      }
  return TRUE;
}

/* Replace *field with the key's value when present; an empty value means
 * "not set" for optional keys. */
static void
read_string (GKeyFile *kf, const char *group, const char *key, char **field)
{
  g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);

  if (v == NULL)
    return;
  g_free (*field);
  *field = v[0] ? g_steal_pointer (&v) : NULL;
}

static gboolean
read_uint (GKeyFile *kf, const char *group, const char *key, guint64 max, guint64 *out,
           GError **error)
{
  g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
  guint64 n;

  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (v, 10, 0, max, &n, NULL))
    return invalid (error, key, "is not a number in range", v);
  *out = n;
  return TRUE;
}

BangerInstallConfig *
banger_install_config_load_from_data (const char *data, gsize len, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (BangerInstallConfig) c = banger_install_config_new ();
  g_auto (GStrv) groups = NULL;
  GError *local = NULL;
  guint64 n;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "Install config: %s",
                   local->message);
      g_error_free (local);
      return NULL;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g; g++)
    if (!g_str_equal (*g, BANGER_INSTALL_CONFIG_GROUP) && !g_str_equal (*g, BANGER_INSTALL_HELPER_GROUP))
      {
        g_autofree char *q = banger_quote (*g);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     "Install config: unknown group [%s]", q);
        return NULL;
      }
  if (!check_keys (kf, BANGER_INSTALL_CONFIG_GROUP, install_keys, error)
      || !check_keys (kf, BANGER_INSTALL_HELPER_GROUP, helper_keys, error))
    return NULL;

  read_string (kf, "install", "owner-user", &c->owner_user);
  n = (guint64) -1;
  if (!read_uint (kf, "install", "owner-uid", G_MAXUINT32 - 1, &n, error))
    return NULL;
  c->owner_uid = (uid_t) n;
  n = (guint64) -1;
  if (!read_uint (kf, "install", "owner-gid", G_MAXUINT32 - 1, &n, error))
    return NULL;
  c->owner_gid = (gid_t) n;
  read_string (kf, "install", "runtime-dir", &c->runtime_dir);
  read_string (kf, "install", "state-dir", &c->state_dir);
  read_string (kf, "install", "firecracker", &c->firecracker_path);
  read_string (kf, "install", "jailer", &c->jailer_path);
  read_string (kf, "install", "qemu", &c->qemu_path);
  read_string (kf, "install", "cgroup-root", &c->cgroup_root);
  read_string (kf, "install", "nft-table", &c->nft_table);
  read_string (kf, "install", "install-id", &c->install_id);
  read_string (kf, "install", "vm-network", &c->vm_network);
  read_string (kf, "helper", "socket", &c->socket_path);
  {
    static const struct
    {
      const char *key;
      gsize offset;
    } caps[] = {
      { "max-vmms", G_STRUCT_OFFSET (BangerInstallConfig, max_vmms) },
      { "max-taps", G_STRUCT_OFFSET (BangerInstallConfig, max_taps) },
      { "max-bridges", G_STRUCT_OFFSET (BangerInstallConfig, max_bridges) },
      { "max-nat-elements", G_STRUCT_OFFSET (BangerInstallConfig, max_nat_elements) },
    };
    for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
      {
        guint *field = G_STRUCT_MEMBER_P (c, caps[i].offset);
        n = *field;
        if (!read_uint (kf, "helper", caps[i].key, G_MAXUINT, &n, error))
          return NULL;
        *field = (guint) n;
      }
  }
  n = c->max_connections_per_uid;
  if (!read_uint (kf, "helper", "max-connections-per-uid", G_MAXUINT, &n, error))
    return NULL;
  c->max_connections_per_uid = (guint) n;
  n = c->message_timeout_ms;
  if (!read_uint (kf, "helper", "message-timeout-ms", G_MAXUINT, &n, error))
    return NULL;
  c->message_timeout_ms = (guint) n;
  n = c->idle_timeout_ms;
  if (!read_uint (kf, "helper", "idle-timeout-ms", G_MAXUINT, &n, error))
    return NULL;
  c->idle_timeout_ms = (guint) n;

  if (c->socket_path == NULL && c->runtime_dir != NULL)
    c->socket_path = g_build_filename (c->runtime_dir, "bangerd-root.sock", NULL);
  if (!banger_install_config_validate (c, error))
    return NULL;
  return g_steal_pointer (&c);
}

BangerInstallConfig *
banger_install_config_load (const char *path, BangerInstallConfigLoadFlags flags, GError **error)
{
  g_autofree char *data = NULL;
  struct stat st;
  ssize_t n;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open the install config '%s'", path);
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;
      close (fd);
      banger_set_error_from_errno (error, errsv, "Cannot stat the install config '%s'", path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode) || st.st_size > CONFIG_FILE_MAX)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The install config '%s' is not a regular file of at most %d bytes", path,
                   CONFIG_FILE_MAX);
      return NULL;
    }
  if ((flags & BANGER_INSTALL_CONFIG_LOAD_CHECK_OWNERSHIP)
      && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The install config '%s' must be owned by root and writable only by root "
                   "(it is uid %u, mode %04o)",
                   path, (guint) st.st_uid, (guint) (st.st_mode & 07777));
      return NULL;
    }
  data = g_malloc (CONFIG_FILE_MAX + 1);
  n = 0;
  for (;;)
    {
      ssize_t r = read (fd, data + n, CONFIG_FILE_MAX + 1 - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int errsv = errno;
          close (fd);
          banger_set_error_from_errno (error, errsv, "Cannot read the install config '%s'", path);
          return NULL;
        }
      if (r == 0 || n + r > CONFIG_FILE_MAX)
        {
          n += r;
          break;
        }
      n += r;
    }
  close (fd);
  if (n > CONFIG_FILE_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The install config '%s' is larger than %d bytes", path, CONFIG_FILE_MAX);
      return NULL;
    }
  return banger_install_config_load_from_data (data, n, error);
}

char *
banger_install_config_to_data (const BangerInstallConfig *c)
{
  GString *s = g_string_new ("# banger install configuration (doc/install-config.md).\n"
                             "# Written by 'banger system install'; read by bangerd-root.\n"
                             "# Must stay owned by root and writable only by root.\n\n");

  g_string_append (s, "[" BANGER_INSTALL_CONFIG_GROUP "]\n");
  if (c->owner_user)
    g_string_append_printf (s, "owner-user=%s\n", c->owner_user);
  g_string_append_printf (s, "owner-uid=%u\nowner-gid=%u\n", (guint) c->owner_uid,
                          (guint) c->owner_gid);
  g_string_append_printf (s, "runtime-dir=%s\nstate-dir=%s\n", c->runtime_dir, c->state_dir);
  if (c->firecracker_path)
    g_string_append_printf (s, "firecracker=%s\n", c->firecracker_path);
  if (c->jailer_path)
    g_string_append_printf (s, "jailer=%s\n", c->jailer_path);
  if (c->qemu_path)
    g_string_append_printf (s, "qemu=%s\n", c->qemu_path);
  if (c->cgroup_root)
    g_string_append_printf (s, "cgroup-root=%s\n", c->cgroup_root);
  g_string_append_printf (s, "nft-table=%s\n", c->nft_table);
  if (c->install_id)
    g_string_append_printf (s, "install-id=%s\n", c->install_id);
  g_string_append_printf (s, "vm-network=%s\n", c->vm_network);
  g_string_append (s, "\n[" BANGER_INSTALL_HELPER_GROUP "]\n");
  if (c->socket_path)
    g_string_append_printf (s, "socket=%s\n", c->socket_path);
  g_string_append_printf (s, "max-connections-per-uid=%u\nmessage-timeout-ms=%u\nidle-timeout-ms=%u\n",
                          c->max_connections_per_uid, c->message_timeout_ms, c->idle_timeout_ms);
  g_string_append_printf (s, "max-vmms=%u\nmax-taps=%u\nmax-bridges=%u\nmax-nat-elements=%u\n",
                          c->max_vmms, c->max_taps, c->max_bridges, c->max_nat_elements);
  return g_string_free (s, FALSE);
}

gboolean
banger_install_config_save (const BangerInstallConfig *c, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  GError *local = NULL;

  if (!banger_install_config_validate (c, error))
    return FALSE;
  data = banger_install_config_to_data (c);
  if (!g_file_set_contents_full (path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, BANGER_ERROR, banger_error_code_from_gerror (local),
                   "Cannot write the install config '%s': %s", path, local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}
