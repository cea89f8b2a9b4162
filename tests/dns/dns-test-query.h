/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Building DNS queries byte by byte and reading responses, for the DNS
 * tests and the benchmark.  Header-only. */
#pragma once

#include <string.h>

#include <glib.h>

static inline void
dq_u16 (GByteArray *q, guint v)
{
  guint8 b[2] = { (guint8)(v >> 8), (guint8)v };

  g_byte_array_append (q, b, 2);
}

static inline void
dq_u32 (GByteArray *q, guint32 v)
{
  dq_u16 (q, v >> 16);
  dq_u16 (q, v & 0xFFFF);
}

static inline void
dq_u8 (GByteArray *q, guint v)
{
  guint8 b = (guint8)v;

  g_byte_array_append (q, &b, 1);
}

/* A header: @id, flags byte 2 (RD = 0x01), counts. */
static inline GByteArray *
dq_header (guint16 id, guint flags2, guint qd, guint an, guint ns, guint ar)
{
  GByteArray *q = g_byte_array_new ();

  dq_u16 (q, id);
  dq_u8 (q, flags2);
  dq_u8 (q, 0);
  dq_u16 (q, qd);
  dq_u16 (q, an);
  dq_u16 (q, ns);
  dq_u16 (q, ar);
  return q;
}

/* A dotted name ("" is the root) as uncompressed labels. */
static inline void
dq_name (GByteArray *q, const char *dotted)
{
  g_auto (GStrv) labels = g_strsplit (dotted, ".", -1);

  for (guint i = 0; dotted[0] != '\0' && labels[i] != NULL; i++)
    {
      dq_u8 (q, (guint)strlen (labels[i]));
      g_byte_array_append (q, (const guint8 *)labels[i], (guint)strlen (labels[i]));
    }
  dq_u8 (q, 0);
}

/* An OPT record: @udp_size, @version, @rdata (options) of @rdlen bytes. */
static inline void
dq_opt (GByteArray *q, guint udp_size, guint version, const guint8 *rdata, guint rdlen)
{
  dq_u8 (q, 0);
  dq_u16 (q, 41);
  dq_u16 (q, udp_size);
  dq_u32 (q, (guint32)version << 16);
  dq_u16 (q, rdlen);
  if (rdlen > 0)
    g_byte_array_append (q, rdata, rdlen);
}

/* The usual query: one question @name @qtype IN, RD, optional OPT. */
static inline GByteArray *
dq_query (guint16 id, const char *name, guint qtype, gboolean edns)
{
  GByteArray *q = dq_header (id, 0x01, 1, 0, 0, edns ? 1 : 0);

  dq_name (q, name);
  dq_u16 (q, qtype);
  dq_u16 (q, 1);
  if (edns)
    dq_opt (q, 4096, 0, NULL, 0);
  return q;
}

static inline guint
dr_u16 (GBytes *r, gsize at)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (r, &len);

  g_assert (at + 2 <= len);
  return (guint)((p[at] << 8) | p[at + 1]);
}

#define dr_id(r) dr_u16 ((r), 0)
#define dr_flags(r) dr_u16 ((r), 2)
#define dr_rcode(r) (dr_u16 ((r), 2) & 0x0F)
#define dr_qd(r) dr_u16 ((r), 4)
#define dr_an(r) dr_u16 ((r), 6)
#define dr_ar(r) dr_u16 ((r), 10)
#define DR_QR 0x8000
#define DR_AA 0x0400
#define DR_TC 0x0200
#define DR_RD 0x0100
#define DR_RA 0x0080
