/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An OCI distribution client on libsoup-3.0 (doc/images.md):
 *
 * - manifests with an Accept header for OCI and Docker v2 schema 2
 *   manifests and indexes; an index resolved to one platform (linux/amd64
 *   by default); every manifest checked against the digest that named it
 *   (and against Docker-Content-Digest when the registry sends one);
 * - anonymous and bearer-token auth: a 401 with a `WWW-Authenticate: Bearer
 *   realm=…,service=…,scope=…` challenge sends us to the realm for a token,
 *   cached per registry and scope (Basic credentials when set);
 * - redirects followed by hand (at most 5), dropping the Authorization
 *   header when the host changes (blob storage rejects a second auth);
 * - retries with exponential back-off on network errors, 429 and 5xx;
 *   blob downloads resume from the partial file with `Range`;
 * - at most N blobs downloaded at once (default 3), each blob verified while
 *   it streams into the content store.
 *
 * Plain HTTP is used only for registries listed as insecure.  The public
 * entry points are _async/_finish pairs; the work runs in a GTask thread
 * (and one thread per parallel download, each with its own SoupSession,
 * using libsoup's blocking API). */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "banger-digest.h"
#include "banger-error-private.h"
#include "banger-quote.h"
#include "banger-registry-client.h"

#define MAX_REDIRECTS 5
#define TOKEN_MAX_BYTES (64 * 1024)
#define READ_CHUNK (128 * 1024)
#define PROGRESS_STEP (256 * 1024)
#define BACKOFF_MAX_MS 8000
#define CONFIG_MAX_BYTES (8 * 1024 * 1024)

/* A string member, or NULL when absent or of another type (the documents
 * come from outside: no criticals for a wrong type). */
static const char *
json_string_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

struct _BangerRegistryClient
{
  GObject parent_instance;
  BangerBlobStore *store;
  GStrv insecure;
  guint max_parallel;
  guint retries;
  guint base_delay_ms;
  char *os;
  char *architecture;
  char *variant;
  GMutex lock;          /* guards tokens and credentials */
  GHashTable *tokens;   /* "endpoint scope" -> token */
  GHashTable *credentials; /* registry -> "user:password" */
  GTlsDatabase *tls_database; /* NULL: the system's CAs */
};

/**
 * BangerRegistryClient:
 *
 * An OCI distribution client that pulls images into a #BangerBlobStore:
 * bearer-token and Basic auth, retries with back-off, resumed and parallel
 * blob downloads, every blob verified against its digest.
 *
 * Since: 0.2
 */
G_DEFINE_TYPE (BangerRegistryClient, banger_registry_client, G_TYPE_OBJECT)

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
banger_registry_client_finalize (GObject *object)
{
  BangerRegistryClient *self = BANGER_REGISTRY_CLIENT (object);

  g_clear_object (&self->store);
  g_clear_object (&self->tls_database);
  g_strfreev (self->insecure);
  g_free (self->os);
  g_free (self->architecture);
  g_free (self->variant);
  g_hash_table_unref (self->tokens);
  g_hash_table_unref (self->credentials);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (banger_registry_client_parent_class)->finalize (object);
}

static void
banger_registry_client_class_init (BangerRegistryClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_registry_client_finalize;

  /**
   * BangerRegistryClient::progress:
   * @client: the #BangerRegistryClient
   * @reference: the reference as given to banger_registry_client_pull_async()
   * @digest: the blob this report is about
   * @index: its position in the image: 0 is the config, 1 and up the layers
   *   from the bottom
   * @blob_done: bytes of this blob in the store so far
   * @blob_size: the blob's size
   * @total_done: bytes in the store so far over the config and every layer
   * @total_size: the size of the config and every layer together
   *
   * Emitted while a pull started with banger_registry_client_pull_async()
   * downloads, in the thread-default main context of the caller of that
   * function.  A blob already in the store is reported once, complete.
   * Several pulls may run on one client at once: @reference says which one
   * a report is about.
   *
   * Since: 0.2
   */
  signals[SIGNAL_PROGRESS] = g_signal_new (
      "progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
      7, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_UINT64,
      G_TYPE_UINT64);
}

static void
banger_registry_client_init (BangerRegistryClient *self)
{
  self->max_parallel = BANGER_REGISTRY_DEFAULT_MAX_PARALLEL;
  self->retries = BANGER_REGISTRY_DEFAULT_RETRIES;
  self->base_delay_ms = 500;
  self->os = g_strdup ("linux");
  self->architecture = g_strdup ("amd64");
  g_mutex_init (&self->lock);
  self->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->credentials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * banger_registry_client_new:
 * @store: the content store pulls write into
 *
 * Returns: (transfer full): a registry client with the defaults: HTTPS
 *   only, linux/amd64, 3 parallel downloads, 4 retries
 *
 * Since: 0.2
 */
BangerRegistryClient *
banger_registry_client_new (BangerBlobStore *store)
{
  BangerRegistryClient *self;

  g_return_val_if_fail (BANGER_IS_BLOB_STORE (store), NULL);
  self = g_object_new (BANGER_TYPE_REGISTRY_CLIENT, NULL);
  self->store = g_object_ref (store);
  return self;
}

/**
 * banger_registry_client_set_tls_database:
 * @client: a #BangerRegistryClient
 * @database: (nullable): the CAs HTTPS connections trust, or %NULL for the
 *   system's
 *
 * Replaces the system's CAs for every HTTPS connection of @client
 * (registries, token realms, blob storage): the daemon's `[registries]
 * ca=` file, a private registry's CA.
 *
 * Since: 0.2
 */
void
banger_registry_client_set_tls_database (BangerRegistryClient *client, GTlsDatabase *database)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));
  g_set_object (&client->tls_database, database);
}

/**
 * banger_registry_client_set_insecure_hosts:
 * @client: a #BangerRegistryClient
 * @hosts: (array zero-terminated=1) (nullable): `host:port` (or `host`)
 *   entries reached over plain HTTP, registries and token realms alike
 *
 * Everything else is reached over HTTPS with the system's CAs.
 *
 * Since: 0.2
 */
