/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged operation table: what bangerd-root (and the in-process
 * executor used when the whole stack runs as root) dispatches to.
 *
 * Every operation is one BangerPrivOp: a method name ("priv.create_tap"), a
 * strict parameter table, and a handler.  The executor (banger-priv-executor.c)
 * checks the request against the table — required keys, exact JSON types,
 * ranges, string validators, unknown keys refused — BEFORE calling the
 * handler; the handler validates again with the library's validators next to
 * the code they guard.  The table of all operations lives in the host layer
 * (banger-priv-ops.c), so this layer does not depend on the operations. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum
{
  BANGER_PARAM_STRING,
  BANGER_PARAM_INT,  /* a JSON integer (not a float, not a string) in [min, max] */
  BANGER_PARAM_BOOL,
} BangerParamType;

typedef struct
{
  const char *name;
  BangerParamType type;
  gboolean required;
  gint64 min;     /* INT: inclusive bounds; STRING: min length in bytes */
  gint64 max;     /* INT: inclusive bounds; STRING: max length in bytes
                   * (0: BANGER_PARAM_STRING_MAX_DEFAULT = 4096).  Every
                   * STRING must also be valid UTF-8 without control
                   * characters (banger-priv-executor.h). */
  gboolean (*validate) (const char *value, GError **error); /* STRING, optional */
} BangerParamSpec;

/* Who is calling: from SO_PEERCRED only, never from the request. */
typedef struct
{
  uid_t uid;
  gid_t gid;
  pid_t pid;
} BangerPeerCred;

/* Host-layer state carried here for the host layer (defined in
 * host/banger-dm.h): the kernel calls of dm snapshots and loop devices. */
typedef struct _BangerHostBackend BangerHostBackend;

/* A VMM the helper launched and holds a pidfd for. */
typedef struct
{
  char *vm_id;
  pid_t pid;
  int pidfd;        /* from spawn (clone3 CLONE_PIDFD, launch/banger-spawn.h) */
  char *api_sock;   /* Firecracker --api-sock or QEMU QMP socket */
  char *cgroup;     /* absolute cgroup2 directory of the VM's scope */
} BangerPrivVmm;

/* The host layer's backend for its kernel calls: host/banger-dm.h defines
 * it; priv only carries a pointer to it. */
struct _BangerHostBackend;

/* The helper's configuration and state.  Paths are fixed by the install
 * config (doc/security.md), never by a request. */
typedef struct
{
  uid_t owner_uid;          /* the one non-root uid allowed to call */
  gid_t owner_gid;
  char *runtime_dir;        /* e.g. /run/banger: API sockets, jails */
  char *state_dir;          /* e.g. /var/lib/banger: disks */
  char *firecracker_path;   /* fixed root-owned binaries (or NULL) */
  char *jailer_path;
  char *qemu_path;
  char *cgroup_root;        /* banger's cgroup2 directory (banger.slice), or NULL */
  char *nft_table;          /* banger's own nftables table name */
  GHashTable *vmms;         /* vm_id -> BangerPrivVmm*, owned */
  GHashTable *launching;    /* vm_id set: launches waiting for their VMM's exec */
  GMutex lock;              /* guards vmms and launching; never held across a wait */
  GMutex exec_lock;         /* the executor lock: one non-CONCURRENT handler at a time */
  GThread *exec_owner;      /* the thread holding exec_lock through the executor */
  BangerHostBackend *backend; /* test hook: a fake host backend (NULL = real) */
  char *install_id;         /* nullable: mixed into derived host names and markers */
  guint32 vm_net;           /* the VM network (host byte order) … */
  guint vm_prefix;          /* … and its prefix: tap/bridge addresses stay inside */
  guint max_vmms;           /* per-owner caps (doc/install-config.md) */
  guint max_taps;
  guint max_bridges;
  guint max_nat_elements;
  gpointer table_data;      /* the table's own context: bangerd's engine for its
                             * method table (libbanger/engine/); NULL here */
} BangerPrivState;

typedef gboolean (*BangerPrivHandler) (BangerPrivState *state,
                                       const BangerPeerCred *caller,
                                       JsonObject *params,
                                       JsonBuilder *result, /* inside an open object */
                                       GCancellable *cancellable,
                                       GError **error);

typedef enum
{
  BANGER_PRIV_OP_FLAGS_NONE = 0,
  /* The handler runs without the executor lock, next to whatever else runs
   * (read-only operations such as priv.status: root's question is answered
   * while a launch or a slow mkfs is under way).  It may touch shared state
   * only under state->lock. */
  BANGER_PRIV_OP_CONCURRENT = 1 << 0,
  /* Always in a worker thread, never answered inline on the server's main
   * thread (which root's CONCURRENT requests otherwise are): for slow
   * CONCURRENT handlers such as bangerd's vm.create. */
  BANGER_PRIV_OP_WORKER = 1 << 1,
} BangerPrivOpFlags;

typedef struct
{
  const char *method;              /* "priv.create_tap" */
  const BangerParamSpec *params;   /* terminated by { NULL } */
  BangerPrivHandler handler;
  BangerPrivOpFlags flags;
} BangerPrivOp;

G_END_DECLS
