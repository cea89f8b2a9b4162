/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Progress of a long CLI operation (pulls) on stderr: a live line with a
 * bar, bytes, rate and ETA on a terminal; plain lines otherwise (one when
 * it starts, one per finished layer, one at the end).  Fed from progress
 * reports (blob index, its bytes, the totals) — today the engine's pull
 * reports reach it only in-process; the daemon's event stream
 * (BangerClient::progress) is the feed across the socket. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerCliProgress BangerCliProgress;

/* @what: "Pulling docker.io/library/alpine:3.19".  @quiet (--json): print
 * nothing.  Ticks the live line every 200 ms in the thread-default main
 * context while it lives. */
BangerCliProgress *banger_cli_progress_new (const char *what, gboolean quiet);

/* One report: blob @index (0 = config, 1.. = layers) at @blob_done of
 * @blob_size, the whole at @total_done of @total_size (0: unknown). */
void banger_cli_progress_update (BangerCliProgress *p, guint index, const char *blob,
                                 guint64 blob_done, guint64 blob_size, guint64 total_done,
                                 guint64 total_size);

/* The last line: @result ("docker.io/…@sha256:… as alpine-3.19") or the
 * failure (NULL), and frees @p. */
void banger_cli_progress_finish (BangerCliProgress *p, const char *result);

/* "[#####-----]" of @width cells for @done of @total; rate and ETA text
 * ("3.2 MB/s, 11 s left") from @done bytes over @elapsed_us.  For the
 * tests. */
char *banger_cli_progress_bar (guint64 done, guint64 total, guint width);
char *banger_cli_progress_rate (guint64 done, guint64 total, gint64 elapsed_us);

G_END_DECLS
