/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the host tests: a helper state over temp dirs, calling an
 * operation through the validating executor, and network namespaces made and
 * removed by the test. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-priv-executor.h"
#include "banger-priv-ops.h"

G_BEGIN_DECLS

#define HOST_TEST_OWNER_UID 65534
#define HOST_TEST_OWNER_GID 65534
/* The VM network of the test states (install config vm-network). */
#define HOST_TEST_VM_NETWORK "10.64.0.0/10"

/* A state whose runtime and state dirs are fresh temp dirs (mode 0755), the
 * owner uid 65534, cgroup root a test-private directory under cgroup2 (when
 * @with_cgroup).  Free with host_test_state_free (removes the dirs). */
BangerPrivState *host_test_state_new (gboolean with_cgroup);
void host_test_state_free (BangerPrivState *state);

/* Call @method with @params_json through banger_priv_execute (caller: root,
 * pid @caller_pid or 0). */
JsonNode *host_test_call (BangerPrivState *state, const char *method, const char *params_json,
                          GError **error);
JsonNode *host_test_call_as (BangerPrivState *state, pid_t caller_pid, const char *method,
                             const char *params_json, GError **error);
/* Call the handler directly, skipping the executor's table check (to show
 * the handler re-validates on its own). */
gboolean host_test_call_handler (BangerPrivState *state, pid_t caller_pid, const char *method,
                                 const char *params_json, GError **error);

/* Run argv, wait, return its stdout (NULL if it failed). */
char *host_test_run (const char *const *argv, int *out_status);

/* The network namespace of this test binary: made by host_test_netns_add()
 * (call from an unchecked fixture setup, in the parent), entered with
 * host_test_netns_enter() in the test, removed by host_test_netns_del(). */
void host_test_netns_add (void);
void host_test_netns_del (void);
void host_test_netns_enter (void);

gboolean host_test_is_root (void);

/* The cgroup root the states of this test binary use: fixed by
 * host_test_cgroup_setup() (unchecked fixture, in the parent) so that
 * host_test_cgroup_teardown() can kill whatever a failed test left running
 * (a failing check test exits without running its own cleanup). */
void host_test_cgroup_setup (void);
void host_test_cgroup_teardown (void);

/* The unchecked fixture of suites that launch VMMs: namespace + cgroup root,
 * torn down in reverse order. */
void host_test_vmm_fixture_setup (void);
void host_test_vmm_fixture_teardown (void);

/* ------------------------------------------------ a real bangerd-root
 * The helper binary (BANGER_TEST_HELPER) started on a socket in a fresh
 * runtime dir, with an install config naming the fresh dirs, this test's
 * cgroup root and @firecracker_path; it inherits the caller's network
 * namespace.  Stop it with host_test_helper_free (SIGTERM; SIGKILL when it
 * has not exited 5 s later — a helper stuck on a child does not — and
 * *@out_killed says so). */
typedef struct
{
  BangerPrivState *state; /* its dirs and cgroup root (not the helper's state) */
  char *config_path;
  char *socket_path;
  GSubprocess *process;
  gboolean runtime_tmpfs;
} HostTestHelper;

HostTestHelper *host_test_helper_start (const char *firecracker_path,
                                        guint max_connections_per_uid);
/* The same with @jailer_path in the install config and a tmpfs mounted on
 * the runtime dir (another filesystem than the state dir, as /run is for a
 * real install): call in a private mount namespace (the helper inherits
 * it); host_test_helper_free unmounts it. */
HostTestHelper *host_test_helper_start_jailed (const char *firecracker_path,
                                               const char *jailer_path);
void host_test_helper_free (HostTestHelper *helper, gboolean *out_killed);

/* A raw connection to the helper, made with the effective uid/gid @uid/@gid
 * (switched for the calling thread alone, around connect(), with raw
 * syscalls: SO_PEERCRED records them).  -1 on failure. */
int host_test_helper_connect (const char *socket_path, uid_t uid, gid_t gid);

/* One request on @fd; waits up to @timeout_ms for the reply.  The reply
 * envelope (transfer full), or NULL on timeout, EOF or a broken reply.
 * @out_ms (nullable) gets the time from send to reply. */
JsonObject *host_test_rpc (int fd, const char *method, const char *params_json, int timeout_ms,
                           double *out_ms);
/* The error code's wire name of a reply ("timed-out"), or NULL for a result. */
const char *host_test_rpc_error (JsonObject *reply);

G_END_DECLS