void
banger_registry_client_set_insecure_hosts (BangerRegistryClient *client, const char *const *hosts)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_strfreev (client->insecure);
  client->insecure = g_strdupv ((char **) hosts);
}

/**
 * banger_registry_client_set_max_parallel:
 * @client: a #BangerRegistryClient
 * @max_parallel: how many blobs may download at once (1-16)
 *
 * Since: 0.2
 */
void
banger_registry_client_set_max_parallel (BangerRegistryClient *client, guint max_parallel)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (max_parallel >= 1 && max_parallel <= BANGER_REGISTRY_MAX_PARALLEL_LIMIT);
  client->max_parallel = max_parallel;
}

/**
 * banger_registry_client_set_retries:
 * @client: a #BangerRegistryClient
 * @retries: how many times a failed request is tried again (0-10)
 * @base_delay_ms: the first back-off; each further one doubles (at most 8 s)
 *
 * Since: 0.2
 */
void
banger_registry_client_set_retries (BangerRegistryClient *client, guint retries,
                                    guint base_delay_ms)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (retries <= 10);
  client->retries = retries;
  client->base_delay_ms = base_delay_ms;
}

/**
 * banger_registry_client_set_platform:
 * @client: a #BangerRegistryClient
 * @os: such as `linux`
 * @architecture: such as `amd64`
 * @variant: (nullable): such as `v8`; %NULL accepts any
 *
 * The platform picked from image indexes.
 *
 * Since: 0.2
 */
void
banger_registry_client_set_platform (BangerRegistryClient *client, const char *os,
                                     const char *architecture, const char *variant)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (os != NULL && architecture != NULL);
  g_free (client->os);
  g_free (client->architecture);
  g_free (client->variant);
  client->os = g_strdup (os);
  client->architecture = g_strdup (architecture);
  client->variant = g_strdup (variant);
}

/**
 * banger_registry_client_set_credentials:
 * @client: a #BangerRegistryClient
 * @registry: a registry as references name it (`docker.io`, `host:port`)
 * @username: (nullable): the user; %NULL forgets the registry's credentials
 * @password: (nullable): the password or identity token
 *
 * Credentials sent (as HTTP Basic) to the registry's token realm, or to the
 * registry itself when it asks for Basic auth.
 *
 * Since: 0.2
 */
void
banger_registry_client_set_credentials (BangerRegistryClient *client, const char *registry,
                                        const char *username, const char *password)
{
  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_mutex_lock (&client->lock);
  if (username == NULL)
    g_hash_table_remove (client->credentials, registry);
  else
    g_hash_table_replace (client->credentials, g_strdup (registry),
                          g_strdup_printf ("%s:%s", username, password ? password : ""));
  g_mutex_unlock (&client->lock);
}

#define AUTH_FILE_MAX_BYTES (1024 * 1024)


/* "https://index.docker.io/v1/" -> "docker.io"; "host:port/x" -> "host:port" */
static char *
auth_key_to_registry (const char *key)
{
  const char *p = key;
  g_autofree char *host = NULL;

  if (g_str_has_prefix (p, "https://"))
    p += 8;
  else if (g_str_has_prefix (p, "http://"))
    p += 7;
  host = g_strndup (p, strcspn (p, "/"));
  if (g_str_equal (host, "index.docker.io") || g_str_equal (host, "registry-1.docker.io"))
    return g_strdup (BANGER_DOCKER_HUB_REGISTRY);
  return g_steal_pointer (&host);
}

/**
 * banger_registry_client_load_credentials_file:
 * @client: a #BangerRegistryClient
 * @path: a Docker `config.json` or a containers `auth.json`
 * @error: return location for a #GError
 *
 * Takes the credentials of every registry in the file's `auths` object:
 * `auth` (base64 of `user:password`), or `username` and `password`.  Keys
 * may be registry names or URLs (`https://index.docker.io/v1/` is Docker
 * Hub).  Credential helpers (`credsStore`, `credHelpers`) are not run.  A
 * missing file fails with %BANGER_ERROR_NOT_FOUND, a malformed one with
 * %BANGER_ERROR_INVALID_ARGUMENT.
 *
 * Returns: %TRUE on success
 */
gboolean
banger_registry_client_load_credentials_file (BangerRegistryClient *client, const char *path,
                                              GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *data = NULL;
  g_autofree char *quoted = banger_quote (path);
  g_autoptr (GList) members = NULL;
  g_autoptr (GError) local = NULL;
  gsize len = 0;
  JsonNode *root;
  JsonNode *auths;

  g_return_val_if_fail (BANGER_IS_REGISTRY_CLIENT (client), FALSE);
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, BANGER_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? BANGER_ERROR_NOT_FOUND
                       : BANGER_ERROR_FAILED,
                   "Cannot read credentials file '%s': %s", quoted, local->message);
      return FALSE;
    }
  if (len > AUTH_FILE_MAX_BYTES || !json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Credentials file '%s' is not a JSON object", quoted);
      return FALSE;
    }
  auths = json_object_get_member (json_node_get_object (root), "auths");
  if (auths == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (auths))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Credentials file '%s': 'auths' is not an object", quoted);
      return FALSE;
    }
  members = json_object_get_members (json_node_get_object (auths));
  for (GList *m = members; m != NULL; m = m->next)
    {
      JsonNode *entry = json_object_get_member (json_node_get_object (auths), m->data);
      g_autofree char *registry = auth_key_to_registry (m->data);
      g_autofree char *user = NULL;
      g_autofree char *password = NULL;
      JsonObject *o;
      const char *auth;

      if (!JSON_NODE_HOLDS_OBJECT (entry))
        continue;
      o = json_node_get_object (entry);
      auth = json_string_member (o, "auth");
      if (auth != NULL && auth[0] != '\0')
        {
          gsize n = 0;
          g_autofree guchar *raw = g_base64_decode (auth, &n);
          g_autofree char *plain = g_strndup ((const char *) raw, n);
          char *colon = strchr (plain, ':');
          if (colon == NULL)
            {
              g_autofree char *qreg = banger_quote (m->data);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "Credentials file '%s': the auth of '%s' is not base64 of "
                           "user:password",
                           quoted, qreg);
              return FALSE;
            }
          user = g_strndup (plain, colon - plain);
          password = g_strdup (colon + 1);
        }
      else
        {
          user = g_strdup (json_string_member (o, "username"));
          password = g_strdup (json_string_member (o, "password"));
        }
      if (user != NULL && user[0] != '\0')
        banger_registry_client_set_credentials (client, registry, user, password);
    }
  return TRUE;
}

