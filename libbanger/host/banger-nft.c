/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <json-glib/json-glib.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nftables/libnftables.h>
#include <string.h>

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-nft.h"
#include "banger-nft-private.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"

/* libnftables exits the whole process (exit(3), "Unable to initialize
 * Netlink socket") when nft_ctx_new cannot open its netlink socket, e.g. out
 * of descriptors.  The helper must answer with an error instead: open one
 * first and give up when that fails.  (The descriptor freed right before
 * nft_ctx_new could in theory be taken by another thread in between; the
 * helper's descriptor budget keeps it from running out in the first place,
 * doc/security.md.) */
struct nft_ctx *
banger_nft_ctx_new (gboolean json)
{
  struct nft_ctx *ctx;
  int probe = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

  if (probe < 0)
    return NULL;
  close (probe);
  ctx = nft_ctx_new (NFT_CTX_DEFAULT);
  if (ctx == NULL)
    return NULL;
  nft_ctx_buffer_output (ctx);
  nft_ctx_buffer_error (ctx);
  if (json)
    nft_ctx_output_set_flags (ctx, NFT_CTX_OUTPUT_JSON);
  return ctx;
}

/* Run one batch; the whole batch applies or none of it does. */
gboolean
banger_nft_run (struct nft_ctx *ctx, const char *cmds, GError **error)
{
  if (nft_run_cmd_from_buffer (ctx, cmds) != 0)
    {
      g_autofree char *msg = g_strstrip (g_strdup (nft_ctx_get_error_buffer (ctx)));
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "nftables refused the change: %s",
                   msg);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_nft_available (void)
{
  g_autoptr (BangerNftCtx) ctx = banger_nft_ctx_new (TRUE);
  return ctx != NULL && nft_run_cmd_from_buffer (ctx, "list tables ip") == 0;
}

gboolean
banger_nft_validate_table (const char *table, GError **error)
{
  gsize len = table ? strlen (table) : 0;

  if (len >= 1 && len <= 32)
    {
      gboolean ok = TRUE;
      for (const char *p = table; *p; p++)
        if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
          ok = FALSE;
      if (ok)
        return TRUE;
    }
  {
    g_autofree char *q = banger_quote (table);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a valid nftables table name for banger ([a-z0-9_], 1-32 bytes)",
                 q);
  }
  return FALSE;
}

static gboolean
table_exists (const char *table, GError **error)
{
  g_autoptr (BangerNftCtx) ctx = banger_nft_ctx_new (TRUE);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *arr;

  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "Cannot create an nftables context");
      return FALSE;
    }
  if (!banger_nft_run (ctx, "list tables ip", error))
    return FALSE;
  if (!json_parser_load_from_data (parser, nft_ctx_get_output_buffer (ctx), -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "nftables"))
    return FALSE;
  arr = json_object_get_array_member (json_node_get_object (root), "nftables");
  for (guint i = 0; arr && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      JsonObject *t = o && json_object_has_member (o, "table")
                          ? json_object_get_object_member (o, "table") : NULL;
      if (t && g_strcmp0 (json_object_get_string_member_with_default (t, "name", ""), table) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Does @table exist, and is it this install's?  FALSE with
 * PERMISSION_DENIED when a table of that name exists without @marker as its
 * comment (somebody else's: banger leaves it alone). */
gboolean
banger_nft_check_table (const char *table, const char *marker, gboolean *out_exists, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (BangerNftCtx) ctx = NULL;
  g_autofree char *cmd = NULL;
  g_autofree char *first = NULL;
  g_autofree char *want = NULL;
  g_auto (GStrv) lines = NULL;

  *out_exists = FALSE;
  if (!table_exists (table, &local_error))
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }
  *out_exists = TRUE;
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "Cannot create an nftables context");
      return FALSE;
    }
  /* libnftables 1.0.6 leaves a table's comment out of its JSON: read the
   * text form (terse: no set elements), whose first line inside the table
   * is the comment when there is one. */
  nft_ctx_output_set_flags (ctx, NFT_CTX_OUTPUT_TERSE);
  cmd = g_strdup_printf ("list table ip %s", table);
  if (!banger_nft_run (ctx, cmd, error))
    return FALSE;
  lines = g_strsplit (nft_ctx_get_output_buffer (ctx), "\n", 3);
  first = g_strdup_printf ("table ip %s {", table);
  want = g_strdup_printf ("comment \"%s\"", marker);
  if (g_strv_length (lines) >= 2 && g_str_equal (lines[0], first)
      && g_str_equal (g_strstrip (lines[1]), want))
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "The nftables table 'ip %s' exists but was not made by this banger install (it "
               "lacks the comment \"%s\"); leaving it alone",
               table, marker);
  return FALSE;
}

