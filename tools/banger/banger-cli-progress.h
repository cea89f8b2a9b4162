/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Progress of a long CLI operation (pulls, snapshots, restores) on stderr:
 * a live line with a bar, bytes, rate and ETA (and the step a snapshot or
 * restore is at) on a terminal; plain lines otherwise (one when it starts,
 * one per finished layer of a pull, one at the end).  Fed from the
 * engine's progress events (BangerClient::progress) of this command's own
 * call only: the op id the client made for it
 * (banger_client_get_last_op_id()), so another client's operation at the
 * same moment never moves this line. */
#pragma once

#include <banger.h>

G_BEGIN_DECLS

typedef struct _BangerCliProgress BangerCliProgress;

/* @what: "Pulling docker.io/library/alpine:3.19".  @quiet (--json): print
 * nothing.  Ticks the live line every 200 ms in the thread-default main
 * context while it lives. */
BangerCliProgress *banger_cli_progress_new (const char *what, gboolean quiet);

/* Subscribes @client to the event stream (waits for it; a failure leaves
 * the line with elapsed time only) and feeds @p from its progress events
 * whose op id is the one set with banger_cli_progress_set_op_id(). */
void banger_cli_progress_watch (BangerCliProgress *p, BangerClient *client);
/* The op id of this command's call: read it right after the _async call. */
void banger_cli_progress_set_op_id (BangerCliProgress *p, const char *op_id);
/* Stops feeding (and unsubscribes) before the last line. */
void banger_cli_progress_unwatch (BangerCliProgress *p);

/* One progress event (what watch connects): a pull's (kind "pull") feeds
 * the totals; a snapshot's or restore's the step line; another op id's is
 * ignored. */
void banger_cli_progress_event (BangerCliProgress *p, const char *op_id, const char *kind,
                                const char *step, guint index, guint count, guint64 bytes_done,
                                guint64 bytes_total);

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
