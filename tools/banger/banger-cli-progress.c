/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CLI's progress line (see banger-cli-progress.h). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "banger-cli-client.h"
#include "banger-cli-progress.h"

struct _BangerCliProgress
{
  char *what;
  gboolean quiet;
  gboolean tty;
  gint64 start_us;
  guint64 total_done;
  guint64 total_size;
  guint index;
  guint64 blob_done;
  guint64 blob_size;
  GHashTable *finished; /* blob digests whose end was printed */
  guint tick;
  guint spin;
  gboolean drawn;
  /* the events it is fed from (banger_cli_progress_watch) */
  BangerClient *client;
  gulong handler;
  char *op_id;
  /* a snapshot's or restore's step: its name, number, and bytes */
  char *step;
  guint step_index;
  guint step_count;
  guint64 step_done;
  guint64 step_total;
  gint64 step_start_us;
};

char *
banger_cli_progress_bar (guint64 done, guint64 total, guint width)
{
  GString *s = g_string_new ("[");
  guint filled = total > 0 ? (guint)MIN ((done * width) / total, width) : 0;

  for (guint i = 0; i < width; i++)
    g_string_append_c (s, i < filled ? '#' : '-');
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

char *
banger_cli_progress_rate (guint64 done, guint64 total, gint64 elapsed_us)
{
  g_autofree char *rate = NULL;
  double per_s;

  if (elapsed_us <= 0 || done == 0)
    return g_strdup ("-");
  per_s = (double)done * G_USEC_PER_SEC / (double)elapsed_us;
  rate = banger_cli_format_size ((guint64)per_s);
  if (total == 0 || done >= total)
    return g_strdup_printf ("%s/s", rate);
  return g_strdup_printf ("%s/s, %.0f s left", rate, (double)(total - done) / per_s);
}

/* The line's text after "\r\033[K"; NULL: the spinner form. */
static char *
line_text (BangerCliProgress *p, gint64 now)
{
  if (p->step != NULL)
    {
      g_autofree char *where
          = g_strdup_printf ("%s (%u/%u)", p->step, p->step_index, p->step_count);
      g_autofree char *bar = NULL, *done = NULL, *size = NULL, *rate = NULL;

      if (p->step_total == 0)
        return NULL;
      bar = banger_cli_progress_bar (p->step_done, p->step_total, 24);
      done = banger_cli_format_size (p->step_done);
      size = banger_cli_format_size (p->step_total);
      rate = banger_cli_progress_rate (p->step_done, p->step_total, now - p->step_start_us);
      return g_strdup_printf ("%s: %s %s %s/%s %s", p->what, where, bar, done, size, rate);
    }
  if (p->total_size > 0)
    {
      g_autofree char *bar = banger_cli_progress_bar (p->total_done, p->total_size, 24);
      g_autofree char *done = banger_cli_format_size (p->total_done);
      g_autofree char *size = banger_cli_format_size (p->total_size);
      g_autofree char *rate
          = banger_cli_progress_rate (p->total_done, p->total_size, now - p->start_us);
      return g_strdup_printf ("%s %s %s/%s %s (blob %u: %u%%)", p->what, bar, done, size, rate,
                              p->index,
                              p->blob_size ? (guint)(p->blob_done * 100 / p->blob_size) : 0);
    }
  return NULL;
}

static void
draw (BangerCliProgress *p)
{
  static const char spinner[] = "|/-\\";
  gint64 now = g_get_monotonic_time ();
  g_autofree char *text = NULL;

  if (p->quiet || !p->tty)
    return;
  text = line_text (p, now);
  if (text != NULL)
    fprintf (stderr, "\r\033[K%s", text);
  else if (p->step != NULL)
    fprintf (stderr, "\r\033[K%s: %s (%u/%u) %c %.0f s", p->what, p->step, p->step_index,
             p->step_count, spinner[p->spin++ % 4], (double)(now - p->start_us) / G_USEC_PER_SEC);
  else
    fprintf (stderr, "\r\033[K%s %c %.0f s", p->what, spinner[p->spin++ % 4],
             (double)(now - p->start_us) / G_USEC_PER_SEC);
  fflush (stderr);
  p->drawn = TRUE;
}

static gboolean
on_tick (gpointer data)
{
  draw (data);
  return G_SOURCE_CONTINUE;
}

BangerCliProgress *
banger_cli_progress_new (const char *what, gboolean quiet)
{
  BangerCliProgress *p = g_new0 (BangerCliProgress, 1);

  p->what = g_strdup (what);
  p->quiet = quiet;
  p->tty = isatty (STDERR_FILENO) && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  p->start_us = g_get_monotonic_time ();
  p->finished = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (quiet)
    return p;
  if (p->tty)
    {
      draw (p);
      p->tick = g_timeout_add (200, on_tick, p);
    }
  else
    g_printerr ("%s\n", what);
  return p;
}

void
banger_cli_progress_update (BangerCliProgress *p, guint index, const char *blob,
                            guint64 blob_done, guint64 blob_size, guint64 total_done,
                            guint64 total_size)
{
  p->index = index;
  p->blob_done = blob_done;
  p->blob_size = blob_size;
  p->total_done = total_done;
  p->total_size = total_size;
  if (p->quiet)
    return;
  if (p->tty)
    {
      draw (p);
      return;
    }
  if (blob != NULL && blob_done == blob_size && !g_hash_table_contains (p->finished, blob))
    {
      g_autofree char *size = banger_cli_format_size (blob_size);
      g_autofree char *done = banger_cli_format_size (total_done);
      g_autofree char *total = banger_cli_format_size (total_size);
      g_hash_table_add (p->finished, g_strdup (blob));
      g_printerr ("  %s %s: %s done (%s of %s)\n", index == 0 ? "config" : "layer", blob, size,
                  done, total);
    }
}

void
banger_cli_progress_event (BangerCliProgress *p, const char *op_id, const char *kind,
                           const char *step, guint index, guint count, guint64 bytes_done,
                           guint64 bytes_total)
{
  if (p->op_id == NULL || g_strcmp0 (op_id, p->op_id) != 0)
    return; /* not this command's call */
  if (g_strcmp0 (kind, "pull") == 0)
    {
      if (bytes_total > 0)
        banger_cli_progress_update (p, index, NULL, 0, 0, bytes_done, bytes_total);
      return;
    }
  if (step == NULL)
    return;
  if (g_strcmp0 (step, p->step) != 0 || index != p->step_index)
    {
      g_free (p->step);
      p->step = g_strdup (step);
      p->step_index = index;
      p->step_count = count;
      p->step_done = 0;
      p->step_total = 0;
      p->step_start_us = g_get_monotonic_time ();
    }
  if (bytes_total > 0)
    {
      p->step_done = bytes_done;
      p->step_total = bytes_total;
    }
  draw (p);
}

static void
on_progress (BangerClient *client G_GNUC_UNUSED, const char *op_id, const char *kind,
             const char *target G_GNUC_UNUSED, const char *step, guint index, guint count,
             guint64 bytes_done, guint64 bytes_total, gpointer user_data)
{
  banger_cli_progress_event (user_data, op_id, kind, step, index, count, bytes_done, bytes_total);
}

void
banger_cli_progress_watch (BangerCliProgress *p, BangerClient *client)
{
  g_autoptr (GAsyncResult) res = NULL;

  if (p->quiet)
    return;
  banger_client_subscribe_async (client, NULL, banger_cli_done, &res);
  if (!banger_client_subscribe_finish (client, banger_cli_wait (&res), NULL))
    return;
  p->client = g_object_ref (client);
  p->handler = g_signal_connect (client, "progress", G_CALLBACK (on_progress), p);
}

void
banger_cli_progress_set_op_id (BangerCliProgress *p, const char *op_id)
{
  g_free (p->op_id);
  p->op_id = g_strdup (op_id);
}

void
banger_cli_progress_unwatch (BangerCliProgress *p)
{
  if (p->client == NULL)
    return;
  g_signal_handler_disconnect (p->client, p->handler);
  banger_client_unsubscribe (p->client);
  g_clear_object (&p->client);
}

void
banger_cli_progress_finish (BangerCliProgress *p, const char *result)
{
  gint64 elapsed = g_get_monotonic_time () - p->start_us;

  banger_cli_progress_unwatch (p);
  if (p->tick != 0)
    g_source_remove (p->tick);
  if (!p->quiet)
    {
      if (p->tty && p->drawn)
        fprintf (stderr, "\r\033[K");
      if (result != NULL)
        g_printerr ("%s: %s in %.1f s\n", p->what, result, (double)elapsed / G_USEC_PER_SEC);
      fflush (stderr);
    }
  g_hash_table_unref (p->finished);
  g_free (p->what);
  g_free (p->op_id);
  g_free (p->step);
  g_free (p);
}
