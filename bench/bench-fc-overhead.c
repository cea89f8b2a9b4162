/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-fc-overhead: what the Firecracker driver costs per VM boot.
 *
 * Against the fake Firecracker (tests/fakes/firecracker), each iteration
 * boots one VM twice, interleaved:
 *   driver  BangerVmmFirecracker: prepare, then launch + configure + start
 *           (the timed part: spawn to InstanceStart acknowledged)
 *   raw     the same process spawned with the same argv, then the very same
 *           requests (replayed byte for byte from the fake's log of the
 *           driver's run) written by hand on one connection with plain
 *           connect/write/read, polling connect() every 1 ms until the
 *           socket answers
 * and reports the medians, the ratio driver/raw and the difference, for the
 * whole boot and for the API part alone (first answered request to
 * InstanceStart acknowledged).  The fake's own time is in both sides.
 *
 *   bench-fc-overhead [-n ITERATIONS (30)] [--fake DIR]
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-vmm-firecracker.h"

typedef struct
{
  char *method, *path, *body; /* body: NULL for none */
} Req;

static void
req_free (gpointer p)
{
  Req *r = p;
  g_free (r->method);
  g_free (r->path);
  g_free (r->body);
  g_free (r);
}

static int
rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void
die (const char *what, GError *error)
{
  g_printerr ("bench-fc-overhead: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

static BangerVmmConfig *
make_config (const char *tmp, const char *run_sub)
{
  g_autofree char *run = g_build_filename (tmp, run_sub, NULL);
  g_autofree char *kernel = g_build_filename (tmp, "vmlinux", NULL);
  g_autofree char *rootfs = g_build_filename (tmp, "rootfs.ext4", NULL);
  g_autofree char *work = g_build_filename (tmp, "work.ext4", NULL);
  BangerVmmConfig *c = banger_vmm_config_new ("bench-vm", run);

  c->kernel_path = g_strdup (kernel);
  c->vcpus = 2;
  c->mem_mib = 256;
  banger_vmm_config_add_drive (c, "rootfs", rootfs, TRUE, FALSE);
  banger_vmm_config_add_drive (c, "work", work, FALSE, FALSE);
  banger_vmm_config_add_nic (c, "eth0", "bngbench0", NULL);
  c->guest_ip = g_strdup ("172.30.0.2");
  c->gateway_ip = g_strdup ("172.30.0.1");
  c->entropy = TRUE;
  c->balloon_mib = 16;
  c->mmds = json_from_string ("{\"banger\": {\"vm\": \"bench-vm\"}}", NULL);
  return c;
}

/* One driver boot; returns spawn->InstanceStart and API-only times (µs). */
static void
driver_boot (const char *tmp, const char *fc, const char *run_sub, gint64 *total, gint64 *api,
             GPtrArray **out_argv)
{
  g_autoptr (BangerVmm) v = banger_vmm_firecracker_new (make_config (tmp, run_sub), fc);
  g_autoptr (GError) error = NULL;
  gint64 t0, t1, t2;

  if (!banger_vmm_prepare (v, &error))
    die ("prepare", error);
  t0 = g_get_monotonic_time ();
  if (!banger_vmm_launch (v, NULL, &error))
    die ("launch", error);
  t1 = g_get_monotonic_time ();
  if (!banger_vmm_configure (v, NULL, &error)
      || !banger_vmm_start (v, NULL, &error))
    die ("configure/start", error);
  t2 = g_get_monotonic_time ();
  *total = t2 - t0;
  /* the launch ends with the first answered GET /: count from there */
  *api = t2 - t1;
  if (out_argv != NULL)
    {
      const char *const *a = banger_vmm_firecracker_get_argv (BANGER_VMM_FIRECRACKER (v));
      *out_argv = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; a[i]; i++)
        g_ptr_array_add (*out_argv, g_strdup (a[i]));
      g_ptr_array_add (*out_argv, NULL);
    }
  if (!banger_vmm_kill (v, &error))
    die ("kill", error);
}

/* ------------------------------------------------------------- raw client */

static gboolean
read_response (int fd, GString *buf, guint *status)
{
  char tmp[4096];
  const char *hdr_end;
  gsize need;
  const char *cl;

  g_string_truncate (buf, 0);
  for (;;)
    {
      ssize_t n;

      hdr_end = strstr (buf->str, "\r\n\r\n");
      if (hdr_end != NULL)
        break;
      n = read (fd, tmp, sizeof tmp);
      if (n <= 0)
        return FALSE;
      g_string_append_len (buf, tmp, n);
    }
  *status = (guint) atoi (buf->str + 9); /* "HTTP/1.1 204" */
  cl = g_strstr_len (buf->str, hdr_end - buf->str, "Content-Length: ");
  need = (gsize) (hdr_end + 4 - buf->str) + (cl ? (gsize) atoi (cl + 16) : 0);
  while (buf->len < need)
    {
      ssize_t n = read (fd, tmp, sizeof tmp);
      if (n <= 0)
        return FALSE;
      g_string_append_len (buf, tmp, n);
    }
  return TRUE;
}

static gboolean
send_req (int fd, const Req *r, GString *buf)
{
  g_autofree char *msg = NULL;
  guint status = 0;
  gsize len, off = 0;

  if (r->body)
    msg = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
                           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                           r->method, r->path, strlen (r->body), r->body);
  else
    msg = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n",
                           r->method, r->path);
  len = strlen (msg);
  while (off < len)
    {
      ssize_t n = write (fd, msg + off, len - off);
      if (n <= 0)
        return FALSE;
      off += (gsize) n;
    }
  if (!read_response (fd, buf, &status))
    return FALSE;
  if (status < 200 || status > 299)
    {
      g_printerr ("bench-fc-overhead: raw %s %s -> %u: %s\n", r->method, r->path, status,
                  buf->str);
      exit (1);
    }
  return TRUE;
}

