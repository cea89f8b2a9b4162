/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * doctor: what this host and this engine can do, as a list of checks
 * (name, ok/warn/fail, a sentence).  One implementation of each check:
 * bangerd answers engine.doctor with the host checks (using its config's
 * VMM binaries) and its own (privileged backend, root-disk strategy); the
 * CLI with no daemon runs the host checks alone, from here too. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-engine-config.h"
#include "banger-engine.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

typedef enum
{
  BANGER_ENGINE_CHECK_OK = 0,
  BANGER_ENGINE_CHECK_WARN = 1, /* works, degraded (no KVM: software emulation) */
  BANGER_ENGINE_CHECK_FAIL = 2, /* a part a VM launch needs is missing */
} BangerEngineCheckStatus;

typedef struct
{
  char *name;
  BangerEngineCheckStatus status;
  char *message;
} BangerEngineCheck;

void banger_engine_check_free (BangerEngineCheck *check);
const char *banger_engine_check_status_to_string (BangerEngineCheckStatus status);
gboolean banger_engine_check_status_from_string (const char *s, BangerEngineCheckStatus *out);

/* The host's checks: kvm, tun, device-mapper, cgroup2, firecracker, jailer,
 * qemu, mkfs.ext4, helper-unit, helper-socket.  The VMM binaries are looked
 * up at the given paths, or (NULL) in PATH.  BangerEngineCheck*, owning. */
GPtrArray *banger_engine_doctor_host (const char *firecracker_path, const char *jailer_path,
                                      const char *qemu_path);

/* The host's checks as this engine sees them (its config's binaries), then
 * the engine's own: backend (the privileged backend answers), root-disks
 * (the root-disk strategy for its state dir). */
GPtrArray *banger_engine_doctor (BangerEngine *self, GCancellable *cancellable);

/* VMs can run exactly when no check failed. */
gboolean banger_engine_doctor_can_run_vms (GPtrArray *checks);

/* engine.doctor: {checks: [{name, status, message}], can_run_vms}. */
gboolean banger_engine_op_doctor (BangerPrivState *state, const BangerPeerCred *caller,
                                  JsonObject *params, JsonBuilder *result,
                                  GCancellable *cancellable, GError **error);

/* The host-dns check's message (banger-engine-doctor-dns.c): how this host
 * resolves <vm>.<domain> for @config; @out_ok FALSE when it does not yet. */
char *banger_engine_doctor_dns (const BangerEngineConfig *config, gboolean *out_ok);
/* The same as a check. */
BangerEngineCheck *banger_engine_doctor_dns_check (const BangerEngineConfig *config);

G_END_DECLS
