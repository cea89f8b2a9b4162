/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Root's side of the spawn tests: a thread that asks the real helper
 * priv.status over its own root connection every few milliseconds and keeps
 * the slowest answer, so a test can require that root was served promptly
 * (issue 8: the owner must never be able to stop the helper serving root). */
#pragma once

#include <unistd.h>

#include "host-test-util.h"

typedef struct
{
  int fd;
  GThread *thread;
  gint stop;
  double max_ms;
  guint answered;
  guint unanswered; /* no reply within 2 s, or an error reply */
} RootProbe;

static gpointer
root_probe_run (gpointer data)
{
  RootProbe *p = data;

  while (!g_atomic_int_get (&p->stop))
    {
      double ms = 0;
      g_autoptr (JsonObject) r = host_test_rpc (p->fd, "priv.status", "{}", 2000, &ms);

      if (r == NULL || host_test_rpc_error (r) != NULL)
        {
          p->unanswered++;
          if (r == NULL)
            break; /* the connection is no use any more */
        }
      else
        {
          p->answered++;
          p->max_ms = MAX (p->max_ms, ms);
        }
      g_usleep (10 * 1000);
    }
  return NULL;
}

static inline RootProbe *
root_probe_start (HostTestHelper *h)
{
  RootProbe *p = g_new0 (RootProbe, 1);

  p->fd = host_test_helper_connect (h->socket_path, 0, 0);
  ck_assert_int_ge (p->fd, 0);
  p->thread = g_thread_new ("root-probe", root_probe_run, p);
  return p;
}

/* Stop the probe and check root was answered every time within @bound_ms. */
static inline void
root_probe_finish (RootProbe *p, double bound_ms, const char *what)
{
  g_atomic_int_set (&p->stop, 1);
  g_thread_join (p->thread);
  close (p->fd);
  g_print ("# %s: root's priv.status answered %u times, slowest %.1f ms, %u unanswered\n", what,
           p->answered, p->max_ms, p->unanswered);
  ck_assert_msg (p->unanswered == 0, "%s: root's priv.status went unanswered %u times", what,
                 p->unanswered);
  ck_assert_msg (p->answered > 0, "%s: root's priv.status was never answered", what);
  ck_assert_msg (p->max_ms <= bound_ms, "%s: root's priv.status took %.1f ms (bound %.0f ms)",
                 what, p->max_ms, bound_ms);
  g_free (p);
}
