/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test registry fixture (see registry-fixture.h). */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "registry-fixture.h"

#ifdef REGFIX_PUBLIC_ONLY
/* Built into a test that links only libbanger-1.so (tests/image/
 * test-public-pull.c): the two bits of the library's private API the
 * fixture uses, from GLib. */
#define BANGER_DIGEST_PREFIX "sha256:"
#define BANGER_OCI_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
static char *
banger_digest_of_bytes (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  return g_strconcat (BANGER_DIGEST_PREFIX, hex, NULL);
}
#else
#include "banger-digest.h"
#include "banger-oci-manifest.h"
#endif

void
regfix_bail (const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_print ("Bail out! %s\n", msg);
  exit (EXIT_FAILURE);
}

void
regfix_enter_netns (void)
{
  struct ifreq ifr = { 0 };
  int fd;

  if (unshare (CLONE_NEWNET) < 0)
    regfix_bail ("cannot make a network namespace: %s", g_strerror (errno));
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_strlcpy (ifr.ifr_name, "lo", IFNAMSIZ);
  if (fd < 0 || ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    regfix_bail ("cannot read the flags of lo: %s", g_strerror (errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    regfix_bail ("cannot bring lo up: %s", g_strerror (errno));
  close (fd);
}

void
regfix_run_or_bail (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    regfix_bail ("%s failed: %s", argv[0], error ? error->message : err);
}

void
regfix_make_ca (const char *dir, char **out_ca, char **out_cert, char **out_key)
{
  g_autofree char *ca_key = g_build_filename (dir, "ca.key", NULL);
  char *ca = g_build_filename (dir, "ca.pem", NULL);
  char *cert = g_build_filename (dir, "server.pem", NULL);
  char *key = g_build_filename (dir, "server.key", NULL);
  const char *mk_ca[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          ca_key, "-out", ca, "-days", "2", "-subj", "/CN=banger-test-ca",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                          "keyUsage=critical,keyCertSign", NULL };
  const char *mk_srv[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-CA", ca,
                           "-CAkey", ca_key, "-addext", "subjectAltName=IP:127.0.0.1", "-addext",
                           "basicConstraints=CA:FALSE", NULL };

  regfix_run_or_bail (mk_ca);
  regfix_run_or_bail (mk_srv);
  *out_ca = ca;
  *out_cert = cert;
  *out_key = key;
}

SoupSession *
regfix_session (GTlsDatabase *ca)
{
  SoupSession *s = soup_session_new ();

  if (ca != NULL)
    soup_session_set_tls_database (s, ca);
  return s;
}

#define AUTHORIZATION_KEY "regfix-authorization"

void
regfix_session_set_authorization (SoupSession *s, const char *authorization)
{
  g_object_set_data_full (G_OBJECT (s), AUTHORIZATION_KEY, g_strdup (authorization), g_free);
}

static RegFixture *
start (const char *workdir, const char *name, const char *addr, const char *root, const char *cert,
       const char *key, GTlsDatabase *ca, const char *auth_yaml)
{
  RegFixture *r = g_new0 (RegFixture, 1);
  g_autofree char *config_name = g_strconcat (name, ".yml", NULL);
  g_autofree char *log_name = g_strconcat (name, ".log", NULL);
  g_autofree char *config = g_build_filename (workdir, config_name, NULL);
  g_autofree char *log = g_build_filename (workdir, log_name, NULL);
  g_autofree char *tls = cert ? g_strdup_printf ("  tls:\n    certificate: %s\n    key: %s\n",
                                                 cert, key)
                              : g_strdup ("");
  g_autofree char *yaml = NULL;
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupSession) session = regfix_session (ca);
  g_autofree char *ping = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  r->addr = g_strdup (addr);
  r->base_url = g_strdup_printf ("%s://%s", cert ? "https" : "http", addr);
  r->root = root ? g_strdup (root) : g_build_filename (workdir, name, NULL);
  r->ca = ca ? g_object_ref (ca) : NULL;
  yaml = g_strdup_printf ("version: 0.1\n"
                          "log:\n  level: error\n  accesslog:\n    disabled: true\n"
                          "storage:\n  filesystem:\n    rootdirectory: %s\n"
                          "  delete:\n    enabled: true\n"
                          "http:\n  addr: %s\n%s%s",
                          r->root, addr, tls, auth_yaml ? auth_yaml : "");
  if (!g_file_set_contents (config, yaml, -1, NULL))
    regfix_bail ("cannot write %s", config);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  r->proc = g_subprocess_launcher_spawn (launcher, &error, "docker-registry", "serve", config,
                                         NULL);
  if (r->proc == NULL)
    regfix_bail ("cannot start docker-registry: %s", error->message);
  ping = g_strdup_printf ("%s/v2/", r->base_url);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", ping);
      g_autoptr (GBytes) body = NULL;
      if (cert != NULL)
        {
          g_autoptr (GSocketClient) sc = g_socket_client_new ();
          g_autoptr (GSocketConnection) conn
              = g_socket_client_connect_to_host (sc, addr, 0, NULL, NULL);
          if (conn != NULL)
            return r;
          g_usleep (100 * 1000);
          continue;
        }
      body = soup_session_send_and_read (session, msg, NULL, NULL);
      if (body != NULL
          && (soup_message_get_status (msg) == 200
              || (auth_yaml != NULL && soup_message_get_status (msg) == 401)))
        return r;
      g_usleep (100 * 1000);
    }
  regfix_bail ("docker-registry on %s did not come up (see %s)", addr, log);
}

RegFixture *
regfix_start (const char *workdir, const char *name, const char *addr, const char *root,
              const char *cert, const char *key, GTlsDatabase *ca)
{
  return start (workdir, name, addr, root, cert, key, ca, NULL);
}

RegFixture *
regfix_start_auth (const char *workdir, const char *name, const char *addr, const char *auth_yaml)
{
  return start (workdir, name, addr, NULL, NULL, NULL, NULL, auth_yaml);
}

void
regfix_stop (RegFixture *r)
{
  if (r == NULL)
    return;
  g_subprocess_force_exit (r->proc);
  g_subprocess_wait (r->proc, NULL, NULL);
  g_object_unref (r->proc);
  g_clear_object (&r->ca);
  g_free (r->addr);
  g_free (r->base_url);
  g_free (r->root);
  g_free (r);
}

static void
http_send (SoupSession *session, const char *method, const char *url, const char *content_type,
           GBytes *body, guint expect, char **out_location)
{
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply = NULL;

  const char *authorization = g_object_get_data (G_OBJECT (session), AUTHORIZATION_KEY);

  if (msg == NULL)
    regfix_bail ("bad URL %s", url);
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  reply = soup_session_send_and_read (session, msg, NULL, &error);
  if (reply == NULL || soup_message_get_status (msg) != expect)
    regfix_bail ("%s %s: HTTP %u %s", method, url, soup_message_get_status (msg),
                 error ? error->message : "");
  if (out_location != NULL)
    {
      const char *loc
          = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
      g_autoptr (GUri) next
          = g_uri_parse_relative (soup_message_get_uri (msg), loc, G_URI_FLAGS_ENCODED, NULL);
      *out_location = g_uri_to_string (next);
    }
}

char *
regfix_push_blob (SoupSession *s, const char *base_url, const char *repo, GBytes *blob)
{
  g_autofree char *start = g_strdup_printf ("%s/v2/%s/blobs/uploads/", base_url, repo);
  g_autofree char *location = NULL;
  g_autofree char *put = NULL;
  char *digest = banger_digest_of_bytes (blob);

  http_send (s, "POST", start, NULL, NULL, 202, &location);
  put = g_strdup_printf ("%s%sdigest=%s", location, strchr (location, '?') ? "&" : "?", digest);
  http_send (s, "PUT", put, "application/octet-stream", blob, 201, NULL);
  return digest;
}

char *
regfix_push_manifest (SoupSession *s, const char *base_url, const char *repo,
                      const char *reference, const char *media_type, const char *json)
{
  g_autoptr (GBytes) bytes = g_bytes_new (json, strlen (json));
  g_autofree char *digest = banger_digest_of_bytes (bytes);
  g_autofree char *url = g_strdup_printf ("%s/v2/%s/manifests/%s", base_url, repo,
                                          reference ? reference : digest);

  http_send (s, "PUT", url, media_type, bytes, 201, NULL);
  return g_steal_pointer (&digest);
}

static char *
push_image (SoupSession *s, const char *base_url, const char *repo, const char *tag,
            const char *config_type, const char *config_json, const char *arch, RegLayer *layers,
            guint n)
{
  g_autoptr (GString) diff_ids = g_string_new (NULL);
  g_autoptr (GString) layer_json = g_string_new (NULL);
  g_autofree char *config = NULL;
  g_autofree char *config_digest = NULL;
  g_autofree char *manifest = NULL;
  g_autoptr (GBytes) config_bytes = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *d = regfix_push_blob (s, base_url, repo, layers[i].blob);
      g_string_append_printf (diff_ids, "%s\"%s\"", i ? "," : "", d);
      g_string_append_printf (layer_json, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
                              i ? "," : "", layers[i].media_type, d,
                              g_bytes_get_size (layers[i].blob));
    }
  if (config_type == NULL)
    config = g_strdup_printf ("{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{},"
                              "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                              arch, diff_ids->str);
  else
    config = g_strdup (config_json);
  config_bytes = g_bytes_new (config, strlen (config));
  config_digest = regfix_push_blob (s, base_url, repo, config_bytes);
  manifest = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" BANGER_OCI_MEDIA_MANIFEST "\","
      "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
      config_type ? config_type : "application/vnd.oci.image.config.v1+json", config_digest,
      strlen (config), layer_json->str);
  return regfix_push_manifest (s, base_url, repo, tag, BANGER_OCI_MEDIA_MANIFEST, manifest);
}