/* The string a JSON node holds, or NULL when it holds anything else. */
static const char *
node_string (JsonNode *n)
{
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* The elements of banger's set: values (and their comments, "" for none). */
static gboolean
list_elements (const char *table, GPtrArray *vals, GPtrArray *comments, GError **error)
{
  g_autoptr (BangerNftCtx) ctx = banger_nft_ctx_new (TRUE);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *cmd = NULL;
  JsonNode *root;
  JsonArray *arr;

  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "Cannot create an nftables context");
      return FALSE;
    }
  cmd = g_strdup_printf ("list set ip %s " BANGER_NFT_SET, table);
  if (nft_run_cmd_from_buffer (ctx, cmd) != 0)
    return TRUE; /* banger's table without the set: no elements */
  if (!json_parser_load_from_data (parser, nft_ctx_get_output_buffer (ctx), -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  arr = JSON_NODE_HOLDS_OBJECT (root)
            ? json_object_get_array_member (json_node_get_object (root), "nftables") : NULL;
  for (guint i = 0; arr && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      JsonObject *set = o && json_object_has_member (o, "set")
                            ? json_object_get_object_member (o, "set") : NULL;
      JsonArray *elems = set && json_object_has_member (set, "elem")
                             ? json_object_get_array_member (set, "elem") : NULL;
      for (guint j = 0; elems && j < json_array_get_length (elems); j++)
        {
          JsonNode *n = json_array_get_element (elems, j);
          JsonObject *e;
          const char *val;
          const char *comment;

          if (JSON_NODE_HOLDS_VALUE (n))
            {
              /* a bare value has no comment */
              const char *v = node_string (n);
              g_ptr_array_add (vals, g_strdup (v ? v : ""));
              g_ptr_array_add (comments, g_strdup (""));
              continue;
            }
          if (!JSON_NODE_HOLDS_OBJECT (n))
            continue;
          e = json_node_get_object (n);
          e = json_object_has_member (e, "elem") ? json_object_get_object_member (e, "elem") : NULL;
          if (e == NULL || !json_object_has_member (e, "val")
              || !JSON_NODE_HOLDS_VALUE (json_object_get_member (e, "val")))
            continue;
          val = node_string (json_object_get_member (e, "val"));
          g_ptr_array_add (vals, g_strdup (val ? val : ""));
          comment = json_object_has_member (e, "comment")
                        ? node_string (json_object_get_member (e, "comment")) : NULL;
          g_ptr_array_add (comments, g_strdup (comment ? comment : ""));
        }
    }
  return TRUE;
}

gboolean
banger_nft_nat_enable (const char *table, const char *vm_id, const char *guest_ip,
                       GError **error)
{
  return banger_nft_nat_enable_for (table, NULL, vm_id, guest_ip, G_MAXUINT, error);
}

gboolean
banger_nft_nat_enable_for (const char *table, const char *install_id, const char *vm_id,
                           const char *guest_ip, guint max_elements, GError **error)
{
  g_autofree char *comment = banger_host_nft_comment (vm_id, error);
  g_autofree char *marker = NULL;
  g_autoptr (BangerNftCtx) ctx = NULL;
  g_autofree char *cmds = NULL;
  g_autofree char *create = NULL;
  gboolean exists;

  if (comment == NULL || !banger_nft_validate_table (table, error)
      || !banger_priv_validate_ipv4 (guest_ip, error))
    return FALSE;
  marker = banger_host_marker (install_id, "nat");
  if (!banger_nft_check_table (table, marker, &exists, error))
    return FALSE;
  if (exists)
    {
      g_autoptr (GPtrArray) vals = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) comments = g_ptr_array_new_with_free_func (g_free);

      if (!list_elements (table, vals, comments, error))
        return FALSE;
      if (vals->len >= max_elements
          && !g_ptr_array_find_with_equal_func (vals, guest_ip, g_str_equal, NULL))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "banger's NAT set already has %u elements (max-nat-elements in the "
                       "install config)",
                       vals->len);
          return FALSE;
        }
    }
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "Cannot create an nftables context");
      return FALSE;
    }
  /* The table is created only when absent ("create" fails if somebody made
   * one in between), marked with this install's comment.  Everything below
   * is inside banger's table: "add" is a no-op for what exists, the two
   * chain flushes re-state banger's own rules, and the add/delete/add of the
   * element makes its comment current. */
  create = exists ? g_strdup ("")
                  : g_strdup_printf ("create table ip %s { comment \"%s\"; }\n", table, marker);
  cmds = g_strdup_printf (
      "%4$s"
      "add set ip %1$s " BANGER_NFT_SET " { type ipv4_addr; }\n"
      "add chain ip %1$s postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
      "flush chain ip %1$s postrouting\n"
      "add rule ip %1$s postrouting ip saddr @" BANGER_NFT_SET " oifname != \"" BANGER_IFNAME_PREFIX "*\" masquerade\n"
      "add chain ip %1$s forward { type filter hook forward priority filter; policy accept; }\n"
      "flush chain ip %1$s forward\n"
      "add rule ip %1$s forward ip saddr @" BANGER_NFT_SET " accept\n"
      "add rule ip %1$s forward ip daddr @" BANGER_NFT_SET " ct state established,related accept\n"
      "add element ip %1$s " BANGER_NFT_SET " { %2$s }\n"
      "delete element ip %1$s " BANGER_NFT_SET " { %2$s }\n"
      "add element ip %1$s " BANGER_NFT_SET " { %2$s comment \"%3$s\" }\n",
      table, guest_ip, comment, create);
  return banger_nft_run (ctx, cmds, error);
}

