/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Firecracker's metrics: newline-delimited JSON objects, one per flush
 * (FlushMetrics, and every 60 s), written to the file or FIFO given to
 * PUT /metrics.  Firecracker's counters (SharedIncMetric) are deltas since
 * the previous flush, so the totals here are sums over every line read.
 *
 * BangerFcMetrics follows the file (or FIFO) through one O_NONBLOCK fd:
 * each update reads what was appended since the last one, keeps a partial
 * last line for next time, and adds each complete line to the totals. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A line longer than this is refused (a real one is a few KiB). */
#define BANGER_FC_METRICS_MAX_LINE (256 * 1024)

typedef struct
{
  guint64 lines;            /* flushes seen */
  guint64 net_rx_bytes;     /* "net": {"rx_bytes_count"} (all interfaces) */
  guint64 net_tx_bytes;     /* "net": {"tx_bytes_count"} */
  guint64 block_read_bytes; /* "block": {"read_bytes"} (all drives) */
  guint64 block_write_bytes;/* "block": {"write_bytes"} */
  gint64 last_timestamp_ms; /* "utc_timestamp_ms" of the newest line */
} BangerFcMetricsTotals;

/* Add one metrics line (without its newline) to @totals.  FALSE with a
 * BANGER_ERROR_PROTOCOL error when it is not a JSON object; missing groups
 * and counters count as 0 (they differ between Firecracker versions). */
gboolean banger_fc_metrics_parse_line (const char *line, gsize len,
                                       BangerFcMetricsTotals *totals, GError **error);

typedef struct _BangerFcMetrics BangerFcMetrics;

/* Open @path (a regular file or a FIFO) for reading, O_NONBLOCK. */
BangerFcMetrics *banger_fc_metrics_open (const char *path, GError **error);
void banger_fc_metrics_free (BangerFcMetrics *m);
/* Read what is new; malformed lines are skipped and counted. */
gboolean banger_fc_metrics_update (BangerFcMetrics *m, GError **error);
const BangerFcMetricsTotals *banger_fc_metrics_get_totals (BangerFcMetrics *m);
guint64 banger_fc_metrics_get_bad_lines (BangerFcMetrics *m);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerFcMetrics, banger_fc_metrics_free)

G_END_DECLS