char *
regfix_push_image (SoupSession *s, const char *base_url, const char *repo, const char *tag,
                   const char *config_type, const char *config_json, RegLayer *layers, guint n)
{
  return push_image (s, base_url, repo, tag, config_type, config_json, "amd64", layers, n);
}

char *
regfix_push_image_for_arch (SoupSession *s, const char *base_url, const char *repo, const char *tag,
                            const char *arch, RegLayer *layers, guint n)
{
  return push_image (s, base_url, repo, tag, NULL, NULL, arch, layers, n);
}

void
regfix_corrupt_blob (RegFixture *r, const char *digest)
{
  const char *hex = digest + strlen (BANGER_DIGEST_PREFIX);
  g_autofree char *path = g_strdup_printf ("%s/docker/registry/v2/blobs/sha256/%.2s/%s/data",
                                           r->root, hex, hex);
  g_autofree char *content = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &content, &len, NULL) || len < 40)
    regfix_bail ("the pushed blob is not at %s", path);
  content[len - 30] ^= 0x55;
  if (!g_file_set_contents (path, content, (gssize)len, NULL))
    regfix_bail ("cannot damage %s", path);
}

GBytes *
regfix_tar_gz_dir (const char *dir)
{
  g_autofree char *out = NULL;
  g_autofree char *file = NULL;
  char *data = NULL;
  gsize len = 0;
  int fd = g_file_open_tmp ("regfix-XXXXXX.tar.gz", &file, NULL);
  const char *argv[] = { "tar", "--numeric-owner", "-C", dir, "-czf", file, ".", NULL };

  if (fd < 0)
    regfix_bail ("no temporary file");
  close (fd);
  regfix_run_or_bail (argv);
  if (!g_file_get_contents (file, &data, &len, NULL))
    regfix_bail ("cannot read %s", file);
  unlink (file);
  return g_bytes_new_take (data, len);
}