GStrv
banger_nft_list_vm (const char *table, const char *vm_id, GError **error)
{
  return banger_nft_list_vm_for (table, NULL, vm_id, error);
}

GStrv
banger_nft_list_vm_for (const char *table, const char *install_id, const char *vm_id,
                        GError **error)
{
  g_autofree char *comment = banger_host_nft_comment (vm_id, error);
  g_autofree char *marker = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) vals = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) comments = g_ptr_array_new_with_free_func (g_free);
  gboolean exists;

  if (comment == NULL || !banger_nft_validate_table (table, error))
    return NULL;
  marker = banger_host_marker (install_id, "nat");
  if (!banger_nft_check_table (table, marker, &exists, error))
    return NULL;
  if (exists && !list_elements (table, vals, comments, error))
    return NULL;
  for (guint i = 0; i < vals->len; i++)
    if (g_str_equal (comments->pdata[i], comment) && banger_priv_validate_ipv4 (vals->pdata[i], NULL))
      g_ptr_array_add (out, g_strdup (vals->pdata[i]));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

gboolean
banger_nft_nat_disable (const char *table, const char *vm_id, guint *out_removed,
                        GError **error)
{
  return banger_nft_nat_disable_for (table, NULL, vm_id, out_removed, error);
}

gboolean
banger_nft_nat_disable_for (const char *table, const char *install_id, const char *vm_id,
                            guint *out_removed, GError **error)
{
  g_auto (GStrv) ips = banger_nft_list_vm_for (table, install_id, vm_id, error);
  g_autoptr (BangerNftCtx) ctx = NULL;
  g_autoptr (GString) cmds = g_string_new (NULL);

  if (ips == NULL)
    return FALSE;
  if (out_removed != NULL)
    *out_removed = g_strv_length (ips);
  if (ips[0] == NULL)
    return TRUE;
  for (char **ip = ips; *ip; ip++)
    g_string_append_printf (cmds, "delete element ip %s " BANGER_NFT_SET " { %s }\n", table, *ip);
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "Cannot create an nftables context");
      return FALSE;
    }
  return banger_nft_run (ctx, cmds->str, error);
}

GStrv
banger_nft_list_vm_ids_for (const char *table, const char *install_id, GError **error)
{
  g_autofree char *marker = NULL;
  g_autoptr (GPtrArray) vals = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) comments = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gboolean exists;

  if (!banger_nft_validate_table (table, error))
    return NULL;
  marker = banger_host_marker (install_id, "nat");
  if (!banger_nft_check_table (table, marker, &exists, error))
    return NULL;
  if (exists && !list_elements (table, vals, comments, error))
    return NULL;
  for (guint i = 0; i < comments->len; i++)
    {
      const char *c = comments->pdata[i];
      if (c != NULL && g_str_has_prefix (c, "banger-vm:")
          && !g_hash_table_contains (seen, c + strlen ("banger-vm:")))
        {
          g_hash_table_add (seen, (gpointer) (c + strlen ("banger-vm:")));
          g_ptr_array_add (out, g_strdup (c + strlen ("banger-vm:")));
        }
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}
