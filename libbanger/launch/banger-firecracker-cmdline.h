/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker command line, direct or through the jailer: the one
 * builder, used by the Firecracker driver's direct launcher (vmm/) and by
 * priv.launch_vmm in the root helper (host/).
 *
 *   direct:  firecracker --api-sock <sock> --id <vm>
 *   jailer:  jailer --id <vm> --exec-file <firecracker> --uid U --gid G
 *              --cgroup-version 2 --chroot-base-dir <base> [--netns <path>]
 *              [--parent-cgroup <rel>] [--cgroup k=v]... [--resource-limit
 *              fsize=N] [--resource-limit no-file=N] [--new-pid-ns]
 *              -- --api-sock <sock as Firecracker sees it>
 *
 * Never --daemonize: banger keeps stdout and stderr in the VM's log and
 * watches the process through its pidfd.  doc/vmm.md says which options the
 * helper uses and why. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *jailer_path;   /* the jailer binary (absolute) */
  char *chroot_base;   /* --chroot-base-dir; default /srv/jailer */
  guint uid;           /* --uid / --gid: what Firecracker runs as */
  guint gid;
  char *netns;         /* nullable: --netns, a netns handle path */
  char *parent_cgroup; /* nullable: --parent-cgroup (default: exec file name) */
  char **cgroups;      /* nullable: --cgroup "file=value" each */
  guint64 fsize_limit; /* 0: none; --resource-limit fsize= */
  guint64 no_file_limit; /* 0: the jailer's default (2048); --resource-limit no-file= */
  gboolean new_pid_ns; /* --new-pid-ns: Firecracker becomes PID 1 of a namespace */
  char *cgroup_root;   /* the cgroup2 mount (banger_cgroup2_find_mount(), host layer);
                        * required when @cgroups is set, to remove the cgroup */
} BangerFcJailerConfig;

BangerFcJailerConfig *banger_fc_jailer_config_new (const char *jailer_path,
                                                   const char *chroot_base, guint uid,
                                                   guint gid);
BangerFcJailerConfig *banger_fc_jailer_config_copy (const BangerFcJailerConfig *config);
void banger_fc_jailer_config_free (BangerFcJailerConfig *config);
gboolean banger_fc_jailer_config_validate (const BangerFcJailerConfig *config, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerFcJailerConfig, banger_fc_jailer_config_free)

/* The argv above.  @jailer NULL: direct.  @api_sock is the path Firecracker
 * is given (inside the jail: "/fc.sock").  INVALID_ARGUMENT for a relative
 * binary, a bad VM name or jailer configuration. */
GStrv banger_firecracker_cmdline_build (const char *firecracker, const char *vm_id,
                                        const char *api_sock,
                                        const BangerFcJailerConfig *jailer, GError **error);

G_END_DECLS