/* ------------------------------------------------------------ the front */

struct _RegFront
{
  GMutex lock;
  GHashTable *counts; /* path -> count */
  GHashTable *files;  /* name -> GBytes */
  char *target;
  guint delay_ms;
  guint16 port;
  GCond ready;
  gboolean listening;
};

static void
front_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  RegFront *f = data;
  GBytes *file = NULL;

  g_mutex_lock (&f->lock);
  g_hash_table_replace (f->counts, g_strdup (path),
                        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (f->counts, path))
                                          + 1));
  if (g_str_has_prefix (path, "/files/"))
    file = g_hash_table_lookup (f->files, path + strlen ("/files/"));
  if (file != NULL)
    g_bytes_ref (file);
  g_mutex_unlock (&f->lock);

  if (g_str_has_prefix (path, "/files/"))
    {
      if (file == NULL)
        soup_server_message_set_status (msg, 404, NULL);
      else
        {
          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                            g_bytes_get_data (file, NULL),
                                            g_bytes_get_size (file));
          g_bytes_unref (file);
        }
      return;
    }
  if (g_str_has_prefix (path, "/v2/"))
    {
      g_autofree char *location = g_strconcat (f->target, path, NULL);
      if (strstr (path, "/manifests/") != NULL && f->delay_ms > 0)
        g_usleep (f->delay_ms * 1000);
      soup_server_message_set_redirect (msg, 307, location);
      return;
    }
  soup_server_message_set_status (msg, 404, NULL);
}

