/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the engine benchmarks (bench-create-*, bench-daemon-rss) share: a
 * bangerd in a network namespace the bench makes and removes (the e2e kit,
 * tests/e2e/kit/, whose cleanup also runs when a bench dies), reached
 * through BangerClient, with the test guest's kernel and rootfs added, and
 * small statistics and /proc readers.  Root only.
 *
 * Two deployments, as the e2e test runs them:
 *   root    bangerd as root with the in-process executor (the README's)
 *   helper  bangerd as an unprivileged owner (uid 65534) talking to a real
 *           bangerd-root (the guest kit's, tests/guest/)
 * $BENCH_BANGERD names another bangerd binary (an ASan build, say).
 * With fake_guests, Firecracker is the fake (tests/fakes/firecracker/,
 * configured as [vmm] firecracker=, and in the helper's install config),
 * every address of the VM subnet is local to the namespace, and an SSH
 * stand-in (bench-ssh-standin.h) answers on port 22 for the guests the
 * fake does not boot, so creates reach `running`. */
#pragma once

#include <banger.h>

#include "banger-e2e-kit.h"
#include "bench-ssh-standin.h"

G_BEGIN_DECLS

typedef enum
{
  BENCH_DEPLOY_ROOT,
  BENCH_DEPLOY_HELPER,
} BenchDeploy;

typedef struct
{
  BenchDeploy deploy;
  gboolean fake_guests;
  BangerE2eEnv *env; /* the namespace, bangerd, its dirs */
  /* env's, for short: */
  const char *ns;  /* the network namespace */
  const char *dir; /* scratch (config, log, guest files, …) */
  const char *state_dir;
  const char *run_dir;
  const char *socket;
  const char *conf;
  const char *log;         /* bangerd's stderr */
  const char *cgroup_root; /* where the VMs' cgroups are */
  const char *guest_dir;   /* the test guest (tests/guest/cache/…) */
  BangerKitNetns *kit;     /* helper deployment */
  char *subnet;
  char *fake_fc;        /* the fake's absolute path */
  BenchSshStandin *ssh; /* fake_guests */
  BangerClient *client;
} BenchEngine;

/* Builds (or finds) the test guest, makes the namespace, starts bangerd,
 * adds kernel "k" and image "guest" through the client. */
BenchEngine *bench_engine_new (const char *prefix, BenchDeploy deploy, gboolean fake_guests,
                               GError **error);
/* The same, with @extra_conf (nullable) appended to bangerd's config file
 * (for example "[guest]\nssh-resend-ms=0\n"). */
BenchEngine *bench_engine_new_with_conf (const char *prefix, BenchDeploy deploy,
                                         gboolean fake_guests, const char *extra_conf,
                                         GError **error);
/* Stops bangerd, kills whatever VMs are left, removes the namespace, the
 * cgroups and the scratch dir. */
void bench_engine_free (BenchEngine *e);
/* A benchmark's fatal error: prints "@prog: @what: <error>", the tail of
 * bangerd's log when it is not running any more, tears down the live
 * environment (if any) and exits 1. */
G_NORETURN void bench_engine_die (const char *prog, const char *what, const GError *error);

/* Blocking BangerClient calls (the default main context is iterated). */
BangerVmInfo *bench_engine_create (BenchEngine *e, BangerClient *client, const char *name,
                                   gboolean firecracker, GError **error);
gboolean bench_engine_delete (BenchEngine *e, const char *name, GError **error);
GPtrArray *bench_engine_list (BenchEngine *e, GError **error); /* of BangerVmInfo */

GPid bench_engine_daemon_pid (BenchEngine *e);
GPid bench_engine_helper_pid (BenchEngine *e); /* 0: no helper */

/* The step times bangerd logged ("op …: NAME: step S done in T s") for VMs
 * whose name starts with @prefix: step name -> GArray of double seconds,
 * and the step names in the order first seen (@out_order). */
GHashTable *bench_engine_read_steps (BenchEngine *e, const char *prefix, GPtrArray **out_order,
                                     GError **error);

/* statistics on a GArray of double (sorted in place) */
double bench_median (GArray *values);
double bench_p95 (GArray *values); /* nearest rank */

/* /proc/<pid>/stat: own utime+stime and waited-for children's, seconds */
gboolean bench_proc_cpu (GPid pid, double *out_own_s, double *out_children_s, GError **error);
/* /proc/<pid>/status: a "Vm…:" field in KiB */
gboolean bench_proc_status_kib (GPid pid, const char *field, guint64 *out_kib, GError **error);
/* open descriptors of @pid, and how many of them are TCP sockets in
 * CLOSE_WAIT (the peer closed, this side never did) */
guint bench_proc_count_fds (GPid pid, guint *out_tcp_close_wait);
/* /proc/loadavg, first three fields */
char *bench_loadavg (void);

G_END_DECLS