/* ------------------------------------------------------------ progress */

typedef struct
{
  gatomicrefcount refs;
  BangerPullProgressFunc func;
  gpointer data;
  GDestroyNotify destroy;
  GMainContext *context;
} ProgressSink;

static ProgressSink *
sink_ref (ProgressSink *s)
{
  g_atomic_ref_count_inc (&s->refs);
  return s;
}

static void
sink_unref (ProgressSink *s)
{
  if (s == NULL || !g_atomic_ref_count_dec (&s->refs))
    return;
  if (s->destroy != NULL)
    s->destroy (s->data);
  g_main_context_unref (s->context);
  g_free (s);
}

typedef struct
{
  ProgressSink *sink;
  BangerPullProgress p;
  char *digest;
} ProgressEvent;

static gboolean
progress_dispatch (gpointer data)
{
  ProgressEvent *ev = data;

  ev->p.digest = ev->digest;
  ev->sink->func (&ev->p, ev->sink->data);
  return G_SOURCE_REMOVE;
}

static void
progress_event_free (gpointer data)
{
  ProgressEvent *ev = data;

  sink_unref (ev->sink);
  g_free (ev->digest);
  g_free (ev);
}

/* ------------------------------------------------------------- requests */

/* One thread's view: its own session, the reference, the cancellable. */
typedef struct
{
  BangerRegistryClient *client;
  SoupSession *session;
  const BangerImageRef *ref;
  GCancellable *cancellable;
} Conn;

static void
conn_init (Conn *c, BangerRegistryClient *client, const BangerImageRef *ref,
           GCancellable *cancellable)
{
  c->client = client;
  c->ref = ref;
  c->cancellable = cancellable;
  c->session = soup_session_new_with_options ("user-agent", "banger/" PACKAGE_VERSION, "timeout",
                                              60, "idle-timeout", 60, NULL);
  if (client->tls_database != NULL)
    soup_session_set_tls_database (c->session, client->tls_database);
}

static void
conn_clear (Conn *c)
{
  g_clear_object (&c->session);
}

static gboolean
host_is_insecure (BangerRegistryClient *client, const char *host, int port)
{
  g_autofree char *hostport = port > 0 ? g_strdup_printf ("%s:%d", host, port) : NULL;

  for (char **h = client->insecure; h != NULL && *h != NULL; h++)
    if (g_ascii_strcasecmp (*h, host) == 0
        || (hostport != NULL && g_ascii_strcasecmp (*h, hostport) == 0))
      return TRUE;
  return FALSE;
}

static gboolean
endpoint_is_insecure (BangerRegistryClient *client, const char *endpoint)
{
  for (char **h = client->insecure; h != NULL && *h != NULL; h++)
    if (g_ascii_strcasecmp (*h, endpoint) == 0)
      return TRUE;
  return FALSE;
}

static char *
api_url (Conn *c, const char *kind, const char *reference)
{
  const char *endpoint = banger_image_ref_get_endpoint (c->ref);

  return g_strdup_printf ("%s://%s/v2/%s/%s/%s",
                          endpoint_is_insecure (c->client, endpoint) ? "http" : "https",
                          endpoint, banger_image_ref_get_repository (c->ref), kind, reference);
}

static char *
token_key (Conn *c, const char *scope)
{
  return g_strdup_printf ("%s %s", banger_image_ref_get_endpoint (c->ref), scope);
}

static char *
default_scope (Conn *c)
{
  return g_strdup_printf ("repository:%s:pull", banger_image_ref_get_repository (c->ref));
}

static char *
lookup_token (Conn *c)
{
  g_autofree char *scope = default_scope (c);
  g_autofree char *key = token_key (c, scope);
  char *token;

  g_mutex_lock (&c->client->lock);
  token = g_strdup (g_hash_table_lookup (c->client->tokens, key));
  g_mutex_unlock (&c->client->lock);
  return token;
}

static char *
lookup_basic (Conn *c)
{
  char *cred;

  g_mutex_lock (&c->client->lock);
  cred = g_strdup (g_hash_table_lookup (c->client->credentials,
                                        banger_image_ref_get_registry (c->ref)));
  g_mutex_unlock (&c->client->lock);
  if (cred == NULL)
    return NULL;
  {
    g_autofree char *plain = cred;
    g_autofree char *b64 = g_base64_encode ((const guchar *) plain, strlen (plain));
    return g_strconcat ("Basic ", b64, NULL);
  }
}

static gboolean
map_soup_error (GError **error, GError *local, const char *what)
{
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED, "%s was cancelled", what);
  else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT, "%s timed out: %s", what,
                 local->message);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s failed: %s", what,
                 local->message);
  return FALSE;
}