static gpointer
front_thread (gpointer data)
{
  RegFront *f = data;
  GMainContext *ctx = g_main_context_new ();
  GMainLoop *loop = g_main_loop_new (ctx, FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, f->port);
  SoupServer *server;

  g_main_context_push_thread_default (ctx);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, front_handler, f, NULL);
  if (!soup_server_listen (server, addr, 0, &error))
    regfix_bail ("the front cannot listen: %s", error->message);
  g_mutex_lock (&f->lock);
  f->listening = TRUE;
  g_cond_broadcast (&f->ready);
  g_mutex_unlock (&f->lock);
  g_main_loop_run (loop); /* until the process exits */
  return NULL;
}

RegFront *
regfix_front_start (guint16 port, const char *target_base, guint delay_ms)
{
  RegFront *f = g_new0 (RegFront, 1);

  g_mutex_init (&f->lock);
  g_cond_init (&f->ready);
  f->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
  f->target = g_strdup (target_base);
  f->delay_ms = delay_ms;
  f->port = port;
  g_thread_unref (g_thread_new ("regfix-front", front_thread, f));
  g_mutex_lock (&f->lock);
  while (!f->listening)
    g_cond_wait (&f->ready, &f->lock);
  g_mutex_unlock (&f->lock);
  return f;
}

void
regfix_front_set_file (RegFront *f, const char *name, GBytes *bytes)
{
  g_mutex_lock (&f->lock);
  g_hash_table_replace (f->files, g_strdup (name), g_bytes_ref (bytes));
  g_mutex_unlock (&f->lock);
}

guint
regfix_front_count (RegFront *f, const char *needle)
{
  GHashTableIter it;
  gpointer k, v;
  guint n = 0;

  g_mutex_lock (&f->lock);
  g_hash_table_iter_init (&it, f->counts);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (strstr (k, needle) != NULL)
      n += GPOINTER_TO_UINT (v);
  g_mutex_unlock (&f->lock);
  return n;
}

void
regfix_front_reset (RegFront *f)
{
  g_mutex_lock (&f->lock);
  g_hash_table_remove_all (f->counts);
  g_mutex_unlock (&f->lock);
}
