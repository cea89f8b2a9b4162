/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OCI image manifests and indexes, and their Docker v2 schema 2
 * counterparts (manifest, manifest list), read strictly: schemaVersion 2, a
 * known media type, valid sha256 digests, bounded sizes and counts. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-oci-manifest.h"
#include "banger-quote.h"

/**
 * banger_oci_descriptor_free:
 * @d: (nullable): a descriptor
 *
 * Drops a reference; the last one frees it.
 */
void
banger_oci_descriptor_free (BangerOciDescriptor *d)
{
  if (d == NULL || !g_atomic_ref_count_dec (&d->ref_count))
    return;
  g_free (d->media_type);
  g_free (d->digest);
  g_free (d->os);
  g_free (d->architecture);
  g_free (d->variant);
  g_free (d);
}

/**
 * banger_oci_manifest_free:
 * @m: (nullable): a parsed manifest
 */
void
banger_oci_manifest_free (BangerOciManifest *m)
{
  if (m == NULL)
    return;
  g_free (m->media_type);
  banger_oci_descriptor_free (m->config);
  g_clear_pointer (&m->layers, g_ptr_array_unref);
  g_clear_pointer (&m->manifests, g_ptr_array_unref);
  g_free (m);
}

/**
 * banger_oci_manifest_accept_header:
 *
 * Returns: the `Accept` header value that asks a registry for any of the
 *   manifest and index media types banger reads
 */
const char *
banger_oci_manifest_accept_header (void)
{
  return BANGER_OCI_MEDIA_MANIFEST ", " BANGER_OCI_MEDIA_INDEX ", " BANGER_DOCKER_MEDIA_MANIFEST
                                   ", " BANGER_DOCKER_MEDIA_LIST;
}

static gboolean
bad (GError **error, const char *what)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "Malformed image manifest: %s", what);
  return FALSE;
}

static const char *
get_string (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static BangerOciDescriptor *
parse_descriptor (JsonNode *node, gboolean with_platform, GError **error)
{
  g_autoptr (GError) local = NULL;
  BangerOciDescriptor *d;
  JsonObject *o;
  JsonNode *size;
  const char *media_type;
  const char *digest;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return bad (error, "a descriptor is not an object"), NULL;
  o = json_node_get_object (node);
  media_type = get_string (o, "mediaType");
  digest = get_string (o, "digest");
  size = json_object_get_member (o, "size");
  if (media_type == NULL || digest == NULL || size == NULL || !JSON_NODE_HOLDS_VALUE (size)
      || json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) < 0)
    return bad (error, "a descriptor lacks mediaType, digest or a non-negative size"), NULL;
  if (!banger_digest_validate (digest, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "Malformed image manifest: %s",
                   local->message);
      return NULL;
    }
  d = g_new0 (BangerOciDescriptor, 1);
  g_atomic_ref_count_init (&d->ref_count);
  d->media_type = g_strdup (media_type);
  d->digest = g_strdup (digest);
  d->size = (guint64) json_node_get_int (size);
  if (with_platform)
    {
      JsonNode *p = json_object_get_member (o, "platform");
      if (p != NULL && JSON_NODE_HOLDS_OBJECT (p))
        {
          JsonObject *po = json_node_get_object (p);
          d->os = g_strdup (get_string (po, "os"));
          d->architecture = g_strdup (get_string (po, "architecture"));
          d->variant = g_strdup (get_string (po, "variant"));
        }
    }
  return d;
}

static GPtrArray *
parse_descriptor_array (JsonObject *o, const char *member, gboolean with_platform, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) banger_oci_descriptor_free);
  JsonNode *n = json_object_get_member (o, member);
  JsonArray *a;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_autofree char *what = g_strdup_printf ("'%s' is missing or not an array", member);
      return bad (error, what), NULL;
    }
  a = json_node_get_array (n);
  if (json_array_get_length (a) > BANGER_OCI_MANIFEST_MAX_ENTRIES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "Image manifest lists %u entries in '%s'; at most %u are accepted",
                   json_array_get_length (a), member, BANGER_OCI_MANIFEST_MAX_ENTRIES);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      BangerOciDescriptor *d = parse_descriptor (json_array_get_element (a, i), with_platform,
                                                 error);
      if (d == NULL)
        return NULL;
      g_ptr_array_add (out, d);
    }
  return g_steal_pointer (&out);
}

/**
 * banger_oci_manifest_parse:
 * @bytes: the manifest document
 * @content_type: (nullable): the `Content-Type` the registry sent, used when
 *   the document has no `mediaType` member
 * @error: return location for a #GError
 *
 * Parses an OCI image manifest or index, or a Docker v2 schema 2 manifest or
 * manifest list.  A document that is not one of those is refused with
 * %BANGER_ERROR_PROTOCOL; one with more than 1024 layers or entries, or
 * larger than 4 MiB, with %BANGER_ERROR_LIMIT_EXCEEDED.
 *
 * Returns: (transfer full): the manifest, or %NULL with @error set
 */
