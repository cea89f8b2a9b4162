/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real registry for tests (Debian's docker-registry) on loopback inside
 * a network namespace the test makes, over plain HTTP or TLS with a CA the
 * test makes (openssl); pushing blobs, manifests and images with plain
 * HTTP requests; a counting front (SoupServer) that redirects the
 * distribution API to a registry and counts what it is asked.  Used by the
 * engine's pull tests and the pull e2e test.  Root only (the namespace). */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

G_GNUC_NORETURN G_GNUC_PRINTF (1, 2) void regfix_bail (const char *format, ...);

/* unshare(CLONE_NEWNET) and lo up: this process and its threads from now. */
void regfix_enter_netns (void);
void regfix_run_or_bail (const char *const *argv);

typedef struct
{
  char *addr;     /* "127.0.0.1:5000" */
  char *base_url; /* "http://127.0.0.1:5000" or https:// */
  char *root;     /* its storage root */
  GSubprocess *proc;
  GTlsDatabase *ca; /* TLS: the CA that signed its certificate */
} RegFixture;

/* A registry named @name (its dir and config under @workdir) on @addr,
 * storing under @root (NULL: its own dir; another registry's root serves
 * what was pushed there); TLS with @cert/@key (PEM) when given, @ca kept
 * for pushes.  Bails if it does not answer within 20 s (plain HTTP:
 * /v2/; TLS: a TCP connect, so that no TLS session with it exists that a
 * later client could resume without checking its certificate). */
RegFixture *regfix_start (const char *workdir, const char *name, const char *addr,
                          const char *root, const char *cert, const char *key, GTlsDatabase *ca);
/* Plain HTTP with @auth_yaml (an "auth:" section of the registry's
 * config) added; it is up when /v2/ answers 200 or 401. */
RegFixture *regfix_start_auth (const char *workdir, const char *name, const char *addr,
                               const char *auth_yaml);
void regfix_stop (RegFixture *r);

/* A CA (ca.pem) and a server certificate for 127.0.0.1 signed by it
 * (server.pem, server.key) in @dir, made with openssl. */
void regfix_make_ca (const char *dir, char **out_ca, char **out_cert, char **out_key);

SoupSession *regfix_session (GTlsDatabase *ca);
/* Every push through @s from now carries "Authorization: @authorization"
 * (NULL: none). */
void regfix_session_set_authorization (SoupSession *s, const char *authorization);
char *regfix_push_blob (SoupSession *s, const char *base_url, const char *repo, GBytes *blob);
char *regfix_push_manifest (SoupSession *s, const char *base_url, const char *repo,
                            const char *reference, const char *media_type, const char *json);

typedef struct
{
  const char *media_type;
  GBytes *blob;
} RegLayer;

/* An OCI image manifest of @layers under @repo:@tag; @config_type NULL is
 * the OCI image config (then made from the layers), else @config_json is
 * the config.  The manifest's digest. */
char *regfix_push_image (SoupSession *s, const char *base_url, const char *repo, const char *tag,
                         const char *config_type, const char *config_json, RegLayer *layers,
                         guint n);
/* The same with the OCI image config made for @arch (linux); @tag NULL:
 * pushed by digest only. */
char *regfix_push_image_for_arch (SoupSession *s, const char *base_url, const char *repo,
                                  const char *tag, const char *arch, RegLayer *layers, guint n);

/* Flip a byte of blob @digest in @r's storage (same size). */
void regfix_corrupt_blob (RegFixture *r, const char *digest);

/* A tar+gzip of the tree at @dir (GNU tar, numeric owners). */
GBytes *regfix_tar_gz_dir (const char *dir);

/* The counting front on 127.0.0.1:@port: /v2/… answered with a 307 to
 * @target_base (after @delay_ms for manifests), /files/NAME with the
 * bytes set by regfix_front_set_file; counts every request by path. */
typedef struct _RegFront RegFront;
RegFront *regfix_front_start (guint16 port, const char *target_base, guint delay_ms);
void regfix_front_set_file (RegFront *f, const char *name, GBytes *bytes);
/* Requests whose path contains @needle so far. */
guint regfix_front_count (RegFront *f, const char *needle);
void regfix_front_reset (RegFront *f);

G_END_DECLS
