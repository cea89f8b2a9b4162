/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workspace sync planner (libbanger/guest/banger-ws-plan.c), a pure
 * function over four manifests: each case states the base (both sides at
 * the last sync), both sides now, the direction, and exactly the steps,
 * conflicts and pending changes it means (doc/workspace.md, "The rule"). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-ws-plan.h"
#include "guest-access-test.h"

#define S (G_GINT64_CONSTANT (1000000000))

/* A tiny manifest language: "f:PATH:SIZE:MTIME[:HASH]", "d:PATH",
 * "l:PATH:TARGET"; entries separated by spaces.  Mode 0644 / 0755. */
static BangerWsManifest *
m (const char *spec)
{
  BangerWsManifest *man = banger_ws_manifest_new ();
  g_auto (GStrv) items = g_strsplit (spec, " ", -1);

  for (guint i = 0; items[i]; i++)
    {
      g_auto (GStrv) f = NULL;
      BangerWsEntry *e;
      if (items[i][0] == '\0')
        continue;
      f = g_strsplit (items[i], ":", -1);
      if (f[0][0] == 'f')
        {
          e = banger_ws_entry_new (f[1], BANGER_WS_FILE);
          e->mode = 0644;
          e->size = g_ascii_strtoull (f[2], NULL, 10);
          e->mtime_ns = g_ascii_strtoll (f[3], NULL, 10) * S;
          if (f[4] != NULL)
            e->hash = g_strdup (f[4]);
        }
      else if (f[0][0] == 'd')
        {
          e = banger_ws_entry_new (f[1], BANGER_WS_DIR);
          e->mode = 0755;
        }
      else
        {
          e = banger_ws_entry_new (f[1], BANGER_WS_SYMLINK);
          e->target = g_strdup (f[2]);
        }
      banger_ws_manifest_add (man, e);
    }
  return man;
}

/* The plan as text: "put:a del:b" | "conflict:c" | "host:d" | "guest:e". */
static char *
describe (const BangerWsPlan *p)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < p->steps->len; i++)
    {
      BangerWsStep *st = p->steps->pdata[i];
      g_string_append_printf (s, "%s%s:%s", s->len ? " " : "",
                              st->kind == BANGER_WS_STEP_PUT ? "put" : "del", st->path);
    }
  for (guint i = 0; i < p->conflicts->len; i++)
    g_string_append_printf (s, "%sconflict:%s", s->len ? " " : "",
                            (char *)p->conflicts->pdata[i]);
  for (guint i = 0; i < p->host_changes->len; i++)
    g_string_append_printf (s, "%shost:%s", s->len ? " " : "", (char *)p->host_changes->pdata[i]);
  for (guint i = 0; i < p->guest_changes->len; i++)
    g_string_append_printf (s, "%sguest:%s", s->len ? " " : "",
                            (char *)p->guest_changes->pdata[i]);
  return g_string_free (s, FALSE);
}

typedef struct
{
  const char *what;
  const char *base_host, *base_guest, *host, *guest;
  BangerWsDirection dir;
  gboolean force;
  const char *want;
} Case;

