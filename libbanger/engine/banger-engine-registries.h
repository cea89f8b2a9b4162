/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon config's [registries] group (doc/daemon.md, doc/images.md):
 * which registries are reached over plain HTTP, their mirrors, an extra CA
 * file, and where credentials come from; applied to each pull's registry
 * client. */
#pragma once

#include <glib.h>

#include "banger-registry-client.h"

G_BEGIN_DECLS

/* Bounds on what the config may list. */
#define BANGER_ENGINE_REGISTRIES_MAX 64

typedef struct
{
  GStrv insecure;      /* "host[:port]": plain HTTP allowed for these only */
  GHashTable *mirrors; /* registry ("docker.io", "host:port") -> mirror "host[:port]" */
  char *ca_file;       /* nullable: PEM CAs that replace the system's for registries */
  char *auth_file;     /* nullable: the one credentials file to read */
} BangerEngineRegistries;

BangerEngineRegistries *banger_engine_registries_new (void);
void banger_engine_registries_free (BangerEngineRegistries *r);

/* [registries] insecure=HOST[:PORT];…  mirrors=REGISTRY=HOST[:PORT];…
 * ca=PATH  auth-file=PATH.  A malformed entry is INVALID_ARGUMENT naming
 * the key. */
gboolean banger_engine_registries_load (BangerEngineRegistries *r, GKeyFile *kf,
                                        const char *path, GError **error);

/* The mirror of @registry, or NULL. */
const char *banger_engine_registries_get_mirror (const BangerEngineRegistries *r,
                                                 const char *registry);

/* Insecure hosts, the CA file and credentials onto @client.  Credentials:
 * auth_file when set (it must exist), else ~/.docker/config.json and
 * $XDG_RUNTIME_DIR/containers/auth.json, each when present (the second
 * wins for a registry both name). */
gboolean banger_engine_registries_apply (const BangerEngineRegistries *r,
                                         BangerRegistryClient *client, GError **error);

/* "host" or "host:port" with a port 1-65535 and a host of letters,
 * digits, '.', '-' (or a bracketed IPv6 address). */
gboolean banger_engine_registries_valid_host (const char *text);

G_END_DECLS
