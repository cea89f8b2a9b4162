/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The registry that Docker Hub short names ("alpine") live in, and the host
 * that serves its distribution API. */
#define BANGER_DOCKER_HUB_REGISTRY "docker.io"
#define BANGER_DOCKER_HUB_ENDPOINT "registry-1.docker.io"

typedef struct _BangerImageRef BangerImageRef;

#define BANGER_TYPE_IMAGE_REF (banger_image_ref_get_type ())
GType banger_image_ref_get_type (void) G_GNUC_CONST;

BangerImageRef *banger_image_ref_parse (const char *text, GError **error);
BangerImageRef *banger_image_ref_ref (BangerImageRef *ref);
void banger_image_ref_unref (BangerImageRef *ref);

const char *banger_image_ref_get_registry (const BangerImageRef *ref);
const char *banger_image_ref_get_endpoint (const BangerImageRef *ref);
const char *banger_image_ref_get_repository (const BangerImageRef *ref);
const char *banger_image_ref_get_tag (const BangerImageRef *ref);
const char *banger_image_ref_get_digest (const BangerImageRef *ref);
const char *banger_image_ref_get_reference (const BangerImageRef *ref);
char *banger_image_ref_to_string (const BangerImageRef *ref);
BangerImageRef *banger_image_ref_with_digest (const BangerImageRef *ref, const char *digest,
                                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerImageRef, banger_image_ref_unref)

G_END_DECLS
