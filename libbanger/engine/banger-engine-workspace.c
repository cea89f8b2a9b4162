/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workspace service (see banger-engine-workspace.h, doc/workspace.md). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "banger-engine-private.h"
#include "banger-engine-workspace.h"
#include "banger-error.h"
#include "banger-guest-ssh.h"
#include "banger-quote.h"
#include "banger-ws-host.h"
#include "banger-ws-plan.h"
#include "banger-ws-sftp.h"
#include "banger-ws-stream.h"

#define WS_FILE "workspace.json"
#define GUEST_DIR_MAX 1024
/* how many conflicting paths an error message names */
#define CONFLICTS_NAMED 5

void
banger_engine_ws_report_free (BangerEngineWsReport *r)
{
  if (r == NULL)
    return;
  g_free (r->host_dir);
  g_free (r->guest_dir);
  g_clear_pointer (&r->conflicts, g_ptr_array_unref);
  g_clear_pointer (&r->host_changes, g_ptr_array_unref);
  g_clear_pointer (&r->guest_changes, g_ptr_array_unref);
  g_free (r);
}

static BangerEngineWsReport *
report_new (void)
{
  BangerEngineWsReport *r = g_new0 (BangerEngineWsReport, 1);
  r->conflicts = g_ptr_array_new_with_free_func (g_free);
  r->host_changes = g_ptr_array_new_with_free_func (g_free);
  r->guest_changes = g_ptr_array_new_with_free_func (g_free);
  return r;
}