static GBytes *
read_bounded (GInputStream *in, gsize max, GCancellable *cancellable, const char *what,
              GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autofree guchar *chunk = g_malloc (READ_CHUNK);
  g_autoptr (GError) local = NULL;

  for (;;)
    {
      gssize n = g_input_stream_read (in, chunk, READ_CHUNK, cancellable, &local);
      if (n < 0)
        return map_soup_error (error, local, what), NULL;
      if (n == 0)
        break;
      if (buf->len + (gsize) n > max)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "%s is larger than %" G_GSIZE_FORMAT " bytes", what, max);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

/* Ask the challenge's realm for a token; cache it under the default scope
 * of the reference (which is what later requests look up). */
static gboolean
fetch_token (Conn *c, const char *challenge, GError **error)
{
  g_autoptr (GHashTable) params = NULL;
  g_autoptr (GUri) realm_uri = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) body = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) url = NULL;
  g_autofree char *scope_default = default_scope (c);
  g_autofree char *key = NULL;
  g_autofree char *basic = NULL;
  const char *realm, *service, *scope, *token = NULL;
  JsonNode *root;
  guint status;

  if (challenge == NULL || g_ascii_strncasecmp (challenge, "Bearer ", 7) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Registry '%s' refused access to '%s' and offers no token flow",
                   banger_image_ref_get_registry (c->ref), banger_image_ref_get_repository (c->ref));
      return FALSE;
    }
  params = soup_header_parse_param_list (challenge + 7);
  realm = g_hash_table_lookup (params, "realm");
  service = g_hash_table_lookup (params, "service");
  scope = g_hash_table_lookup (params, "scope");
  if (scope == NULL)
    scope = scope_default;
  realm_uri = realm != NULL ? g_uri_parse (realm, G_URI_FLAGS_NONE, NULL) : NULL;
  if (realm_uri == NULL
      || (g_strcmp0 (g_uri_get_scheme (realm_uri), "https") != 0
          && !(g_strcmp0 (g_uri_get_scheme (realm_uri), "http") == 0
               && host_is_insecure (c->client, g_uri_get_host (realm_uri),
                                    g_uri_get_port (realm_uri)))))
    {
      g_autofree char *quoted = banger_quote (realm);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Registry '%s' sent a token realm '%s' that is not an https URL (or an "
                   "insecure host)",
                   banger_image_ref_get_registry (c->ref), quoted);
      return FALSE;
    }
  url = g_string_new (realm);
  g_string_append_c (url, strchr (realm, '?') != NULL ? '&' : '?');
  if (service != NULL)
    {
      g_autofree char *esc = g_uri_escape_string (service, NULL, FALSE);
      g_string_append_printf (url, "service=%s&", esc);
    }
  {
    g_autofree char *esc = g_uri_escape_string (scope, NULL, FALSE);
    g_string_append_printf (url, "scope=%s", esc);
  }
  msg = soup_message_new ("GET", url->str);
  if (msg == NULL)
    return g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                        "The token realm is not a valid URL"),
           FALSE;
  basic = lookup_basic (c);
  if (basic != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", basic);
  body = soup_session_send (c->session, msg, c->cancellable, &local);
  if (body == NULL)
    return map_soup_error (error, local, "Fetching a registry token");
  status = soup_message_get_status (msg);
  if (status == 401 || status == 403)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The token service of '%s' refused access to '%s' (HTTP %u)",
                   banger_image_ref_get_registry (c->ref), banger_image_ref_get_repository (c->ref),
                   status);
      return FALSE;
    }
  if (status != 200)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The token service of '%s' answered HTTP %u",
                   banger_image_ref_get_registry (c->ref), status);
      return FALSE;
    }
  bytes = read_bounded (body, TOKEN_MAX_BYTES, c->cancellable, "The token response", error);
  if (bytes == NULL)
    return FALSE;
  parser = json_parser_new_immutable ();
  if (json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                  (gssize) g_bytes_get_size (bytes), NULL)
      && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *o = json_node_get_object (root);
      token = json_string_member (o, "token");
      if (token == NULL || token[0] == '\0')
        token = json_string_member (o, "access_token");
    }
  if (token == NULL || token[0] == '\0' || strpbrk (token, "\r\n") != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The token service of '%s' sent no usable token",
                   banger_image_ref_get_registry (c->ref));
      return FALSE;
    }
  key = token_key (c, scope_default);
  g_mutex_lock (&c->client->lock);
  g_hash_table_replace (c->client->tokens, g_steal_pointer (&key), g_strdup (token));
  g_mutex_unlock (&c->client->lock);
  return TRUE;
}

/* Send a GET with auth and redirects.  On success the response's message
 * and body; *retry says whether a failure is worth another attempt. */
static GInputStream *
send_get (Conn *c, const char *url_in, const char *accept, guint64 range_start,
          SoupMessage **out_msg, gboolean *retry, GError **error)
{
  g_autofree char *url = g_strdup (url_in);
  const char *endpoint = banger_image_ref_get_endpoint (c->ref);
  gboolean authed_once = FALSE;
  guint redirects = 0;

  *retry = FALSE;
  for (;;)
    {
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr (GInputStream) body = NULL;
      g_autoptr (GError) local = NULL;
      g_autofree char *hostport = NULL;
      SoupMessageHeaders *req;
      GUri *uri;
      guint status;

      if (msg == NULL)
        {
          g_autofree char *quoted = banger_quote (url);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "'%s' is not a valid URL",
                       quoted);
          return NULL;
        }
      soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
      req = soup_message_get_request_headers (msg);
      uri = soup_message_get_uri (msg);
      hostport = g_uri_get_port (uri) > 0
                     ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
                     : g_strdup (g_uri_get_host (uri));
      if (accept != NULL)
        soup_message_headers_replace (req, "Accept", accept);
      if (range_start > 0)
        soup_message_headers_set_range (req, (goffset) range_start, -1);
      /* credentials go to the registry only, never to where it redirects */
      if (g_ascii_strcasecmp (hostport, endpoint) == 0
          || g_ascii_strcasecmp (g_uri_get_host (uri), endpoint) == 0)
        {
          g_autofree char *token = lookup_token (c);
          g_autofree char *basic = token == NULL ? lookup_basic (c) : NULL;
          if (token != NULL)
            {
              g_autofree char *h = g_strconcat ("Bearer ", token, NULL);
              soup_message_headers_replace (req, "Authorization", h);
            }
          else if (basic != NULL && authed_once)
            soup_message_headers_replace (req, "Authorization", basic);
        }

      body = soup_session_send (c->session, msg, c->cancellable, &local);
      if (body == NULL && local->domain == G_TLS_ERROR)
        {
          /* not worth a retry: the same certificate comes back */
          if (g_error_matches (local, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                         "The TLS certificate of '%s' is not trusted (%s); a private CA goes "
                         "in the daemon's [registries] ca=",
                         hostport, local->message);
          else
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                         "TLS with '%s' failed (%s); a plain-HTTP registry must be listed in "
                         "[registries] insecure=",
                         hostport, local->message);
          return NULL;
        }
      if (body == NULL)
        {
          *retry = !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          return map_soup_error (error, local, "A registry request"), NULL;
        }
      status = soup_message_get_status (msg);
      if (SOUP_STATUS_IS_REDIRECTION (status) && status != 304)
        {
          const char *location = soup_message_headers_get_one (
              soup_message_get_response_headers (msg), "Location");
          g_autoptr (GUri) next = NULL;
          (void) g_input_stream_close (body, NULL, NULL);
          if (location == NULL || ++redirects > MAX_REDIRECTS)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "Registry '%s' redirected too often or without a Location",
                           banger_image_ref_get_registry (c->ref));
              return NULL;
            }
          next = g_uri_parse_relative (uri, location, G_URI_FLAGS_NONE, NULL);
          if (next == NULL
              || (g_strcmp0 (g_uri_get_scheme (next), "https") != 0
                  && !(g_strcmp0 (g_uri_get_scheme (next), "http") == 0
                       && (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0
                           || host_is_insecure (c->client, g_uri_get_host (next),
                                                g_uri_get_port (next))))))
            {
              g_autofree char *quoted = banger_quote (location);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "Registry '%s' redirected to '%s', which is not an allowed URL",
                           banger_image_ref_get_registry (c->ref), quoted);
              return NULL;
            }
          g_free (url);
          url = g_uri_to_string (next);
          continue;
        }
      if (status == 401 && !authed_once)
        {
          const char *challenge = soup_message_headers_get_one (
              soup_message_get_response_headers (msg), "WWW-Authenticate");
          (void) g_input_stream_close (body, NULL, NULL);
          authed_once = TRUE;
          if (challenge != NULL && g_ascii_strncasecmp (challenge, "Basic", 5) == 0)
            {
              g_autofree char *basic = lookup_basic (c);
              if (basic == NULL)
                {
                  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                               "Registry '%s' wants credentials for '%s' and none are set",
                               banger_image_ref_get_registry (c->ref),
                               banger_image_ref_get_repository (c->ref));
                  return NULL;
                }
              continue;
            }
          if (!fetch_token (c, challenge, error))
            return NULL;
          continue;
        }
      if (status == 401 || status == 403)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "Registry '%s' refused access to '%s' (HTTP %u)",
                       banger_image_ref_get_registry (c->ref),
                       banger_image_ref_get_repository (c->ref), status);
          return NULL;
        }
      if (status == 429 || SOUP_STATUS_IS_SERVER_ERROR (status) || status < 100)
        {
          *retry = TRUE;
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "Registry '%s' answered HTTP %u",
                       banger_image_ref_get_registry (c->ref), status);
          return NULL;
        }
      *out_msg = g_steal_pointer (&msg);
      return g_steal_pointer (&body);
    }
}