static const Case cases[] = {
  { "first push: everything, parents first", "", "", "d:a f:a/x:3:10 l:a/l:x f:b:1:10", "",
    BANGER_WS_DIRECTION_PUSH, FALSE, "put:a put:a/l put:a/x put:b" },
  { "nothing changed: nothing to do", "f:x:3:10", "f:x:3:10", "f:x:3:10", "f:x:3:10",
    BANGER_WS_DIRECTION_PUSH, FALSE, "" },
  { "host edit pushed", "f:x:3:10", "f:x:3:10", "f:x:4:20", "f:x:3:10", BANGER_WS_DIRECTION_PUSH,
    FALSE, "put:x" },
  { "touch only, same hash: not a change", "f:x:3:10:aa", "f:x:3:10", "f:x:3:20:aa", "f:x:3:10",
    BANGER_WS_DIRECTION_PUSH, FALSE, "" },
  { "same size, new mtime, other hash: a change", "f:x:3:10:aa", "f:x:3:10", "f:x:3:20:bb",
    "f:x:3:10", BANGER_WS_DIRECTION_PUSH, FALSE, "put:x" },
  { "same size, new mtime, hash unknown: a change", "f:x:3:10", "f:x:3:10", "f:x:3:20",
    "f:x:3:10", BANGER_WS_DIRECTION_PUSH, FALSE, "put:x" },
  { "host delete pushed", "f:x:3:10", "f:x:3:10", "", "f:x:3:10", BANGER_WS_DIRECTION_PUSH, FALSE,
    "del:x" },
  { "guest edit on push: pending, not overwritten", "f:x:3:10", "f:x:3:10", "f:x:3:10",
    "f:x:5:30", BANGER_WS_DIRECTION_PUSH, FALSE, "guest:x" },
  { "guest edit pulled", "f:x:3:10", "f:x:3:10", "f:x:3:10", "f:x:5:30", BANGER_WS_DIRECTION_PULL,
    FALSE, "put:x" },
  { "guest new file and dir pulled", "", "", "", "d:n f:n/y:1:5", BANGER_WS_DIRECTION_PULL, FALSE,
    "put:n put:n/y" },
  { "host edit on pull: pending", "f:x:3:10", "f:x:3:10", "f:x:4:11", "f:x:3:10",
    BANGER_WS_DIRECTION_PULL, FALSE, "host:x" },
  { "both edited: conflict on push", "f:x:3:10", "f:x:3:10", "f:x:4:11", "f:x:5:12",
    BANGER_WS_DIRECTION_PUSH, FALSE, "conflict:x" },
  { "both edited: conflict on pull", "f:x:3:10", "f:x:3:10", "f:x:4:11", "f:x:5:12",
    BANGER_WS_DIRECTION_PULL, FALSE, "conflict:x" },
  { "both edited, push --force: host wins", "f:x:3:10", "f:x:3:10", "f:x:4:11", "f:x:5:12",
    BANGER_WS_DIRECTION_PUSH, TRUE, "put:x" },
  { "both edited, pull --force: guest wins", "f:x:3:10", "f:x:3:10", "f:x:4:11", "f:x:5:12",
    BANGER_WS_DIRECTION_PULL, TRUE, "put:x" },
  { "host deleted, guest edited: conflict", "f:x:3:10", "f:x:3:10", "", "f:x:5:12",
    BANGER_WS_DIRECTION_PUSH, FALSE, "conflict:x" },
  { "both edited to the same known content: agreed", "f:x:3:10:aa", "f:x:3:10:aa",
    "f:x:4:11:bb", "f:x:4:12:bb", BANGER_WS_DIRECTION_PUSH, FALSE, "" },
  { "both made the same dir and symlink: agreed", "", "", "d:a l:k:a", "d:a l:k:a",
    BANGER_WS_DIRECTION_PUSH, FALSE, "" },
  { "symlink retargeted on the host", "l:k:a", "l:k:a", "l:k:b", "l:k:a", BANGER_WS_DIRECTION_PUSH,
    FALSE, "put:k" },
  { "file became a dir", "f:a:1:1", "f:a:1:1", "d:a f:a/b:1:2", "f:a:1:1",
    BANGER_WS_DIRECTION_PUSH, FALSE, "put:a put:a/b" },
  { "dir deleted with its files, children first", "d:a f:a/b:1:1 d:a/c f:a/c/d:1:1",
    "d:a f:a/b:1:1 d:a/c f:a/c/d:1:1", "", "d:a f:a/b:1:1 d:a/c f:a/c/d:1:1",
    BANGER_WS_DIRECTION_PUSH, FALSE, "del:a/c/d del:a/c del:a/b del:a" },
  { "dir deleted on the host, a new guest file in it: the dir is a conflict", "d:a f:a/b:1:1",
    "d:a f:a/b:1:1", "", "d:a f:a/b:1:1 f:a/new:1:9", BANGER_WS_DIRECTION_PUSH, FALSE,
    "del:a/b conflict:a guest:a/new" },
  { "status lists every side", "f:h:1:1 f:g:1:1 f:c:1:1", "f:h:1:1 f:g:1:1 f:c:1:1",
    "f:h:2:2 f:g:1:1 f:c:2:2", "f:h:1:1 f:g:2:2 f:c:3:3", BANGER_WS_DIRECTION_STATUS, FALSE,
    "conflict:c host:h guest:g" },
  { "sorting: a/b before a-b", "", "", "d:a f:a/b:1:1 f:a-b:1:1", "", BANGER_WS_DIRECTION_PUSH,
    FALSE, "put:a put:a/b put:a-b" },
};

START_TEST (test_plan_table)
{
  const Case *c = &cases[_i];
  g_autoptr (BangerWsManifest) bh = m (c->base_host);
  g_autoptr (BangerWsManifest) bg = m (c->base_guest);
  g_autoptr (BangerWsManifest) h = m (c->host);
  g_autoptr (BangerWsManifest) g = m (c->guest);
  g_autoptr (BangerWsPlan) p = banger_ws_plan_make (bh, bg, h, g, c->dir, c->force);
  g_autofree char *got = describe (p);

  ck_assert_msg (g_str_equal (got, c->want), "%s: got '%s', wanted '%s'", c->what, got, c->want);
}
END_TEST

/* After a push, the next plan finds nothing to do; a conflict keeps its
 * old base so it is found again; a guest-side pending change likewise. */
