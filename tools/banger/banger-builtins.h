/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Options every subcommand sees. */
typedef struct
{
  gboolean json; /* --json: machine-readable output on stdout */
  const char *socket; /* --socket: bangerd's socket (NULL: $BANGER_SOCKET, else the default) */
} BangerCliGlobals;

typedef int (*BangerBuiltinFunc) (int argc, char **argv, BangerCliGlobals *globals);

typedef struct
{
  const char *name;
  const char *summary;
  BangerBuiltinFunc fn; /* NULL: not built in this version */
} BangerBuiltin;

/* Exit codes, as documented in doc/cli.md. */
enum
{
  BANGER_EXIT_OK = 0,
  BANGER_EXIT_FAILED = 1,
  BANGER_EXIT_USAGE = 2,
};

int banger_builtin_doctor (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_create (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_start (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_stop (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_kill (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_delete (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_list (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_show (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_set (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_exec (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_port (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_image_import (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_image_list (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_image_delete (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_kernel_add (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_kernel_list (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_kernel_delete (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_image_pull (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_image_prune (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_kernel_pull (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_system_install (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_ssh (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_workspace (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_ssh_config (int argc, char **argv, BangerCliGlobals *globals);
/* banger-builtin-snapshot.c */
int banger_builtin_vm_pause (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_resume (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_snapshot (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_restore (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_vm_stats (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_snapshot_list (int argc, char **argv, BangerCliGlobals *globals);
int banger_builtin_snapshot_delete (int argc, char **argv, BangerCliGlobals *globals);

/* Print a GError in the CLI's format (and as JSON with --json). */
int banger_cli_report_error (BangerCliGlobals *globals, const char *command, const GError *error);

G_END_DECLS
