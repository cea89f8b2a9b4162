/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The e2e kit: what the end-to-end tests (tests/e2e/) and the engine
 * benchmarks (bench/) share to run a real bangerd and drive it: a network
 * namespace and a cgroup root of their own, a scratch dir with
 * bangerd.conf, bangerd started in the namespace (as root with the
 * in-process executor, or as the guest kit's unprivileged owner with its
 * bangerd-root), waiting for its socket, the banger CLI run against it, and
 * a teardown that always kills and removes what was made
 * (banger-e2e-cleanup.h).  GError-style; the libcheck side is
 * tests/e2e/banger-e2e-test.h.  Not part of the library.  Root only. */
#pragma once

#include <stdarg.h>

#include <banger.h>
#include <gio/gio.h>

#include "banger-guest-kit.h"

G_BEGIN_DECLS

typedef enum
{
  /* bangerd as root (the in-process executor) in a namespace of the
   * env's own, its VMs under a cgroup root of the env's own */
  BANGER_E2E_DEPLOY_ROOT,
  /* bangerd as the guest kit's owner (uid 65534) in the kit's namespace,
   * every privileged step through the kit's bangerd-root (its cgroup root) */
  BANGER_E2E_DEPLOY_HELPER,
  /* bangerd as root in this process's network namespace (which the caller
   * made, e.g. with unshare), its VMs under a cgroup root of the env's own */
  BANGER_E2E_DEPLOY_HERE,
} BangerE2eDeploy;

typedef struct
{
  const char *prefix; /* names: namespace <prefix>-<pid>, dir <tmp>/<prefix>-XXXXXX,
                       * cgroup root <cgroup2>/<prefix>-<pid>.slice (HELPER: the kit's) */
  BangerE2eDeploy deploy;
  const char *subnet;      /* [network] subnet= */
  const char *extra_conf;  /* appended to bangerd.conf; nullable */
  gboolean private_home;   /* HOME=<dir> for bangerd (no credentials of the machine's user);
                            * HELPER: always HOME=<state dir> */
  gboolean find_guest;     /* build or find the test guest (guest) */
  guint listen_timeout_ms; /* for the socket to appear; 0: 5000 */
  const char *helper_install; /* HELPER: bangerd talks to a bangerd-root of this install
                               * (banger_kit_netns_add_helper), not the kit's, so its
                               * reconcile never takes the kit's tap for an orphan;
                               * NULL: the kit's helper */
} BangerE2eOptions;

typedef struct
{
  BangerE2eDeploy deploy;
  char *ns;            /* the network namespace; NULL with HERE */
  int ns_fd;           /* /run/netns/<ns> (O_CLOEXEC), -1 with HERE */
  char *dir;           /* scratch: bangerd.conf, bangerd.log; removed at the end */
  char *state_dir;     /* --state-dir */
  char *run_dir;       /* --runtime-dir */
  char *socket;        /* <run_dir>/bangerd.sock */
  char *conf;          /* bangerd.conf */
  char *log;           /* bangerd's stderr */
  char *cgroup_root;   /* where the VMs' cgroups are */
  char *guest;         /* the test guest's dir (vmlinuz, initrd.img, rootfs.ext4, …) or NULL */
  const char *bangerd; /* the binary: $BENCH_BANGERD, else the one this build made */
  gboolean cli_in_ns;  /* run the CLI inside the namespace (vm ssh execs ssh there) */
  guint listen_timeout_ms;
  gboolean private_home;
  BangerKitNetns *kit; /* HELPER */
  const BangerKitHelper *helper; /* HELPER with helper_install: bangerd's (owned by kit) */
  GSubprocess *daemon;
  pid_t owner; /* the process that made it */
} BangerE2eEnv;

/* Once per process, before any fork: the cleanup's owner, a sweep at exit
 * (see banger-e2e-cleanup.h).  banger_e2e_env_new calls it too. */
void banger_e2e_kit_init (void);
/* Free this process's live env (stopping its daemon) and sweep what any
 * env of this run left; see banger_e2e_cleanup_sweep. */
void banger_e2e_kit_sweep (void);

/* Sweep what an earlier env left, then make the namespace (lo up), the
 * cgroup root's name, the scratch dirs and bangerd.conf; no daemon yet.
 * One env at a time per run: a new one sweeps the old. */
BangerE2eEnv *banger_e2e_env_new (const BangerE2eOptions *options, GError **error);
/* Start bangerd (in the namespace, dying with this process) and wait for
 * its socket (bounded; fails early when it exits). */
gboolean banger_e2e_env_start_daemon (BangerE2eEnv *env, GError **error);
/* SIGKILL bangerd (no clean-up of its own), reap it, remove its socket. */
void banger_e2e_env_kill_daemon (BangerE2eEnv *env);
/* SIGTERM bangerd and wait for it (SIGKILL after 10 s). */
void banger_e2e_env_stop_daemon (BangerE2eEnv *env);
GPid banger_e2e_env_daemon_pid (BangerE2eEnv *env); /* 0: not running */
/* Stop bangerd, destroy the kit's namespace (HELPER), kill and remove
 * everything the env made (the VMs included); free. */
void banger_e2e_env_free (BangerE2eEnv *env);

/* "banger [--json…] --socket=<socket> ARGS…" (NULL-terminated) from the
 * NULL-terminated arguments in @ap: leading "--json" stay global options,
 * before --socket. */
GPtrArray *banger_e2e_cli_argv_va (BangerE2eEnv *env, va_list ap);
/* The same from an array. */
GPtrArray *banger_e2e_cli_argv (BangerE2eEnv *env, const char *const *args);
/* Run @argv (argv[0] looked up in PATH) and wait: inside the namespace when
 * @in_ns; stdout/stderr in @out/@err (nullable: stdout is then dropped,
 * stderr inherited).  Its exit status, or
 * 128 + the signal that ended it; -1 with @error when it could not run. */
int banger_e2e_env_run (BangerE2eEnv *env, gboolean in_ns, const char *const *argv, char **out,
                        char **err, GError **error);

/* The guest's vmlinuz, initrd.img and rootfs.ext4 in @guest (each
 * nullable), and its kernel-release (stripped). */
void banger_e2e_guest_files (const char *guest, char **kernel, char **initrd, char **rootfs);
char *banger_e2e_guest_release (const char *guest, GError **error);
/* The guest's files where bangerd can read them: in the helper deployment
 * (an unprivileged owner) sparse copies in env->dir, 0644; else @guest's. */
gboolean banger_e2e_env_stage_guest (BangerE2eEnv *env, const char *guest, char **kernel,
                                     char **initrd, char **rootfs, GError **error);

/* Blocking on an async call: banger_e2e_async_done as its callback with a
 * GAsyncResult ** slot (NULL) as user data; banger_e2e_async_wait iterates
 * the default main context until the slot is set, and returns it. */
void banger_e2e_async_done (GObject *source, GAsyncResult *result, gpointer slot);
GAsyncResult *banger_e2e_async_wait (GAsyncResult **slot);
/* Kernel "k" and image "guest" from these files, through @client. */
gboolean banger_e2e_client_add_guest (BangerClient *client, const char *kernel, const char *initrd,
                                      const char *rootfs, GError **error);

G_END_DECLS
