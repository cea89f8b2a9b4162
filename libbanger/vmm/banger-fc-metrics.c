/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Firecracker metrics parsing (see banger-fc-metrics.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "banger-error-private.h"
#include "banger-fc-metrics.h"

struct _BangerFcMetrics
{
  int fd;
  GString *partial;
  gboolean discarding; /* inside an over-long line: drop until newline */
  BangerFcMetricsTotals totals;
  guint64 bad_lines;
};

static guint64
counter (JsonObject *root, const char *group, const char *name)
{
  JsonNode *g = json_object_get_member (root, group);
  JsonNode *v;

  if (g == NULL || !JSON_NODE_HOLDS_OBJECT (g))
    return 0;
  v = json_object_get_member (json_node_get_object (g), name);
  if (v == NULL || !JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (v) > 0 ? (guint64) json_node_get_int (v) : 0;
}

gboolean
banger_fc_metrics_parse_line (const char *line, gsize len, BangerFcMetricsTotals *t,
                              GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *obj;

  if (len > BANGER_FC_METRICS_MAX_LINE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Firecracker metrics line of %" G_GSIZE_FORMAT " bytes is too long", len);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, line, (gssize) len, &local_error))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Firecracker metrics line is not JSON: %s", local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "Firecracker metrics line is not a JSON object");
      return FALSE;
    }
  obj = json_node_get_object (root);
  t->lines++;
  t->net_rx_bytes += counter (obj, "net", "rx_bytes_count");
  t->net_tx_bytes += counter (obj, "net", "tx_bytes_count");
  t->block_read_bytes += counter (obj, "block", "read_bytes");
  t->block_write_bytes += counter (obj, "block", "write_bytes");
  if (json_object_has_member (obj, "utc_timestamp_ms"))
    {
      JsonNode *ts = json_object_get_member (obj, "utc_timestamp_ms");
      if (JSON_NODE_HOLDS_VALUE (ts) && json_node_get_value_type (ts) == G_TYPE_INT64)
        t->last_timestamp_ms = json_node_get_int (ts);
    }
  return TRUE;
}

BangerFcMetrics *
banger_fc_metrics_open (const char *path, GError **error)
{
  BangerFcMetrics *m;
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open the Firecracker metrics '%s'",
                                   path);
      return NULL;
    }
  m = g_new0 (BangerFcMetrics, 1);
  m->fd = fd;
  m->partial = g_string_new (NULL);
  return m;
}

void
banger_fc_metrics_free (BangerFcMetrics *m)
{
  if (m == NULL)
    return;
  if (m->fd >= 0)
    close (m->fd);
  g_string_free (m->partial, TRUE);
  g_free (m);
}

static void
consume (BangerFcMetrics *m, const char *buf, gsize n)
{
  while (n > 0)
    {
      const char *nl = memchr (buf, '\n', n);
      gsize chunk = nl ? (gsize) (nl - buf) : n;

      if (!m->discarding)
        {
          if (m->partial->len + chunk > BANGER_FC_METRICS_MAX_LINE)
            {
              m->discarding = TRUE;
              g_string_truncate (m->partial, 0);
            }
          else
            g_string_append_len (m->partial, buf, (gssize) chunk);
        }
      if (nl == NULL)
        return;
      if (m->discarding)
        m->bad_lines++;
      else if (m->partial->len > 0
               && !banger_fc_metrics_parse_line (m->partial->str, m->partial->len, &m->totals,
                                                 NULL))
        m->bad_lines++;
      m->discarding = FALSE;
      g_string_truncate (m->partial, 0);
      buf = nl + 1;
      n -= chunk + 1;
    }
}

gboolean
banger_fc_metrics_update (BangerFcMetrics *m, GError **error)
{
  char buf[16384];
  /* bound one update: a runaway writer cannot keep us here */
  gsize budget = 64 * 1024 * 1024;

  while (budget > 0)
    {
      ssize_t r = read (m->fd, buf, sizeof buf);
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)
            break;
          return banger_set_error_from_errno (error, errno,
                                              "Cannot read the Firecracker metrics");
        }
      if (r == 0)
        break;
      consume (m, buf, (gsize) r);
      budget -= MIN (budget, (gsize) r);
    }
  return TRUE;
}

const BangerFcMetricsTotals *
banger_fc_metrics_get_totals (BangerFcMetrics *m)
{
  return &m->totals;
}

guint64
banger_fc_metrics_get_bad_lines (BangerFcMetrics *m)
{
  return m->bad_lines;
}