/* Sleep before attempt @attempt (1, 2, ...), or FALSE when cancelled. */
static gboolean
backoff (Conn *c, guint attempt, GError **error)
{
  guint64 delay = (guint64) c->client->base_delay_ms << MIN (attempt - 1, 10u);
  gint64 until;

  delay = MIN (delay, BACKOFF_MAX_MS);
  delay += (guint64) g_random_int_range (0, (gint32) (delay / 4 + 1));
  until = g_get_monotonic_time () + (gint64) delay * 1000;
  while (g_get_monotonic_time () < until)
    {
      if (g_cancellable_is_cancelled (c->cancellable))
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                               "The pull was cancelled");
          return FALSE;
        }
      g_usleep (20 * 1000);
    }
  return TRUE;
}

static gboolean
not_found_error (Conn *c, GError **error, const char *what, const char *reference)
{
  g_autofree char *ref = banger_image_ref_to_string (c->ref);

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               "%s '%s' of '%s' is not in the registry", what, reference, ref);
  return FALSE;
}

/* GET a manifest by tag or digest; verified against a digest reference. */
static GBytes *
fetch_manifest (Conn *c, const char *reference, char **out_content_type, char **out_digest,
                GError **error)
{
  g_autofree char *url = api_url (c, "manifests", reference);

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (SoupMessage) msg = NULL;
      g_autoptr (GInputStream) body = NULL;
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) local = NULL;
      g_autofree char *digest = NULL;
      const char *header_digest;
      gboolean retry = FALSE;
      guint status;

      if (attempt > 0 && !backoff (c, attempt, error))
        return NULL;
      body = send_get (c, url, banger_oci_manifest_accept_header (), 0, &msg, &retry, &local);
      if (body == NULL)
        {
          if (retry && attempt < c->client->retries)
            continue;
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      status = soup_message_get_status (msg);
      if (status == 404)
        return not_found_error (c, error, "Manifest", reference), NULL;
      if (status != 200)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Registry '%s' answered HTTP %u for manifest '%s'",
                       banger_image_ref_get_registry (c->ref), status, reference);
          return NULL;
        }
      bytes = read_bounded (body, BANGER_OCI_MANIFEST_MAX_BYTES, c->cancellable, "The manifest",
                            &local);
      if (bytes == NULL)
        {
          if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED)
              && !g_error_matches (local, BANGER_ERROR, BANGER_ERROR_CANCELLED)
              && attempt < c->client->retries)
            continue;
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      digest = banger_digest_of_bytes (bytes);
      header_digest = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                    "Docker-Content-Digest");
      if ((g_str_has_prefix (reference, BANGER_DIGEST_PREFIX) && !g_str_equal (digest, reference))
          || (header_digest != NULL && g_str_has_prefix (header_digest, BANGER_DIGEST_PREFIX)
              && !g_str_equal (header_digest, digest)))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Manifest '%s' from '%s' does not match its digest (got '%s')", reference,
                       banger_image_ref_get_registry (c->ref), digest);
          return NULL;
        }
      if (out_content_type != NULL)
        *out_content_type = g_strdup (soup_message_headers_get_content_type (
            soup_message_get_response_headers (msg), NULL));
      if (out_digest != NULL)
        *out_digest = g_steal_pointer (&digest);
      return g_steal_pointer (&bytes);
    }
}

/* ----------------------------------------------------------------- pull */