static gboolean
guest_dir_valid (const char *g)
{
  g_auto (GStrv) parts = NULL;

  if (g == NULL || g[0] != '/' || strlen (g) > GUEST_DIR_MAX || g_str_equal (g, "/"))
    return FALSE;
  for (const char *p = g; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  parts = g_strsplit (g + 1, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

gboolean
banger_engine_workspace_parse (const char *spec, char **out_host_dir, char **out_guest_dir,
                               GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *real = NULL;
  g_autoptr (BangerWsManifest) m = NULL;
  const char *colon = strrchr (spec, ':');
  int fd;

  if (colon != NULL && colon[1] == '/')
    {
      host = g_strndup (spec, (gsize)(colon - spec));
      guest = g_strdup (colon + 1);
    }
  else
    {
      host = g_strdup (spec);
      guest = g_strdup (BANGER_ENGINE_WORKSPACE_GUEST_DEFAULT);
    }
  if (!g_path_is_absolute (host))
    {
      g_autofree char *q = banger_quote (host);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The workspace '%s' must be an absolute path", q);
      return FALSE;
    }
  if (!guest_dir_valid (guest))
    {
      g_autofree char *q = banger_quote (guest);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The guest directory '%s' must be absolute, not '/', without '.', '..' or "
                   "empty components",
                   q);
      return FALSE;
    }
  real = realpath (host, NULL);
  if (real == NULL)
    {
      g_autofree char *q = banger_quote (host);
      g_set_error (error, BANGER_ERROR,
                   errno == ENOENT ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_FAILED,
                   "The workspace '%s': %s", q, g_strerror (errno));
      return FALSE;
    }
  fd = banger_ws_host_open_root (real, error);
  if (fd < 0)
    return FALSE;
  /* the whole tree is checked now: a symlink leading out refuses the
   * create before anything exists */
  m = banger_ws_host_scan (fd, NULL, NULL, NULL, error);
  close (fd);
  if (m == NULL)
    return FALSE;
  *out_host_dir = g_steal_pointer (&real);
  *out_guest_dir = g_steal_pointer (&guest);
  return TRUE;
}

/* ------------------------------------------------------------ the record */

typedef struct
{
  char *host_dir;
  char *guest_dir;
  BangerWsManifest *base_host;
  BangerWsManifest *base_guest;
} WsState;

static void
ws_state_clear (WsState *s)
{
  g_free (s->host_dir);
  g_free (s->guest_dir);
  g_clear_pointer (&s->base_host, banger_ws_manifest_free);
  g_clear_pointer (&s->base_guest, banger_ws_manifest_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WsState, ws_state_clear)

static gboolean
ws_save (const char *vm_dir, const char *host_dir, const char *guest_dir,
         const BangerWsManifest *base_host, const BangerWsManifest *base_guest, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = g_build_filename (vm_dir, WS_FILE, NULL);
  GError *local = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "host_dir");
  json_builder_add_string_value (b, host_dir);
  json_builder_set_member_name (b, "guest_dir");
  json_builder_add_string_value (b, guest_dir);
  json_builder_set_member_name (b, "base_host");
  json_builder_add_value (b, banger_ws_manifest_to_json (base_host));
  json_builder_set_member_name (b, "base_guest");
  json_builder_add_value (b, banger_ws_manifest_to_json (base_guest));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot write '%s': %s", path,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_engine_workspace_bind (const char *vm_dir, const char *host_dir, const char *guest_dir,
                              GError **error)
{
  g_autoptr (BangerWsManifest) empty_h = banger_ws_manifest_new ();
  g_autoptr (BangerWsManifest) empty_g = banger_ws_manifest_new ();

  return ws_save (vm_dir, host_dir, guest_dir, empty_h, empty_g, error);
}

/* FALSE with no error: no binding. */
static gboolean
ws_load (const char *vm_dir, WsState *s, GError **error)
{
  g_autofree char *path = g_build_filename (vm_dir, WS_FILE, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *o;
  GError *local = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;
  if (!json_parser_load_from_mapped_file (parser, path, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot read '%s': %s", path,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    goto bad;
  o = json_node_get_object (root);
  s->host_dir = g_strdup (json_object_get_string_member_with_default (o, "host_dir", NULL));
  s->guest_dir = g_strdup (json_object_get_string_member_with_default (o, "guest_dir", NULL));
  if (s->host_dir == NULL || !guest_dir_valid (s->guest_dir))
    goto bad;
  s->base_host = banger_ws_manifest_from_json (json_object_get_member (o, "base_host"), error);
  if (s->base_host == NULL)
    return FALSE;
  s->base_guest = banger_ws_manifest_from_json (json_object_get_member (o, "base_guest"), error);
  return s->base_guest != NULL;

bad:
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "'%s' is malformed", path);
  return FALSE;
}

/* ------------------------------------------------------------- the sync */

static void
take_list (GPtrArray *to, GPtrArray *from)
{
  for (guint i = 0; i < from->len; i++)
    g_ptr_array_add (to, g_strdup (from->pdata[i]));
}

/* Whether the guest now holds what a push step meant to make (the
 * stream failed half way: what arrived whole counts as done). */
static gboolean
step_arrived (const BangerWsStep *s, const BangerWsEntry *now)
{
  const BangerWsEntry *e = s->entry;

  if (s->kind == BANGER_WS_STEP_DELETE)
    return now == NULL;
  if (now == NULL || now->type != e->type)
    return FALSE;
  switch (e->type)
    {
    case BANGER_WS_DIR:
      return now->mode == e->mode;
    case BANGER_WS_SYMLINK:
      return g_strcmp0 (now->target, e->target) == 0;
    case BANGER_WS_FILE:
    default:
      return now->mode == e->mode && now->size == e->size
             && now->mtime_ns / 1000000000 == e->mtime_ns / 1000000000;
    }
}

/* A push: the deletes (and what stands in the way of a type change) as
 * two batched commands, then every write as one tar stream
 * (banger-ws-stream.h). */
static gboolean
push_steps (BangerWsPlan *plan, BangerWsSftp *sftp, int root_fd, const BangerWsManifest *guest,
            BangerEngineWsReport *r, gboolean *done, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  g_autoptr (GPtrArray) dirs = g_ptr_array_new ();
  g_autoptr (GPtrArray) in_the_way = g_ptr_array_new ();
  g_autoptr (GPtrArray) entries = g_ptr_array_new ();
  guint n_deletes = 0;

  for (guint i = 0; i < plan->steps->len; i++)
    {
      BangerWsStep *s = plan->steps->pdata[i];
      const BangerWsEntry *g = banger_ws_manifest_lookup (guest, s->path);

      if (s->kind == BANGER_WS_STEP_DELETE)
        {
          g_ptr_array_add (g != NULL && g->type == BANGER_WS_DIR ? dirs : files, s->path);
          n_deletes++;
          continue;
        }
      if (g != NULL && g->type != s->entry->type)
        g_ptr_array_add (g->type == BANGER_WS_DIR ? in_the_way : files, s->path);
      g_ptr_array_add (entries, s->entry);
    }
  /* a directory in the way: its content is among the deletes above */
  g_ptr_array_extend (dirs, in_the_way, NULL, NULL);
  if (entries->len > 0 && !banger_ws_sftp_make_root (sftp, error))
    return FALSE;
  if (!banger_ws_stream_remove (sftp, files, dirs, cancellable, error))
    return FALSE;
  for (guint i = 0; i < plan->steps->len; i++)
    if (((BangerWsStep *)plan->steps->pdata[i])->kind == BANGER_WS_STEP_DELETE)
      done[i] = TRUE;
  r->n_deleted += n_deletes;
  if (!banger_ws_stream_push (sftp, root_fd, entries, &r->bytes, cancellable, error))
    return FALSE;
  for (guint i = 0; i < plan->steps->len; i++)
    done[i] = TRUE;
  r->n_copied += entries->len;
  return TRUE;
}

/* A pull: deletes, directories and symlinks on the host, step by step;
 * then the files as one cpio stream from the guest; what the stream did
 * not bring (too big for cpio, a hard link) over SFTP, file by file. */
static gboolean
pull_steps (BangerWsPlan *plan, BangerWsSftp *sftp, int root_fd, BangerEngineWsReport *r,
            gboolean *done, GCancellable *cancellable, GError **error)
{
  g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) received = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) stream_error = NULL;

  for (guint i = 0; i < plan->steps->len; i++)
    {
      BangerWsStep *s = plan->steps->pdata[i];
      gboolean ok;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (s->kind == BANGER_WS_STEP_DELETE)
        {
          ok = banger_ws_host_remove (root_fd, s->path, error);
          if (ok)
            r->n_deleted++;
        }
      else if (s->entry->type != BANGER_WS_FILE)
        {
          ok = banger_ws_host_make (root_fd, s->entry, error);
          if (ok)
            r->n_copied++;
        }
      else
        {
          if (s->entry->size < BANGER_WS_STREAM_MAX_CPIO_FILE)
            g_hash_table_insert (wanted, s->path, s->entry);
          continue;
        }
      if (!ok)
        return FALSE;
      done[i] = TRUE;
    }
  if (!banger_ws_stream_pull (sftp, root_fd, wanted, received, &r->bytes, cancellable,
                              &stream_error))
    {
      /* what arrived is done; a refused stream refuses the pull */
      for (guint i = 0; i < plan->steps->len; i++)
        if (g_hash_table_contains (received, ((BangerWsStep *)plan->steps->pdata[i])->path))
          {
            done[i] = TRUE;
            r->n_copied++;
          }
      g_propagate_error (error, g_steal_pointer (&stream_error));
      return FALSE;
    }
  for (guint i = 0; i < plan->steps->len; i++)
    {
      BangerWsStep *s = plan->steps->pdata[i];
      g_autofree char *tmp = NULL;
      int dir_fd = -1, fd;

      if (done[i] || s->kind != BANGER_WS_STEP_PUT || s->entry->type != BANGER_WS_FILE)
        continue;
      if (g_hash_table_contains (received, s->path))
        {
          done[i] = TRUE;
          r->n_copied++;
          continue;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      fd = banger_ws_host_begin_file (root_fd, s->path, &tmp, &dir_fd, error);
      if (fd < 0)
        return FALSE;
      if (!banger_ws_sftp_get_file (sftp, s->entry, fd, &r->bytes, error))
        {
          banger_ws_host_abort_file (dir_fd, fd, tmp);
          return FALSE;
        }
      if (!banger_ws_host_commit_file (dir_fd, fd, tmp, s->entry, error))
        return FALSE;
      done[i] = TRUE;
      r->n_copied++;
    }
  return TRUE;
}

/* After a push failed half way: which steps took effect, from a fresh
 * listing of the guest (a new session when the old one is gone).  With
 * no listing, only what was marked done before counts. */
static void
push_reconcile (BangerWsPlan *plan, BangerWsSftp *sftp, BangerGuestEndpoint *ep,
                const char *guest_dir, gboolean *done, BangerEngineWsReport *r,
                GCancellable *cancellable)
{
  g_autoptr (BangerWsManifest) now = banger_ws_stream_scan (sftp, NULL, NULL);

  if (now == NULL)
    {
      g_autoptr (BangerWsSftp) fresh = banger_ws_sftp_open (ep, guest_dir, cancellable, NULL);
      if (fresh != NULL)
        now = banger_ws_stream_scan (fresh, NULL, NULL);
    }
  if (now == NULL)
    return;
  for (guint i = 0; i < plan->steps->len; i++)
    {
      BangerWsStep *s = plan->steps->pdata[i];
      if (done[i] || !step_arrived (s, banger_ws_manifest_lookup (now, s->path)))
        continue;
      done[i] = TRUE;
      if (s->kind == BANGER_WS_STEP_DELETE)
        r->n_deleted++;
      else
        r->n_copied++;
    }
}

BangerEngineWsReport *
banger_engine_workspace_sync_locked (BangerEngine *e, const char *vm_id, const char *ip,
                                     BangerEngineWsMode mode, BangerEngineWsFlags flags,
                                     const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autofree char *vm_dir = g_build_filename (e->vms_dir, vm_id, NULL);
  g_autofree char *known_hosts = g_build_filename (vm_dir, "known_hosts", NULL);
  g_auto (WsState) st = { 0 };
  g_autoptr (BangerEngineWsReport) r = report_new ();
  g_autoptr (BangerWsManifest) host = NULL;
  g_autoptr (BangerWsManifest) guest = NULL;
  g_autoptr (BangerWsPlan) plan = NULL;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autoptr (BangerWsSftp) sftp = NULL;
  g_autoptr (BangerWsManifest) nh = NULL;
  g_autoptr (BangerWsManifest) ng = NULL;
  g_autoptr (GError) step_error = NULL;
  BangerWsDirection dir = mode == BANGER_ENGINE_WS_PUSH   ? BANGER_WS_DIRECTION_PUSH
                          : mode == BANGER_ENGINE_WS_PULL ? BANGER_WS_DIRECTION_PULL
                                                          : BANGER_WS_DIRECTION_STATUS;
  g_autofree gboolean *done = NULL;
  guint skipped = 0;
  gboolean root_missing = FALSE;
  gint64 t0 = g_get_monotonic_time (), t_scan = t0, t_list = t0, t_plan = t0;
  int root_fd;

  if (!ws_load (vm_dir, &st, error))
    {
      if (error != NULL && *error != NULL)
        return NULL;
      r->bound = FALSE;
      return g_steal_pointer (&r);
    }
  r->bound = TRUE;
  r->host_dir = g_strdup (st.host_dir);
  r->guest_dir = g_strdup (st.guest_dir);
  root_fd = banger_ws_host_open_root (st.host_dir, error);
  if (root_fd < 0)
    return NULL;
  host = banger_ws_host_scan (root_fd, st.base_host, &skipped, cancellable, error);
  if (host == NULL)
    {
      close (root_fd);
      return NULL;
    }
  t_scan = g_get_monotonic_time ();
  if (flags & BANGER_ENGINE_WS_IF_DIRTY)
    {
      g_autoptr (BangerWsPlan) probe = banger_ws_plan_make (st.base_host, st.base_guest, host,
                                                            st.base_guest,
                                                            BANGER_WS_DIRECTION_STATUS, FALSE);
      if (probe->host_changes->len == 0)
        {
          close (root_fd);
          r->skipped = TRUE;
          return g_steal_pointer (&r);
        }
    }
  ep = banger_guest_endpoint_new (ip, BANGER_GUEST_SSH_DEFAULT_PORT, e->key, known_hosts, error);
  if (ep == NULL)
    {
      close (root_fd);
      return NULL;
    }
  sftp = banger_ws_sftp_open (ep, st.guest_dir, cancellable, error);
  guest = sftp ? banger_ws_stream_scan (sftp, &root_missing, error) : NULL;
  if (guest == NULL)
    {
      close (root_fd);
      return NULL;
    }
  t_list = g_get_monotonic_time ();
  /* a guest directory that vanished as a whole (a reset disk, a wrong
   * path) is not taken as "delete everything on the host" */
  if (root_missing && dir == BANGER_WS_DIRECTION_PULL && banger_ws_manifest_size (st.base_guest) > 0
      && !(flags & BANGER_ENGINE_WS_FORCE))
    {
      g_autofree char *q = banger_quote (st.guest_dir);
      close (root_fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CONFLICT,
                   "The guest's workspace '%s' is gone as a whole: not deleting the host's copy "
                   "(push to restore it, or pull --force to mirror the deletion)",
                   q);
      return NULL;
    }
  plan = banger_ws_plan_make (st.base_host, st.base_guest, host, guest, dir,
                              (flags & BANGER_ENGINE_WS_FORCE) != 0);
  t_plan = g_get_monotonic_time ();
  done = g_new0 (gboolean, plan->steps->len + 1);
  if (dir == BANGER_WS_DIRECTION_PUSH
      && !push_steps (plan, sftp, root_fd, guest, r, done, cancellable, &step_error))
    push_reconcile (plan, sftp, ep, st.guest_dir, done, r, cancellable);
  else if (dir == BANGER_WS_DIRECTION_PULL)
    pull_steps (plan, sftp, root_fd, r, done, cancellable, &step_error);
  if (step_error != NULL)
    {
      /* what was not done stays pending: its base is kept */
      GPtrArray *pending
          = dir == BANGER_WS_DIRECTION_PUSH ? plan->host_changes : plan->guest_changes;
      g_autoptr (GPtrArray) kept = g_ptr_array_new ();
      guint n = 0;
      for (guint i = 0; i < plan->steps->len; i++)
        {
          if (done[i])
            plan->steps->pdata[n++] = plan->steps->pdata[i];
          else
            {
              BangerWsStep *s = plan->steps->pdata[i];
              g_ptr_array_add (pending, g_strdup (s->path));
              g_ptr_array_add (kept, s);
            }
        }
      /* the steps not done are freed with the plan's free function */
      for (guint i = 0; i < kept->len; i++)
        plan->steps->pdata[n + i] = kept->pdata[i];
      g_ptr_array_set_size (plan->steps, n);
    }
  close (root_fd);
  take_list (r->conflicts, plan->conflicts);
  take_list (r->host_changes, plan->host_changes);
  take_list (r->guest_changes, plan->guest_changes);
  if (dir != BANGER_WS_DIRECTION_STATUS)
    {
      banger_ws_plan_next_base (plan, st.base_host, st.base_guest, host, guest, &nh, &ng);
      if (!ws_save (vm_dir, st.host_dir, st.guest_dir, nh, ng, error))
        return NULL;
    }
  banger_engine_log (op_id,
                     "workspace %s of %s: %u written, %u deleted, %" G_GUINT64_FORMAT
                     " bytes, %u conflicts, %u skipped (special files) in %.3f s (host scan "
                     "%.3f s, connect and guest listing %.3f s, plan %.3f s, transfer %.3f s)",
                     mode == BANGER_ENGINE_WS_PUSH   ? "push"
                     : mode == BANGER_ENGINE_WS_PULL ? "pull"
                                                     : "status",
                     vm_id, r->n_copied, r->n_deleted, r->bytes, r->conflicts->len, skipped,
                     (g_get_monotonic_time () - t0) / 1e6, (t_scan - t0) / 1e6,
                     (t_list - t_scan) / 1e6, (t_plan - t_list) / 1e6,
                     (g_get_monotonic_time () - t_plan) / 1e6);
  if (step_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&step_error));
      return NULL;
    }
  return g_steal_pointer (&r);
}

static char *
lease_ip (BangerEngine *e, const char *vm_id, GError **error)
{
  g_autoptr (BangerStoreLease) lease
      = banger_store_lease_get_for_vm (e->store, e->config->subnet, vm_id, error);
  return lease ? g_strdup (lease->address) : NULL;
}

BangerEngineWsReport *
banger_engine_vm_workspace_sync (BangerEngine *e, const char *name, BangerEngineWsMode mode,
                                 BangerEngineWsFlags flags, const char *op_id,
                                 GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autofree char *ip = NULL;

  if (vm == NULL)
    return NULL;
  {
    /* no workspace: say so whatever the state (vm exec asks first) */
    g_autofree char *ws = g_build_filename (e->vms_dir, vm->id, WS_FILE, NULL);
    if (!g_file_test (ws, G_FILE_TEST_EXISTS))
      return report_new ();
  }
  if (vm->state != BANGER_STORE_VM_STATE_RUNNING)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "VM '%s' is %s: its workspace syncs while it runs", name,
                   banger_store_vm_state_to_string (vm->state));
      return NULL;
    }
  ip = lease_ip (e, vm->id, error);
  if (ip == NULL)
    return NULL;
  return banger_engine_workspace_sync_locked (e, vm->id, ip, mode, flags, op_id, cancellable,
                                              error);
}