START_TEST (test_next_base)
{
  g_autoptr (BangerWsManifest) bh = m ("f:x:3:10 f:c:1:1 f:g:1:1");
  g_autoptr (BangerWsManifest) bg = m ("f:x:3:10 f:c:1:1 f:g:1:1");
  g_autoptr (BangerWsManifest) h = m ("f:x:4:20 f:c:2:2 f:g:1:1 d:n f:n/y:7:7");
  g_autoptr (BangerWsManifest) g = m ("f:x:3:10 f:c:3:3 f:g:9:9");
  g_autoptr (BangerWsPlan) p = banger_ws_plan_make (bh, bg, h, g, BANGER_WS_DIRECTION_PUSH, FALSE);
  g_autoptr (BangerWsManifest) nh = NULL;
  g_autoptr (BangerWsManifest) ng = NULL;
  g_autoptr (BangerWsManifest) g_after = NULL;
  g_autoptr (BangerWsPlan) again = NULL;
  g_autofree char *first = describe (p);
  g_autofree char *second = NULL;

  ck_assert_str_eq (first, "put:n put:n/y put:x conflict:c guest:g");
  /* the executor fills the hash of what it sent; mtimes with nanoseconds
   * become whole seconds in the guest */
  for (guint i = 0; i < p->steps->len; i++)
    {
      BangerWsStep *s = p->steps->pdata[i];
      if (s->entry->type == BANGER_WS_FILE)
        s->entry->hash = g_strdup ("h");
    }
  banger_ws_plan_next_base (p, bh, bg, h, g, &nh, &ng);
  ck_assert_int_eq (banger_ws_manifest_lookup (nh, "c")->size, 1); /* old base kept */
  ck_assert_int_eq (banger_ws_manifest_lookup (ng, "g")->size, 1);
  ck_assert_str_eq (banger_ws_manifest_lookup (nh, "x")->hash, "h");
  /* the guest as it is after the push */
  g_after = m ("f:x:4:20 f:c:3:3 f:g:9:9 d:n f:n/y:7:7");
  again = banger_ws_plan_make (nh, ng, h, g_after, BANGER_WS_DIRECTION_PUSH, FALSE);
  second = describe (again);
  ck_assert_str_eq (second, "conflict:c guest:g");
}
END_TEST

START_TEST (test_paths_and_symlinks)
{
  ck_assert (banger_ws_path_is_valid ("a/b"));
  ck_assert (!banger_ws_path_is_valid (""));
  ck_assert (!banger_ws_path_is_valid ("/a"));
  ck_assert (!banger_ws_path_is_valid ("a/../b"));
  ck_assert (!banger_ws_path_is_valid ("a//b"));
  ck_assert (!banger_ws_path_is_valid ("./a"));
  ck_assert (!banger_ws_path_is_valid ("a\nb"));
  ck_assert (banger_ws_symlink_stays_inside ("a/l", "../b"));
  ck_assert (banger_ws_symlink_stays_inside ("l", "b/c"));
  ck_assert (!banger_ws_symlink_stays_inside ("l", "../b"));
  ck_assert (!banger_ws_symlink_stays_inside ("a/l", "../../b"));
  ck_assert (!banger_ws_symlink_stays_inside ("l", "/etc"));
  ck_assert (!banger_ws_symlink_stays_inside ("l", "a/../../x"));
  ck_assert (!banger_ws_symlink_stays_inside ("l", ""));
}
END_TEST

START_TEST (test_manifest_json_roundtrip)
{
  g_autoptr (BangerWsManifest) a = m ("d:a f:a/x:3:10:ab l:a/l:x");
  g_autoptr (JsonNode) n = banger_ws_manifest_to_json (a);
  g_autoptr (BangerWsManifest) b = banger_ws_manifest_from_json (n, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  ck_assert (b != NULL);
  ck_assert_uint_eq (banger_ws_manifest_size (b), 3);
  ck_assert_str_eq (banger_ws_manifest_lookup (b, "a/x")->hash, "ab");
  ck_assert_str_eq (banger_ws_manifest_lookup (b, "a/l")->target, "x");
  ck_assert (json_parser_load_from_data (parser, "[{\"path\":\"../x\",\"type\":\"file\"}]", -1,
                                         NULL));
  ck_assert (banger_ws_manifest_from_json (json_parser_get_root (parser), &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *
ws_plan_suite (void)
{
  Suite *s = suite_create ("ws-plan");
  TCase *tc = tcase_create ("plan");

  tcase_add_loop_test (tc, test_plan_table, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_next_base);
  tcase_add_test (tc, test_paths_and_symlinks);
  tcase_add_test (tc, test_manifest_json_roundtrip);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ws_plan_suite)