typedef struct
{
  BangerRegistryClient *client;
  BangerImageRef *ref;
  ProgressSink *sink; /* nullable */
  GCancellable *abort; /* cancelled by the caller's cancellable or a failed download */
  /* the blobs to fetch: config first, then layers */
  GPtrArray *blobs; /* BangerOciDescriptor (borrowed) */
  guint64 total_size;
  /* shared by the download threads */
  GMutex lock;
  guint next;
  guint active;
  guint peak;
  GError *error;
  guint64 total_done;
  guint64 downloaded;
} Pull;

static void
report (Pull *p, const BangerOciDescriptor *d, guint index, guint64 done)
{
  ProgressEvent *ev;

  if (p->sink == NULL)
    return;
  ev = g_new0 (ProgressEvent, 1);
  ev->sink = sink_ref (p->sink);
  ev->digest = g_strdup (d->digest);
  ev->p.index = index;
  ev->p.blob_done = done;
  ev->p.blob_size = d->size;
  ev->p.total_size = p->total_size;
  /* read the total and queue the report under one lock: reports of
   * parallel downloads then arrive in the order of their totals (queued
   * outside it, a report could overtake an earlier one: the total would
   * go back) */
  g_mutex_lock (&p->lock);
  ev->p.total_done = p->total_done;
  g_main_context_invoke_full (p->sink->context, G_PRIORITY_DEFAULT, progress_dispatch, ev,
                              progress_event_free);
  g_mutex_unlock (&p->lock);
}

static void
add_done (Pull *p, guint64 n, gboolean network)
{
  g_mutex_lock (&p->lock);
  p->total_done += n;
  if (network)
    p->downloaded += n;
  g_mutex_unlock (&p->lock);
}

/* Drop what a blob had and take it off the total. */
static gboolean
restart_blob (Pull *p, BangerBlobWriter *w, guint64 had, GError **error)
{
  g_mutex_lock (&p->lock);
  p->total_done -= had;
  g_mutex_unlock (&p->lock);
  return banger_blob_writer_restart (w, error);
}

/* One blob into the store: resumed, retried, verified. */
static gboolean
fetch_blob (Conn *c, Pull *p, const BangerOciDescriptor *d, guint index, GError **error)
{
  BangerBlobStore *store = c->client->store;
  g_autoptr (BangerBlobWriter) w = NULL;
  g_autofree char *url = NULL;
  g_autofree guchar *buf = NULL;
  g_autoptr (GError) local = NULL;
  guint64 reported = 0;

  if (banger_blob_store_has_blob (store, d->digest))
    {
      add_done (p, d->size, FALSE);
      report (p, d, index, d->size);
      return TRUE;
    }
  w = banger_blob_store_begin_write (store, d->digest, (gint64) d->size, error);
  if (w == NULL)
    return FALSE;
  /* bytes already there from an earlier attempt */
  add_done (p, banger_blob_writer_get_offset (w), FALSE);
  url = api_url (c, "blobs", d->digest);
  buf = g_malloc (READ_CHUNK);

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (SoupMessage) msg = NULL;
      g_autoptr (GInputStream) body = NULL;
      gboolean retry = FALSE;
      guint64 offset = banger_blob_writer_get_offset (w);
      guint status;

      g_clear_error (&local);
      if (attempt > 0 && !backoff (c, attempt, error))
        return FALSE;
      if (offset == d->size)
        break; /* complete: only the check is left */
      body = send_get (c, url, NULL, offset, &msg, &retry, &local);
      if (body == NULL)
        {
          if (retry && attempt < c->client->retries)
            continue;
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      status = soup_message_get_status (msg);
      if (status == 404)
        return not_found_error (c, error, "Blob", d->digest);
      if (status == 206)
        {
          goffset start = -1, end = -1, total = -1;
          if (!soup_message_headers_get_content_range (soup_message_get_response_headers (msg),
                                                       &start, &end, &total)
              || start != (goffset) offset)
            {
              /* not the range we asked for: start over */
              if (!restart_blob (p, w, offset, error))
                return FALSE;
              continue;
            }
        }
      else if (status == 200)
        {
          /* the whole blob (a server that ignores Range) */
          if (offset > 0 && !restart_blob (p, w, offset, error))
            return FALSE;
        }
      else
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Registry '%s' answered HTTP %u for blob '%s'",
                       banger_image_ref_get_registry (c->ref), status, d->digest);
          return FALSE;
        }

      for (;;)
        {
          gssize n = g_input_stream_read (body, buf, READ_CHUNK, c->cancellable, &local);
          if (n < 0)
            break;
          if (n == 0)
            break;
          if (!banger_blob_writer_write (w, buf, (gsize) n, error))
            return FALSE; /* more than the descriptor's size: the partial is gone */
          add_done (p, (guint64) n, TRUE);
          if (banger_blob_writer_get_offset (w) - reported >= PROGRESS_STEP)
            {
              reported = banger_blob_writer_get_offset (w);
              report (p, d, index, reported);
            }
        }
      if (local != NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return map_soup_error (error, local, "Downloading a blob");
          if (attempt < c->client->retries)
            continue; /* resume from what we have */
          return map_soup_error (error, local, "Downloading a blob");
        }
      if (banger_blob_writer_get_offset (w) < d->size)
        {
          if (attempt < c->client->retries)
            continue; /* the connection ended early: resume */
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Blob '%s' ended after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                       " bytes",
                       d->digest, banger_blob_writer_get_offset (w), d->size);
          return FALSE;
        }
      break;
    }
  if (!banger_blob_writer_commit (w, error))
    return FALSE;
  report (p, d, index, d->size);
  return TRUE;
}

static gpointer
download_thread (gpointer data)
{
  Pull *p = data;
  Conn c;

  conn_init (&c, p->client, p->ref, p->abort);
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      const BangerOciDescriptor *d;
      guint index;

      g_mutex_lock (&p->lock);
      if (p->next >= p->blobs->len || p->error != NULL)
        {
          g_mutex_unlock (&p->lock);
          break;
        }
      index = p->next++;
      p->active++;
      p->peak = MAX (p->peak, p->active);
      g_mutex_unlock (&p->lock);

      d = p->blobs->pdata[index];
      if (!fetch_blob (&c, p, d, index, &local))
        {
          g_mutex_lock (&p->lock);
          if (p->error == NULL)
            p->error = g_steal_pointer (&local);
          p->active--;
          g_mutex_unlock (&p->lock);
          g_cancellable_cancel (p->abort);
          break;
        }
      g_mutex_lock (&p->lock);
      p->active--;
      g_mutex_unlock (&p->lock);
    }
  conn_clear (&c);
  return NULL;
}

