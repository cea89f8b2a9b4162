/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer harness: Firecracker's metrics lines and API error bodies, the
 * bytes the Firecracker driver reads from a process it does not trust
 * (banger_fc_metrics_parse_line, the metrics stream reader, and
 * banger_fc_parse_fault). */
#include "config.h"

#include <stdint.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-fc-http.h"
#include "banger-fc-metrics.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  BangerFcMetricsTotals t = { 0 };
  g_autofree char *fault = NULL;
  g_autofree char *path = NULL;
  int fd;

  /* one line */
  banger_fc_metrics_parse_line ((const char *) data, size, &t, NULL);
  /* an error body */
  fault = banger_fc_parse_fault ((const char *) data, size);
  /* a stream: split the input into two appends to cross line boundaries */
  fd = g_file_open_tmp ("fuzz-fc-metrics-XXXXXX", &path, NULL);
  if (fd >= 0)
    {
      g_autoptr (BangerFcMetrics) m = banger_fc_metrics_open (path, NULL);
      size_t half = size / 2;
      if (write (fd, data, half) == (ssize_t) half && m != NULL)
        {
          banger_fc_metrics_update (m, NULL);
          if (write (fd, data + half, size - half) == (ssize_t) (size - half))
            banger_fc_metrics_update (m, NULL);
        }
      close (fd);
      g_unlink (path);
    }
  return 0;
}
