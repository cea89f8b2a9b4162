/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OCI image references, parsed the way the distribution project's reference
 * grammar and Docker's normalisation define them:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*
 *   domain     := host [ ":" port ]     (first part with "." or ":", or "localhost")
 *   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *
 * A name without a domain is on Docker Hub ("docker.io", served by
 * registry-1.docker.io), and a one-component Docker Hub name is in
 * "library/".  Without tag or digest the tag is "latest". */
#include "config.h"

#include <string.h>

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-image-ref.h"
#include "banger-quote.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128
#define REF_MAX_LEN 4096

struct _BangerImageRef
{
  gatomicrefcount refcount;
  char *registry;   /* "docker.io", "127.0.0.1:5000" */
  char *endpoint;   /* host[:port] the API is served from */
  char *repository; /* "library/alpine" */
  char *tag;        /* NULL when pinned by digest only */
  char *digest;     /* NULL unless pinned */
};

G_DEFINE_BOXED_TYPE (BangerImageRef, banger_image_ref, banger_image_ref_ref,
                     banger_image_ref_unref)

static gboolean
ref_error (GError **error, const char *text, const char *why)
{
  g_autofree char *quoted = banger_quote (text);

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Image reference '%s' is invalid: %s", quoted, why);
  return FALSE;
}

static gboolean
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: lowercase alphanumerics joined by ".", "_", "__" or
 * runs of "-". */