static void
pull_free (Pull *p)
{
  g_clear_object (&p->client);
  g_clear_pointer (&p->ref, banger_image_ref_unref);
  g_clear_pointer (&p->sink, sink_unref);
  g_clear_object (&p->abort);
  g_clear_pointer (&p->blobs, g_ptr_array_unref);
  g_clear_error (&p->error);
  g_mutex_clear (&p->lock);
  g_free (p);
}

static void
on_caller_cancelled (GCancellable *cancellable, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static BangerPulledImage *
pull_run (Pull *p, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerPulledImage) result = g_new0 (BangerPulledImage, 1);
  g_autoptr (BangerOciManifest) m = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *content_type = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  Conn c;
  guint n_threads;

  g_atomic_ref_count_init (&result->ref_count);
  conn_init (&c, p->client, p->ref, p->abort);
  result->reference = banger_image_ref_to_string (p->ref);
  bytes = fetch_manifest (&c, banger_image_ref_get_reference (p->ref), &content_type, &digest,
                          error);
  if (bytes == NULL)
    return conn_clear (&c), NULL;
  m = banger_oci_manifest_parse (bytes, content_type, error);
  if (m == NULL)
    return conn_clear (&c), NULL;
  if (m->kind == BANGER_OCI_MANIFEST_INDEX)
    {
      const BangerOciDescriptor *d = banger_oci_manifest_select_platform (
          m, p->client->os, p->client->architecture, p->client->variant, error);
      g_autofree char *child_digest = NULL;
      g_autofree char *child_type = NULL;
      g_autoptr (GBytes) child = NULL;
      if (d == NULL)
        return conn_clear (&c), NULL;
      if (!banger_blob_store_write_bytes (p->client->store, digest, bytes, error))
        return conn_clear (&c), NULL;
      result->index_digest = g_steal_pointer (&digest);
      child = fetch_manifest (&c, d->digest, &child_type, &child_digest, error);
      if (child == NULL)
        return conn_clear (&c), NULL;
      g_clear_pointer (&m, banger_oci_manifest_free);
      m = banger_oci_manifest_parse (child, child_type, error);
      if (m == NULL)
        return conn_clear (&c), NULL;
      if (m->kind != BANGER_OCI_MANIFEST_IMAGE)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                       "Image index entry '%s' is itself an index; nested indexes are not "
                       "supported",
                       d->digest);
          return conn_clear (&c), NULL;
        }
      g_bytes_unref (bytes);
      bytes = g_steal_pointer (&child);
      digest = g_steal_pointer (&child_digest);
    }
  conn_clear (&c);

  for (guint i = 0; i < m->layers->len; i++)
    {
      const BangerOciDescriptor *d = m->layers->pdata[i];
      BangerLayerCompression comp;
      if (!banger_oci_layer_compression (d->media_type, &comp, error))
        return NULL;
    }

  /* config first, then the layers, at most max_parallel at once */
  p->blobs = g_ptr_array_new ();
  g_ptr_array_add (p->blobs, m->config);
  p->total_size = m->config->size;
  if (m->config->size > CONFIG_MAX_BYTES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "Image config '%s' is %" G_GUINT64_FORMAT " bytes; at most %d are accepted",
                   m->config->digest, m->config->size, CONFIG_MAX_BYTES);
      return NULL;
    }
  for (guint i = 0; i < m->layers->len; i++)
    {
      const BangerOciDescriptor *d = m->layers->pdata[i];
      g_ptr_array_add (p->blobs, (gpointer) d);
      p->total_size += d->size;
    }
  n_threads = MIN (p->client->max_parallel, p->blobs->len);
  for (guint i = 0; i < n_threads; i++)
    g_ptr_array_add (threads, g_thread_new ("banger-pull", download_thread, p));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  if (p->error != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                             "The pull was cancelled");
      else
        g_propagate_error (error, g_steal_pointer (&p->error));
      return NULL;
    }
  /* the manifest last: a stored manifest means a complete image */
  if (!banger_blob_store_write_bytes (p->client->store, digest, bytes, error))
    return NULL;
  result->manifest_digest = g_steal_pointer (&digest);
  result->config_digest = g_strdup (m->config->digest);
  result->layers = g_steal_pointer (&m->layers);
  result->total_size = p->total_size;
  result->downloaded_bytes = p->downloaded;
  result->peak_parallel = p->peak;
  return g_steal_pointer (&result);
}

static void
pull_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Pull *p = task_data;
  GError *error = NULL;
  gulong handler = 0;
  BangerPulledImage *result;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                     g_object_ref (p->abort), g_object_unref);
  result = pull_run (p, cancellable, &error);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) banger_pulled_image_unref);
}

/**
 * banger_registry_client_pull_ref_async: (skip)
 * @client: a #BangerRegistryClient
 * @ref: the image to pull
 * @progress: (nullable) (scope notified): called with download progress, in
 *   the thread-default main context of the caller
 * @progress_data: (closure progress): data for @progress
 * @progress_destroy: (destroy progress_data) (nullable): frees @progress_data
 *   after the last call
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the pull ends
 * @user_data: (closure callback): data for @callback
 *
 * Pulls an image into the content store: its manifest (through the index
 * for the client's platform when @ref names an index), config and layers,
 * each verified while it streams; blobs already in the store are not
 * downloaded again, partial ones resume.  The manifest is stored last, so a
 * stored manifest means a complete image.
 */
