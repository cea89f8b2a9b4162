/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's pull service (doc/engine.md "Pulls", doc/images.md): images
 * and kernels from OCI registries (kernels also from a URL with a sha256),
 * into the engine's content store <state>/oci and then its images/ and
 * kernels/ dirs; the same reference pulled twice at once is fetched once;
 * progress goes to one engine-wide callback (the event stream's feed). */
#pragma once

#include "banger-engine.h"
#include "banger-store-image.h"
#include "banger-store-kernel.h"

G_BEGIN_DECLS

/* The media type of a banger kernel artifact's config (doc/images.md). */
#define BANGER_KERNEL_ARTIFACT_CONFIG "application/vnd.banger.kernel.config.v1+json"
/* Bounds on a pulled kernel's files. */
#define BANGER_KERNEL_PULL_MAX_KERNEL (256 * 1024 * 1024)
#define BANGER_KERNEL_PULL_MAX_INITRD (G_GUINT64_CONSTANT (1024) * 1024 * 1024)

typedef enum
{
  BANGER_ENGINE_PULL_RESOLVE,  /* asking the registry for the manifest */
  BANGER_ENGINE_PULL_DOWNLOAD, /* a blob's bytes (blob, index, blob_done/size, totals) */
  BANGER_ENGINE_PULL_UNPACK,   /* layers into a tree, then ext4 (images) or files (kernels) */
  BANGER_ENGINE_PULL_DONE,
} BangerEnginePullPhase;

const char *banger_engine_pull_phase_to_string (BangerEnginePullPhase phase);

/* One progress report.  Strings are borrowed for the call. */
typedef struct
{
  const char *op_id;   /* the operation it belongs to (nullable) */
  const char *ref;     /* the normalised reference or URL being pulled */
  BangerEnginePullPhase phase;
  const char *blob;    /* DOWNLOAD: the blob's digest; else NULL */
  guint index;         /* DOWNLOAD: 0 = config, 1.. = layers */
  guint64 blob_done;
  guint64 blob_size;
  guint64 total_done;  /* over config and layers (a URL: the file) */
  guint64 total_size;  /* 0 while unknown */
  gboolean joined;     /* this operation waits on another's fetch of the same ref */
} BangerEngineProgress;

/* Called in the thread doing the work, for every report of every
 * operation (at least every 256 KiB per blob); must be thread-safe and
 * quick.  A joined operation gets the fetching one's download reports under
 * its own op_id. */
typedef void (*BangerEngineProgressFunc) (const BangerEngineProgress *progress,
                                          gpointer user_data);

/* Installs the one engine-wide progress callback (replacing the last). */
void banger_engine_set_progress_func (BangerEngine *self, BangerEngineProgressFunc func,
                                      gpointer user_data, GDestroyNotify destroy);

/* Pull the image @ref into the content store and build its ext4 (sized
 * to content plus headroom, or @size_bytes) as image @name (NULL: made
 * from the reference, "alpine-3.19").  An image of that name pulled from
 * the same reference and still at the registry's digest is returned as it
 * is; one from elsewhere is ALREADY_EXISTS. */
BangerStoreImage *banger_engine_image_pull (BangerEngine *self, const char *ref, const char *name,
                                            guint64 size_bytes, const char *op_id,
                                            GCancellable *cancellable, GError **error);

/* Pull a kernel: an OCI kernel artifact @source, or an https:// URL (http://
 * for a [registries] insecure host) whose content must hash to @sha256
 * (64 hex digits; required for URLs, refused for references). */
BangerStoreKernel *banger_engine_kernel_pull (BangerEngine *self, const char *source,
                                              const char *name, const char *sha256,
                                              const char *op_id, GCancellable *cancellable,
                                              GError **error);

/* Remove every blob no image or kernel refers to (and stale partial
 * downloads); waits for pulls in progress. */
gboolean banger_engine_image_prune (BangerEngine *self, guint *out_removed, guint64 *out_bytes,
                                    const char *op_id, GError **error);

/* vm.create's image argument: a local image name as it is; else, when it
 * parses as a reference, the image pulled from it before (by ref), else a
 * pull of it now (as a container runtime does).  The image's name. */
char *banger_engine_image_resolve (BangerEngine *self, const char *image, const char *op_id,
                                   GCancellable *cancellable, GError **error);

/* The default image name for @ref: the repository's last component, '-',
 * the tag (or the digest's first 12 hex digits). */
char *banger_engine_pull_default_name (const char *ref, GError **error);

/* Insides, for banger-engine.c. */
typedef struct _BangerEnginePulls BangerEnginePulls;
BangerEnginePulls *banger_engine_pulls_new (void);
void banger_engine_pulls_free (BangerEnginePulls *pulls);

G_END_DECLS