gboolean
banger_engine_workspace_pull_before_stop (BangerEngine *e, const char *vm_id, const char *op_id,
                                          GCancellable *cancellable, GError **error)
{
  g_autofree char *vm_dir = g_build_filename (e->vms_dir, vm_id, NULL);
  g_autofree char *ws = g_build_filename (vm_dir, WS_FILE, NULL);
  g_autofree char *ip = NULL;
  g_autoptr (BangerEngineWsReport) r = NULL;
  g_autoptr (GString) names = NULL;

  if (!g_file_test (ws, G_FILE_TEST_EXISTS))
    return TRUE;
  ip = lease_ip (e, vm_id, error);
  if (ip == NULL)
    return FALSE;
  r = banger_engine_workspace_sync_locked (e, vm_id, ip, BANGER_ENGINE_WS_PULL,
                                           BANGER_ENGINE_WS_FLAGS_NONE, op_id, cancellable, error);
  if (r == NULL)
    {
      g_prefix_error (error, "Pulling the workspace before the stop failed (the VM keeps "
                             "running; `banger vm kill` stops it without a pull): ");
      return FALSE;
    }
  if (r->conflicts->len == 0)
    return TRUE;
  names = g_string_new (NULL);
  for (guint i = 0; i < r->conflicts->len && i < CONFLICTS_NAMED; i++)
    {
      g_autofree char *q = banger_quote (r->conflicts->pdata[i]);
      g_string_append_printf (names, "%s'%s'", i ? ", " : "", q);
    }
  if (r->conflicts->len > CONFLICTS_NAMED)
    g_string_append_printf (names, " and %u more", r->conflicts->len - CONFLICTS_NAMED);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_CONFLICT,
               "The workspace changed on both sides since the last sync: %s; the VM keeps "
               "running (resolve with `banger vm workspace pull --force` (guest wins) or "
               "`push --force` (host wins), or `banger vm kill` to stop without a pull)",
               names->str);
  return FALSE;
}