void
banger_registry_client_pull_ref_async (BangerRegistryClient *client, BangerImageRef *ref,
                                       BangerPullProgressFunc progress, gpointer progress_data,
                                       GDestroyNotify progress_destroy, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Pull *p;

  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (ref != NULL);
  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_registry_client_pull_ref_async);
  p = g_new0 (Pull, 1);
  g_mutex_init (&p->lock);
  p->client = g_object_ref (client);
  p->ref = banger_image_ref_ref (ref);
  p->abort = g_cancellable_new ();
  if (progress != NULL)
    {
      p->sink = g_new0 (ProgressSink, 1);
      g_atomic_ref_count_init (&p->sink->refs);
      p->sink->func = progress;
      p->sink->data = progress_data;
      p->sink->destroy = progress_destroy;
      p->sink->context = g_main_context_ref_thread_default ();
    }
  else if (progress_destroy != NULL)
    progress_destroy (progress_data);
  g_task_set_task_data (task, p, (GDestroyNotify) pull_free);
  /* the thread reports cancellation as BANGER_ERROR_CANCELLED itself */
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, pull_thread);
}

/* The public pull's progress: the ::progress signal, named by the
 * reference the caller gave. */
typedef struct
{
  BangerRegistryClient *client;
  char *reference;
} SignalSink;

static void
signal_sink_free (gpointer data)
{
  SignalSink *sig = data;

  g_object_unref (sig->client);
  g_free (sig->reference);
  g_free (sig);
}

static void
emit_progress (const BangerPullProgress *p, gpointer data)
{
  SignalSink *sig = data;

  g_signal_emit (sig->client, signals[SIGNAL_PROGRESS], 0, sig->reference, p->digest, p->index,
                 p->blob_done, p->blob_size, p->total_done, p->total_size);
}

/**
 * banger_registry_client_pull_async:
 * @client: a #BangerRegistryClient
 * @reference: an image reference (`[registry/]repository[:tag][@digest]`,
 *   Docker Hub's rules for the short forms)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the pull ends
 * @user_data: (closure callback): data for @callback
 *
 * Pulls an image into the client's #BangerBlobStore: its manifest
 * (through the index for the client's platform when @reference names an
 * index), config and layers, each verified while it streams; blobs already
 * in the store are not downloaded again, partial ones resume.  The manifest
 * is stored last, so a stored manifest means a complete image.  Progress
 * is reported through #BangerRegistryClient::progress.  A
 * malformed @reference fails with %BANGER_ERROR_INVALID_ARGUMENT without
 * any network use.
 *
 * Since: 0.2
 */
void
banger_registry_client_pull_async (BangerRegistryClient *client, const char *reference,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (BangerImageRef) ref = NULL;
  GError *error = NULL;
  SignalSink *sig;

  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (reference != NULL);
  ref = banger_image_ref_parse (reference, &error);
  if (ref == NULL)
    {
      g_autoptr (GTask) task = g_task_new (client, cancellable, callback, user_data);
      g_task_set_source_tag (task, banger_registry_client_pull_ref_async);
      g_task_return_error (task, error);
      return;
    }
  sig = g_new0 (SignalSink, 1);
  sig->client = g_object_ref (client);
  sig->reference = g_strdup (reference);
  banger_registry_client_pull_ref_async (client, ref, emit_progress, sig, signal_sink_free,
                                         cancellable, callback, user_data);
}

/**
 * banger_registry_client_pull_finish:
 * @client: a #BangerRegistryClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Errors: %BANGER_ERROR_NOT_FOUND for a reference, platform or blob the
 * registry does not have; %BANGER_ERROR_PERMISSION_DENIED when it refuses
 * access; %BANGER_ERROR_PROTOCOL for content that does not match its digest
 * (nothing of that blob is left in the store) or a malformed answer;
 * %BANGER_ERROR_UNSUPPORTED for media types banger cannot use;
 * %BANGER_ERROR_CANCELLED; %BANGER_ERROR_BUSY when the registry stayed
 * overloaded through every retry.
 *
 * Returns: (transfer full): what was pulled, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerPulledImage *
banger_registry_client_pull_finish (BangerRegistryClient *client, GAsyncResult *result,
                                    GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                            == banger_registry_client_pull_ref_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  GBytes *bytes;
  char *content_type;
  char *digest;
} ManifestResult;

static void
manifest_result_free (ManifestResult *r)
{
  g_clear_pointer (&r->bytes, g_bytes_unref);
  g_free (r->content_type);
  g_free (r->digest);
  g_free (r);
}

static void
manifest_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ManifestResult *r = g_new0 (ManifestResult, 1);
  GError *error = NULL;
  Conn c;

  conn_init (&c, source, task_data, cancellable);
  r->bytes = fetch_manifest (&c, banger_image_ref_get_reference (task_data), &r->content_type,
                             &r->digest, &error);
  conn_clear (&c);
  if (r->bytes == NULL)
    {
      manifest_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, r, (GDestroyNotify) manifest_result_free);
}

/**
 * banger_registry_client_get_manifest_async:
 * @client: a #BangerRegistryClient
 * @ref: the manifest or index to fetch
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure callback): data for @callback
 *
 * Fetches a manifest or index as the registry serves it, without storing
 * it (`banger image inspect`-style use).
 */
void
banger_registry_client_get_manifest_async (BangerRegistryClient *client, BangerImageRef *ref,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BANGER_IS_REGISTRY_CLIENT (client));
  g_return_if_fail (ref != NULL);
  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_registry_client_get_manifest_async);
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, banger_image_ref_ref (ref),
                        (GDestroyNotify) banger_image_ref_unref);
  g_task_run_in_thread (task, manifest_thread);
}

/**
 * banger_registry_client_get_manifest_finish:
 * @client: a #BangerRegistryClient
 * @result: the #GAsyncResult
 * @out_content_type: (out) (optional) (transfer full): the media type the
 *   registry sent
 * @out_digest: (out) (optional) (transfer full): the manifest's digest
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the manifest, verified against a digest
 *   reference, or %NULL with @error set (%BANGER_ERROR_NOT_FOUND for a
 *   missing reference)
 */
GBytes *
banger_registry_client_get_manifest_finish (BangerRegistryClient *client, GAsyncResult *result,
                                            char **out_content_type, char **out_digest,
                                            GError **error)
{
  ManifestResult *r;
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  if (out_content_type != NULL)
    *out_content_type = g_steal_pointer (&r->content_type);
  if (out_digest != NULL)
    *out_digest = g_steal_pointer (&r->digest);
  bytes = g_steal_pointer (&r->bytes);
  manifest_result_free (r);
  return bytes;
}
