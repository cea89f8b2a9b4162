/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The memory a restore of a Firecracker Diff snapshot loads (see
 * banger-engine-snapshot.h, doc/engine.md "Diff snapshots"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-engine-snapshot.h"
#include "banger-error-private.h"
#include "banger-error.h"
#include "banger-sparse-copy.h"

gboolean
banger_engine_memory_layer (const char *dest, const char *const *layers, GCancellable *cancellable,
                            GError **error)
{
  struct stat dst;
  int out;

  out = open (dest, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (out < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the memory copy '%s'", dest);
  if (fstat (out, &dst) < 0)
    {
      int errsv = errno;
      close (out);
      return banger_set_error_from_errno (error, errsv, "Cannot inspect '%s'", dest);
    }
  for (guint i = 0; layers[i] != NULL; i++)
    {
      struct stat st;
      int in = open (layers[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      gboolean ok;

      if (in < 0)
        {
          int errsv = errno;
          close (out);
          return banger_set_error_from_errno (error, errsv, "Cannot open the Diff memory '%s'",
                                              layers[i]);
        }
      if (fstat (in, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size != dst.st_size)
        {
          close (in);
          close (out);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The Diff memory '%s' is not a file of the base memory's size "
                       "(%" G_GINT64_FORMAT " bytes)",
                       layers[i], (gint64)dst.st_size);
          return FALSE;
        }
      /* only its data regions (the pages dirtied since the snapshot
       * before it), at their offsets: the holes leave the base's pages */
      ok = banger_sparse_copy (in, out, (guint64)st.st_size, BANGER_SPARSE_COPY_NONE, layers[i],
                               NULL, NULL, NULL, cancellable, error);
      close (in);
      if (!ok)
        {
          close (out);
          return FALSE;
        }
    }
  if (fsync (out) < 0)
    {
      int errsv = errno;
      close (out);
      return banger_set_error_from_errno (error, errsv, "Cannot write '%s'", dest);
    }
  close (out);
  return TRUE;
}