static void
raw_boot (GPtrArray *argv, const char *sock, GPtrArray *reqs, gint64 *total, gint64 *api)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autoptr (GString) buf = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gint64 t0, t1 = 0, t2;
  GPid pid;
  int fd = -1;

  g_strlcpy (addr.sun_path, sock, sizeof addr.sun_path);
  unlink (sock);
  t0 = g_get_monotonic_time ();
  if (!g_spawn_async (NULL, (char **) argv->pdata, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                          | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &pid, &error))
    die ("spawn", error);
  for (guint i = 0; i < reqs->len; i++)
    {
      const Req *r = reqs->pdata[i];
      if (i == 0)
        {
          /* wait for the socket: connect every 1 ms; the first request
           * (GET /) is the readiness probe, as in the driver */
          for (;;)
            {
              fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
              if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
                break;
              close (fd);
              if (g_get_monotonic_time () - t0 > 10 * G_TIME_SPAN_SECOND)
                die ("raw: socket never appeared", NULL);
              g_usleep (1000);
            }
        }
      if (!send_req (fd, r, buf))
        die ("raw: request failed", NULL);
      if (i == 0)
        t1 = g_get_monotonic_time ();
    }
  t2 = g_get_monotonic_time ();
  *total = t2 - t0;
  *api = t2 - t1;
  close (fd);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
}

/* The requests the driver made, from the fake's log, in order. */
static GPtrArray *
load_requests (const char *log)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (req_free);

  if (!g_file_get_contents (log, &contents, NULL, NULL))
    die ("reading the request log", NULL);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_autoptr (JsonNode) n = NULL;
      JsonObject *o;
      JsonNode *body;
      Req *r;

      if (lines[i][0] == '\0')
        continue;
      n = json_from_string (lines[i], NULL);
      o = json_node_get_object (n);
      r = g_new0 (Req, 1);
      r->method = g_strdup (json_object_get_string_member (o, "method"));
      r->path = g_strdup (json_object_get_string_member (o, "path"));
      body = json_object_get_member (o, "body");
      if (body != NULL && !JSON_NODE_HOLDS_NULL (body))
        r->body = json_to_string (body, FALSE);
      g_ptr_array_add (out, r);
    }
  return out;
}

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static double
median_ms (GArray *a)
{
  g_array_sort (a, cmp_i64);
  if (a->len == 0)
    return 0;
  if (a->len % 2)
    return g_array_index (a, gint64, a->len / 2) / 1000.0;
  return (g_array_index (a, gint64, a->len / 2 - 1) + g_array_index (a, gint64, a->len / 2))
         / 2000.0;
}