BangerOciManifest *
banger_oci_manifest_parse (GBytes *bytes, const char *content_type, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (BangerOciManifest) m = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *ct = NULL;
  JsonNode *root;
  JsonObject *o;
  JsonNode *schema;
  const char *media_type;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len > BANGER_OCI_MANIFEST_MAX_BYTES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "Image manifest is %" G_GSIZE_FORMAT " bytes; at most %d are accepted", len,
                   BANGER_OCI_MANIFEST_MAX_BYTES);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) len, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Image manifest is not valid JSON: %s", local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return bad (error, "the document is not a JSON object"), NULL;
  o = json_node_get_object (root);
  schema = json_object_get_member (o, "schemaVersion");
  if (schema == NULL || !JSON_NODE_HOLDS_VALUE (schema)
      || json_node_get_value_type (schema) != G_TYPE_INT64 || json_node_get_int (schema) != 2)
    return bad (error, "schemaVersion is not 2"), NULL;

  media_type = get_string (o, "mediaType");
  if (media_type == NULL && content_type != NULL)
    {
      /* "type/subtype; charset=…" */
      ct = g_strstrip (g_strndup (content_type, strcspn (content_type, ";")));
      media_type = ct;
    }
  if (media_type == NULL)
    {
      /* OCI allows an absent mediaType: tell by the members */
      media_type = json_object_has_member (o, "manifests") ? BANGER_OCI_MEDIA_INDEX
                                                            : BANGER_OCI_MEDIA_MANIFEST;
    }

  m = g_new0 (BangerOciManifest, 1);
  m->media_type = g_strdup (media_type);
  if (g_str_equal (media_type, BANGER_OCI_MEDIA_MANIFEST)
      || g_str_equal (media_type, BANGER_DOCKER_MEDIA_MANIFEST))
    {
      m->kind = BANGER_OCI_MANIFEST_IMAGE;
      m->config = parse_descriptor (json_object_get_member (o, "config"), FALSE, error);
      if (m->config == NULL)
        return NULL;
      m->layers = parse_descriptor_array (o, "layers", FALSE, error);
      if (m->layers == NULL)
        return NULL;
    }
  else if (g_str_equal (media_type, BANGER_OCI_MEDIA_INDEX)
           || g_str_equal (media_type, BANGER_DOCKER_MEDIA_LIST))
    {
      m->kind = BANGER_OCI_MANIFEST_INDEX;
      m->manifests = parse_descriptor_array (o, "manifests", TRUE, error);
      if (m->manifests == NULL)
        return NULL;
    }
  else
    {
      g_autofree char *quoted = banger_quote (media_type);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Image manifest media type '%s' is not supported (OCI and Docker v2 schema 2 "
                   "manifests and indexes are)",
                   quoted);
      return NULL;
    }
  return g_steal_pointer (&m);
}

/**
 * banger_oci_manifest_select_platform:
 * @index: an index (manifest list)
 * @os: the wanted OS, such as `linux`
 * @architecture: the wanted architecture, such as `amd64`
 * @variant: (nullable): the wanted variant; %NULL accepts any
 * @error: return location for a #GError
 *
 * Picks the first entry of @index for the wanted platform.  An index without
 * one fails with %BANGER_ERROR_NOT_FOUND, naming the platforms it has.
 *
 * Returns: (transfer none): the entry, owned by @index
 */
const BangerOciDescriptor *
banger_oci_manifest_select_platform (const BangerOciManifest *index, const char *os,
                                     const char *architecture, const char *variant,
                                     GError **error)
{
  g_autoptr (GString) have = g_string_new (NULL);

  g_return_val_if_fail (index->kind == BANGER_OCI_MANIFEST_INDEX, NULL);
  for (guint i = 0; i < index->manifests->len; i++)
    {
      const BangerOciDescriptor *d = index->manifests->pdata[i];
      if (g_strcmp0 (d->os, os) == 0 && g_strcmp0 (d->architecture, architecture) == 0
          && (variant == NULL || g_strcmp0 (d->variant, variant) == 0))
        return d;
    }
  for (guint i = 0; i < index->manifests->len && i < 16; i++)
    {
      const BangerOciDescriptor *d = index->manifests->pdata[i];
      g_autofree char *qos = banger_quote (d->os);
      g_autofree char *qarch = banger_quote (d->architecture);
      g_string_append_printf (have, "%s%s/%s", i > 0 ? ", " : "", qos, qarch);
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               "The image index has no manifest for %s/%s%s%s (it has: %s)", os, architecture,
               variant != NULL ? "/" : "", variant != NULL ? variant : "",
               have->len > 0 ? have->str : "nothing");
  return NULL;
}

/**
 * banger_oci_layer_compression:
 * @media_type: a layer's media type
 * @out: (out): where the compression is stored
 * @error: return location for a #GError
 *
 * Maps an OCI or Docker layer media type to its compression.  Anything that
 * is not a tar layer (plain, gzip or zstd) fails with
 * %BANGER_ERROR_UNSUPPORTED.
 *
 * Returns: %TRUE if @media_type is a layer banger can unpack
 */
gboolean
banger_oci_layer_compression (const char *media_type, BangerLayerCompression *out,
                              GError **error)
{
  static const struct
  {
    const char *type;
    BangerLayerCompression c;
  } table[] = {
    { "application/vnd.oci.image.layer.v1.tar", BANGER_LAYER_TAR },
    { "application/vnd.oci.image.layer.v1.tar+gzip", BANGER_LAYER_TAR_GZIP },
    { "application/vnd.oci.image.layer.v1.tar+zstd", BANGER_LAYER_TAR_ZSTD },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar", BANGER_LAYER_TAR },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", BANGER_LAYER_TAR_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", BANGER_LAYER_TAR_ZSTD },
    { "application/vnd.docker.image.rootfs.diff.tar.gzip", BANGER_LAYER_TAR_GZIP },
    { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", BANGER_LAYER_TAR_GZIP },
  };
  g_autofree char *quoted = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_strcmp0 (media_type, table[i].type) == 0)
      {
        *out = table[i].c;
        return TRUE;
      }
  quoted = banger_quote (media_type);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "Layer media type '%s' is not a tar layer (plain, gzip or zstd)", quoted);
  return FALSE;
}