static gboolean
component_is_valid (const char *s, gsize len)
{
  gsize i = 0;

  if (len == 0 || !is_lower_alnum (s[0]) || !is_lower_alnum (s[len - 1]))
    return FALSE;
  while (i < len)
    {
      if (is_lower_alnum (s[i]))
        {
          i++;
          continue;
        }
      /* a separator, then an alphanumeric must follow */
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < len && s[i] == '-')
          i++;
      else
        return FALSE;
      if (i >= len || !is_lower_alnum (s[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
has_upper (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (g_ascii_isupper (s[i]))
      return TRUE;
  return FALSE;
}

/* host[:port], host being DNS labels (letters, digits, inner '-') joined by
 * '.', or a bracketed IPv6 address. */
static gboolean
domain_is_valid (const char *s)
{
  const char *colon;
  const char *host_end;

  if (s[0] == '[')
    {
      const char *close = strchr (s, ']');
      if (close == NULL || close == s + 1)
        return FALSE;
      for (const char *p = s + 1; p < close; p++)
        if (!g_ascii_isxdigit (*p) && *p != ':' && *p != '.')
          return FALSE;
      host_end = close + 1;
      if (*host_end != '\0' && *host_end != ':')
        return FALSE;
    }
  else
    {
      colon = strchr (s, ':');
      host_end = colon != NULL ? colon : s + strlen (s);
      if (host_end == s)
        return FALSE;
      /* labels */
      for (const char *p = s; p < host_end;)
        {
          const char *dot = memchr (p, '.', host_end - p);
          const char *label_end = dot != NULL ? dot : host_end;
          if (label_end == p || label_end - p > 63)
            return FALSE;
          if (!g_ascii_isalnum (p[0]) || !g_ascii_isalnum (label_end[-1]))
            return FALSE;
          for (const char *q = p; q < label_end; q++)
            if (!g_ascii_isalnum (*q) && *q != '-')
              return FALSE;
          p = dot != NULL ? dot + 1 : host_end;
          if (dot != NULL && p == host_end)
            return FALSE; /* trailing dot */
        }
    }
  if (*host_end == ':')
    {
      const char *port = host_end + 1;
      guint64 n = 0;
      if (*port == '\0' || strlen (port) > 5 || strspn (port, "0123456789") != strlen (port))
        return FALSE;
      n = g_ascii_strtoull (port, NULL, 10);
      if (n == 0 || n > 65535)
        return FALSE;
    }
  return TRUE;
}

static gboolean
tag_is_valid (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > TAG_MAX_LEN)
    return FALSE;
  if (!g_ascii_isalnum (s[0]) && s[0] != '_')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return FALSE;
  return TRUE;
}

/**
 * banger_image_ref_parse:
 * @text: an image reference, such as `alpine`, `debian:12`,
 *   `ghcr.io/org/app:v1` or `127.0.0.1:5000/app@sha256:…`
 * @error: return location for a #GError
 *
 * Parses an OCI image reference and normalises it as Docker does: a name
 * without a registry part is on Docker Hub (`docker.io`, whose API is served
 * by `registry-1.docker.io`), a single-component Docker Hub name gets the
 * `library/` prefix, `index.docker.io` means `docker.io`, and a reference
 * with neither tag nor digest gets the tag `latest`.  The first
 * `/`-separated part is a registry when it contains `.` or `:` or is
 * `localhost`.
 *
 * Refused with %BANGER_ERROR_INVALID_ARGUMENT (the message names the part
 * that is wrong): an empty reference, an invalid registry or port, an
 * empty or malformed path component, uppercase letters in the repository, a
 * malformed tag, a malformed digest, a repository name longer than 255
 * characters.  A digest with another algorithm than sha256 is refused with
 * %BANGER_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the parsed reference, or %NULL with @error set
 */
BangerImageRef *
banger_image_ref_parse (const char *text, GError **error)
{
  g_autoptr (BangerImageRef) ref = NULL;
  g_autofree char *name = NULL;
  g_autofree char *remainder = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *registry = NULL;
  const char *path;
  const char *at;
  const char *slash;
  const char *last_slash;
  const char *colon;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text == NULL || text[0] == '\0')
    return ref_error (error, text, "it is empty"), NULL;
  if (strlen (text) > REF_MAX_LEN)
    return ref_error (error, text, "it is too long"), NULL;
  for (const char *p = text; *p; p++)
    if ((guchar) *p <= ' ' || (guchar) *p >= 0x7f)
      return ref_error (error, text, "it contains whitespace, control or non-ASCII characters"),
             NULL;

  /* "@digest" */
  at = strchr (text, '@');
  if (at != NULL)
    {
      g_autoptr (GError) local = NULL;
      digest = g_strdup (at + 1);
      if (!banger_digest_validate (digest, &local))
        {
          g_autofree char *why = NULL;
          if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED))
            {
              g_autofree char *quoted = banger_quote (text);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "Image reference '%s' uses a sha512 digest; only sha256 is supported",
                           quoted);
              return NULL;
            }
          why = g_strdup ("the part after '@' is not a sha256 digest (sha256: and 64 lowercase "
                          "hex digits)");
          return ref_error (error, text, why), NULL;
        }
      remainder = g_strndup (text, at - text);
    }
  else
    remainder = g_strdup (text);

  /* ":tag" is a colon after the last slash */
  last_slash = strrchr (remainder, '/');
  colon = strrchr (last_slash != NULL ? last_slash : remainder, ':');
  if (colon != NULL)
    {
      tag = g_strdup (colon + 1);
      name = g_strndup (remainder, colon - remainder);
      if (!tag_is_valid (tag))
        return ref_error (error, text,
                          "the tag is not 1-128 characters of letters, digits, '_', '.', '-' "
                          "(not starting with '.' or '-')"),
               NULL;
    }
  else
    name = g_strdup (remainder);

  if (name[0] == '\0')
    return ref_error (error, text, "the repository name is empty"), NULL;

  /* registry part */
  slash = strchr (name, '/');
  if (slash != NULL)
    {
      g_autofree char *first = g_strndup (name, slash - name);
      if (strchr (first, '.') != NULL || strchr (first, ':') != NULL
          || g_str_equal (first, "localhost"))
        {
          if (!domain_is_valid (first))
            return ref_error (error, text, "the registry is not a valid host[:port]"), NULL;
          registry = g_steal_pointer (&first);
          path = slash + 1;
        }
      else
        path = name;
    }
  else
    path = name;

  if (strlen (path) > NAME_MAX_LEN)
    return ref_error (error, text, "the repository name is longer than 255 characters"), NULL;

  /* path components */
  for (const char *p = path;;)
    {
      const char *end = strchr (p, '/');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);
      if (len == 0)
        return ref_error (error, text, "the repository has an empty path component"), NULL;
      if (has_upper (p, len))
        return ref_error (error, text, "the repository name must be lowercase"), NULL;
      if (!component_is_valid (p, len))
        return ref_error (error, text,
                          "a repository path component is not lowercase letters and digits "
                          "joined by '.', '_', '__' or '-'"),
               NULL;
      if (end == NULL)
        break;
      p = end + 1;
    }

  ref = g_new0 (BangerImageRef, 1);
  g_atomic_ref_count_init (&ref->refcount);
  if (registry == NULL || g_str_equal (registry, "index.docker.io")
      || g_str_equal (registry, BANGER_DOCKER_HUB_REGISTRY))
    {
      ref->registry = g_strdup (BANGER_DOCKER_HUB_REGISTRY);
      ref->endpoint = g_strdup (BANGER_DOCKER_HUB_ENDPOINT);
      ref->repository = strchr (path, '/') == NULL ? g_strconcat ("library/", path, NULL)
                                                   : g_strdup (path);
    }
  else
    {
      ref->endpoint = g_strdup (registry);
      ref->registry = g_steal_pointer (&registry);
      ref->repository = g_strdup (path);
    }
  if (tag == NULL && digest == NULL)
    tag = g_strdup ("latest");
  ref->tag = g_steal_pointer (&tag);
  ref->digest = g_steal_pointer (&digest);
  return g_steal_pointer (&ref);
}

