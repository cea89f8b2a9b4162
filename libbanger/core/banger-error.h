/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BANGER_ERROR:
 *
 * The error domain of every error libbanger reports.
 *
 * Since: 0.1
 */
#define BANGER_ERROR (banger_error_quark ())

/**
 * BangerError:
 * @BANGER_ERROR_FAILED: generic failure; the message says what happened.
 * @BANGER_ERROR_INVALID_ARGUMENT: a caller-supplied value was refused
 *   (bad name, bad path, bad flags, malformed request).
 * @BANGER_ERROR_NOT_FOUND: the object (VM, image, process, file) does not exist.
 * @BANGER_ERROR_ALREADY_EXISTS: an object with that name already exists.
 * @BANGER_ERROR_PERMISSION_DENIED: the caller may not do this, or the target
 *   is not banger's (wrong owner, symlink, path escape).
 * @BANGER_ERROR_BUSY: the object is in use or in a state that forbids the
 *   operation right now; retrying later may work.
 * @BANGER_ERROR_UNSUPPORTED: this host, kernel or build cannot do it
 *   (for example no device-mapper).
 * @BANGER_ERROR_TIMED_OUT: a bounded wait ran out.
 * @BANGER_ERROR_CANCELLED: the operation was cancelled through its
 *   #GCancellable.
 * @BANGER_ERROR_PROTOCOL: a peer (daemon, helper, VMM) broke its protocol.
 * @BANGER_ERROR_LIMIT_EXCEEDED: a size, count or rate limit was hit.
 * @BANGER_ERROR_VMM: the VMM (Firecracker, QEMU) refused a request; the
 *   message carries the VMM's own words.
 * @BANGER_ERROR_HOST_KEY_MISMATCH: a guest offered an SSH host key other
 *   than the one banger recorded (or injected) for it; nothing was sent to
 *   it.  Since: 0.2
 * @BANGER_ERROR_CONFLICT: both sides changed the same thing since they last
 *   agreed (a workspace file changed on the host and in the guest); nothing
 *   was overwritten.  Since: 0.2
 *
 * Error codes in the #BANGER_ERROR domain.  Values are stable: they are never
 * renumbered, and each has a fixed name (banger_error_to_name()) used when an
 * error crosses a socket, so that the far side gets the same typed #GError.
 *
 * Since: 0.1
 */
typedef enum {
  BANGER_ERROR_FAILED = 0,
  BANGER_ERROR_INVALID_ARGUMENT = 1,
  BANGER_ERROR_NOT_FOUND = 2,
  BANGER_ERROR_ALREADY_EXISTS = 3,
  BANGER_ERROR_PERMISSION_DENIED = 4,
  BANGER_ERROR_BUSY = 5,
  BANGER_ERROR_UNSUPPORTED = 6,
  BANGER_ERROR_TIMED_OUT = 7,
  BANGER_ERROR_CANCELLED = 8,
  BANGER_ERROR_PROTOCOL = 9,
  BANGER_ERROR_LIMIT_EXCEEDED = 10,
  BANGER_ERROR_VMM = 11,
  BANGER_ERROR_HOST_KEY_MISMATCH = 12,
  BANGER_ERROR_CONFLICT = 13,
} BangerError;

BANGER_AVAILABLE_IN_0_1
GQuark banger_error_quark (void);

BANGER_AVAILABLE_IN_0_1
const char *banger_error_to_name (BangerError code);

BANGER_AVAILABLE_IN_0_1
gboolean banger_error_from_name (const char *name, BangerError *out_code);

G_END_DECLS
