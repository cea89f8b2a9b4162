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

static void
draw (BangerCliProgress *p)
{
  static const char spinner[] = "|/-\\";
  gint64 elapsed = g_get_monotonic_time () - p->start_us;

  if (p->quiet || !p->tty)
    return;
  if (p->total_size > 0)
    {
      g_autofree char *bar = banger_cli_progress_bar (p->total_done, p->total_size, 24);
      g_autofree char *done = banger_cli_format_size (p->total_done);
      g_autofree char *size = banger_cli_format_size (p->total_size);
      g_autofree char *rate = banger_cli_progress_rate (p->total_done, p->total_size, elapsed);
      fprintf (stderr, "\r\033[K%s %s %s/%s %s (blob %u: %u%%)", p->what, bar, done, size, rate,
               p->index, p->blob_size ? (guint)(p->blob_done * 100 / p->blob_size) : 0);
    }
  else
    fprintf (stderr, "\r\033[K%s %c %.0f s", p->what, spinner[p->spin++ % 4],
             (double)elapsed / G_USEC_PER_SEC);
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
banger_cli_progress_finish (BangerCliProgress *p, const char *result)
{
  gint64 elapsed = g_get_monotonic_time () - p->start_us;

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
  g_free (p);
}