int
main (int argc, char **argv)
{
  const char *fake_dir = FAKE_FC_DIR;
  int iterations = 30;
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *fc = NULL;
  g_autofree char *log = NULL;
  g_autofree char *spec = NULL;
  g_autoptr (GPtrArray) fc_argv = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  g_autoptr (GArray) d_total = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) d_api = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) r_total = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GArray) r_api = g_array_new (FALSE, FALSE, sizeof (gint64));
  static const struct option opts[] = {
    { "iterations", required_argument, NULL, 'n' },
    { "fake", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  const char *sock;
  double dt, da, rt, ra;

  while ((c = getopt_long (argc, argv, "n:f:", opts, NULL)) != -1)
    {
      if (c == 'n')
        iterations = MAX (1, atoi (optarg));
      else if (c == 'f')
        fake_dir = optarg;
      else
        {
          g_printerr ("usage: bench-fc-overhead [-n ITERATIONS] [--fake DIR]\n");
          return 2;
        }
    }

  tmp = g_dir_make_tmp ("bfc-bench-XXXXXX", &error);
  if (tmp == NULL)
    die ("tmpdir", error);
  {
    const char *names[] = { "vmlinux", "rootfs.ext4", "work.ext4" };
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *p = g_build_filename (tmp, names[i], NULL);
        if (!g_file_set_contents (p, "x", 1, &error))
          die ("staging", error);
      }
  }
  fc = g_build_filename (fake_dir, "fake-firecracker.py", NULL);
  log = g_build_filename (tmp, "requests.log", NULL);
  spec = g_build_filename (fake_dir, "firecracker-api.yaml", NULL);
  g_setenv ("FAKE_FC_SPEC", spec, TRUE);

  /* one recorded driver run gives the exact requests the raw client sends */
  g_setenv ("FAKE_FC_LOG", log, TRUE);
  {
    gint64 a, b;
    driver_boot (tmp, fc, "warmup", &a, &b, &fc_argv);
  }
  g_unsetenv ("FAKE_FC_LOG");
  reqs = load_requests (log);
  sock = g_ptr_array_index (fc_argv, 2); /* fc --api-sock PATH --id ID */

  for (int i = 0; i < iterations; i++)
    {
      /* alternate which side goes first, so neither always runs right
       * after the other's process teardown */
      for (int side = 0; side < 2; side++)
        {
          gint64 t, a;
          if ((side + i) % 2 == 0)
            {
              driver_boot (tmp, fc, "warmup", &t, &a, NULL);
              g_array_append_val (d_total, t);
              g_array_append_val (d_api, a);
            }
          else
            {
              raw_boot (fc_argv, sock, reqs, &t, &a);
              g_array_append_val (r_total, t);
              g_array_append_val (r_api, a);
            }
        }
    }
  dt = median_ms (d_total);
  da = median_ms (d_api);
  rt = median_ms (r_total);
  ra = median_ms (r_api);

  g_print ("Firecracker driver overhead against the fake (%d iterations, %u API requests per "
           "boot, medians)\n\n",
           iterations, reqs->len);
  g_print ("| measure | driver (ms) | raw (ms) | ratio driver/raw | driver - raw (ms) |\n");
  g_print ("| --- | ---: | ---: | ---: | ---: |\n");
  g_print ("| spawn to InstanceStart acknowledged | %.2f | %.2f | %.3f | %+.2f |\n", dt, rt,
           dt / rt, dt - rt);
  g_print ("| API sequence (socket answering to InstanceStart) | %.2f | %.2f | %.3f | %+.2f |\n",
           da, ra, da / ra, da - ra);

  nftw (tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