/**
 * banger_image_ref_ref:
 * @ref: a #BangerImageRef
 *
 * Returns: (transfer full): @ref, with one more reference
 */
BangerImageRef *
banger_image_ref_ref (BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  g_atomic_ref_count_inc (&ref->refcount);
  return ref;
}

/**
 * banger_image_ref_unref:
 * @ref: (transfer full): a #BangerImageRef
 *
 * Drops one reference; the last one frees @ref.
 */
void
banger_image_ref_unref (BangerImageRef *ref)
{
  g_return_if_fail (ref != NULL);
  if (!g_atomic_ref_count_dec (&ref->refcount))
    return;
  g_free (ref->registry);
  g_free (ref->endpoint);
  g_free (ref->repository);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

/**
 * banger_image_ref_get_registry:
 * @ref: a #BangerImageRef
 *
 * Returns: the registry as users name it, `docker.io` for Docker Hub
 */
const char *
banger_image_ref_get_registry (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->registry;
}

/**
 * banger_image_ref_get_endpoint:
 * @ref: a #BangerImageRef
 *
 * Returns: the `host[:port]` that serves the registry's API
 *   (`registry-1.docker.io` for Docker Hub)
 */
const char *
banger_image_ref_get_endpoint (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->endpoint;
}

/**
 * banger_image_ref_get_repository:
 * @ref: a #BangerImageRef
 *
 * Returns: the repository path, such as `library/alpine`
 */
const char *
banger_image_ref_get_repository (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->repository;
}

/**
 * banger_image_ref_get_tag:
 * @ref: a #BangerImageRef
 *
 * Returns: (nullable): the tag; %NULL for a reference pinned by digest alone
 */
const char *
banger_image_ref_get_tag (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->tag;
}

/**
 * banger_image_ref_get_digest:
 * @ref: a #BangerImageRef
 *
 * Returns: (nullable): the `sha256:` digest the reference is pinned to
 */
const char *
banger_image_ref_get_digest (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->digest;
}

/**
 * banger_image_ref_get_reference:
 * @ref: a #BangerImageRef
 *
 * The reference to ask the registry's `/manifests/` endpoint for: the digest
 * when the reference is pinned (a tag next to a digest is then only a
 * label), the tag otherwise.
 *
 * Returns: the digest or the tag
 */
const char *
banger_image_ref_get_reference (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return ref->digest != NULL ? ref->digest : ref->tag;
}

/**
 * banger_image_ref_to_string:
 * @ref: a #BangerImageRef
 *
 * Returns: (transfer full): the normalised reference,
 *   `registry/repository[:tag][@digest]`
 */
char *
banger_image_ref_to_string (const BangerImageRef *ref)
{
  g_return_val_if_fail (ref != NULL, NULL);
  return g_strdup_printf ("%s/%s%s%s%s%s", ref->registry, ref->repository,
                          ref->tag != NULL ? ":" : "", ref->tag != NULL ? ref->tag : "",
                          ref->digest != NULL ? "@" : "", ref->digest != NULL ? ref->digest : "");
}

/**
 * banger_image_ref_with_digest:
 * @ref: a #BangerImageRef
 * @digest: a `sha256:` digest
 * @error: return location for a #GError
 *
 * The same repository pinned to @digest (for a child manifest of an index).
 *
 * Returns: (transfer full): a new reference, or %NULL if @digest is invalid
 */
BangerImageRef *
banger_image_ref_with_digest (const BangerImageRef *ref, const char *digest, GError **error)
{
  BangerImageRef *copy;

  g_return_val_if_fail (ref != NULL, NULL);
  if (!banger_digest_validate (digest, error))
    return NULL;
  copy = g_new0 (BangerImageRef, 1);
  g_atomic_ref_count_init (&copy->refcount);
  copy->registry = g_strdup (ref->registry);
  copy->endpoint = g_strdup (ref->endpoint);
  copy->repository = g_strdup (ref->repository);
  copy->tag = g_strdup (ref->tag);
  copy->digest = g_strdup (digest);
  return copy;
}
