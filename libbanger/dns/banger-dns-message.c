/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Parsing a DNS query and building its response: see banger-dns-message.h
 * and doc/dns.md.  Every read is checked against the message length; a name
 * may use compression pointers only to an earlier offset than the part of
 * the name that holds them (so no loop is possible) and never into the
 * header; names are at most 255 octets on the wire. */
#include "config.h"

#include "banger-dns-message.h"

#include <string.h>

#define HEADER_LEN 12
#define NAME_MAX_WIRE 255
#define LABELS_MAX 128

/* Header flag bits (bytes 2 and 3). */
#define FLAG_QR 0x80
#define FLAG_AA 0x04
#define FLAG_TC 0x02
#define FLAG_RD 0x01
#define FLAG_CD 0x10
#define OPCODE_QUERY 0

typedef struct
{
  guint n;                /* labels, the root not counted */
  guint8 off[LABELS_MAX]; /* label i is data[off[i]] .. + len[i] */
  guint8 len[LABELS_MAX];
  guint8 data[NAME_MAX_WIRE]; /* the label bytes, ASCII-lowercased */
} Name;

typedef enum
{
  NAME_OK,
  NAME_BAD, /* out of bounds, bad label type, loop, too long */
} NameStatus;

static guint16
get16 (const guint8 *p)
{
  return (guint16)((p[0] << 8) | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

/* Read the name at @pos into @name (which may be NULL to only skip it);
 * *@out_end is the offset just after it in the message. */
static NameStatus
read_name (const guint8 *msg, gsize len, gsize pos, Name *name, gsize *out_end)
{
  gsize limit = pos; /* pointers must go strictly below this */
  gsize wire = 0;    /* octets of the uncompressed name so far */
  gsize end = 0;     /* set at the first pointer */
  guint n = 0, data_len = 0;

  for (;;)
    {
      guint8 c;

      if (pos >= len)
        return NAME_BAD;
      c = msg[pos];
      if ((c & 0xC0) == 0xC0)
        {
          gsize target;

          if (pos + 1 >= len)
            return NAME_BAD;
          target = ((gsize)(c & 0x3F) << 8) | msg[pos + 1];
          if (target < HEADER_LEN || target >= limit)
            return NAME_BAD;
          if (end == 0)
            end = pos + 2;
          limit = target;
          pos = target;
          continue;
        }
      if ((c & 0xC0) != 0) /* 0x40 and 0x80: extended / reserved label types */
        return NAME_BAD;
      wire += 1 + c;
      if (wire > NAME_MAX_WIRE)
        return NAME_BAD;
      if (c == 0)
        {
          if (end == 0)
            end = pos + 1;
          break;
        }
      if (pos + 1 + c > len)
        return NAME_BAD;
      if (name != NULL)
        {
          /* wire <= 255 bounds n and data_len below the arrays' sizes */
          name->off[n] = (guint8)data_len;
          name->len[n] = c;
          for (guint i = 0; i < c; i++)
            name->data[data_len + i] = (guint8)g_ascii_tolower (msg[pos + 1 + i]);
        }
      n++;
      data_len += c;
      pos += 1 + c;
    }
  if (name != NULL)
    name->n = n;
  *out_end = end;
  return NAME_OK;
}

/* Does label @i of @name equal the @slen bytes at @s? */
static gboolean
label_is (const Name *name, guint i, const char *s, gsize slen)
{
  return name->len[i] == slen && memcmp (name->data + name->off[i], s, slen) == 0;
}

/* Do the labels @first.. of @name spell @domain ("a.b.c", lowercase)? */
static gboolean
labels_are (const Name *name, guint first, const char *domain)
{
  const char *p = domain;
  guint i = first;

  for (;;)
    {
      const char *dot = strchr (p, '.');
      gsize seg = dot != NULL ? (gsize)(dot - p) : strlen (p);

      if (i >= name->n || !label_is (name, i, p, seg))
        return FALSE;
      i++;
      if (dot == NULL)
        return i == name->n;
      p = dot + 1;
    }
}

static guint
count_labels (const char *domain)
{
  guint n = 1;

  for (const char *p = domain; *p != '\0'; p++)
    n += *p == '.';
  return n;
}

/* A decimal octet of an in-addr.arpa name: 1..3 digits, no leading zero,
 * at most 255. */
static gboolean
octet_of (const Name *name, guint i, guint *out)
{
  const guint8 *s = name->data + name->off[i];
  guint len = name->len[i], v = 0;

  if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
    return FALSE;
  for (guint k = 0; k < len; k++)
    {
      if (!g_ascii_isdigit (s[k]))
        return FALSE;
      v = v * 10 + (guint)(s[k] - '0');
    }
  if (v > 255)
    return FALSE;
  *out = v;
  return TRUE;
}

/* ------------------------------------------------------------ writer */

typedef struct
{
  guint8 buf[1024]; /* the largest response is ~600 bytes */
  gsize len;
  gboolean overflow;
} Writer;

static void
put (Writer *w, const void *data, gsize n)
{
  if (w->overflow || n > sizeof w->buf - w->len)
    {
      w->overflow = TRUE;
      return;
    }
  memcpy (w->buf + w->len, data, n);
  w->len += n;
}

static void
put8 (Writer *w, guint8 v)
{
  put (w, &v, 1);
}

static void
put16 (Writer *w, guint16 v)
{
  guint8 b[2] = { (guint8)(v >> 8), (guint8)v };

  put (w, b, 2);
}

static void
put32 (Writer *w, guint32 v)
{
  guint8 b[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };

  put (w, b, 4);
}

/* @label (a VM name) then @domain's labels, as an uncompressed name. */
static void
put_host_name (Writer *w, const char *label, const char *domain)
{
  const char *p = domain;

  put8 (w, (guint8)strlen (label));
  put (w, label, strlen (label));
  for (;;)
    {
      const char *dot = strchr (p, '.');
      gsize seg = dot != NULL ? (gsize)(dot - p) : strlen (p);

      put8 (w, (guint8)seg);
      put (w, p, seg);
      if (dot == NULL)
        break;
      p = dot + 1;
    }
  put8 (w, 0);
}

static void
put_header (Writer *w, const guint8 *query, guint8 flags2, guint8 rcode, guint16 qd, guint16 an,
            guint16 ar)
{
  /* QR, the query's opcode and RD; CD copied (RFC 6840 5.9); RA never */
  guint8 f2 = (guint8)(FLAG_QR | (query[2] & (0x78 | FLAG_RD)) | flags2);
  guint8 f3 = (guint8)((query[3] & FLAG_CD) | (rcode & 0x0F));

  put (w, query, 2);
  put8 (w, f2);
  put8 (w, f3);
  put16 (w, qd);
  put16 (w, an);
  put16 (w, 0);
  put16 (w, ar);
}

static void
put_opt (Writer *w, guint rcode)
{
  put8 (w, 0);
  put16 (w, BANGER_DNS_TYPE_OPT);
  put16 (w, BANGER_DNS_EDNS_UDP_MAX);
  put32 (w, (guint32)(rcode >> 4) << 24); /* extended rcode, version 0, DO clear */
  put16 (w, 0);
}

static GBytes *
header_only (const guint8 *query, guint8 rcode)
{
  Writer w = { .len = 0 };

  put_header (&w, query, 0, rcode, 0, 0, 0);
  return g_bytes_new (w.buf, w.len);
}

/* ------------------------------------------------------------ answer */

typedef struct
{
  gboolean has_opt;
  guint16 udp_size;
  guint8 version;
} Edns;

/* Skip (bounds-checked) the additional section; find the OPT record.
 * FALSE: malformed (FORMERR). */
static gboolean
read_additional (const guint8 *msg, gsize len, gsize pos, guint count, Edns *edns)
{
  for (guint i = 0; i < count; i++)
    {
      gsize name_start = pos, end;
      guint16 type, rdlen;

      if (read_name (msg, len, pos, NULL, &end) != NAME_OK)
        return FALSE;
      pos = end;
      if (len - pos < 10)
        return FALSE;
      type = get16 (msg + pos);
      rdlen = get16 (msg + pos + 8);
      if (len - pos - 10 < rdlen)
        return FALSE;
      if (type == BANGER_DNS_TYPE_OPT)
        {
          gsize o = pos + 10, oend = pos + 10 + rdlen;

          /* one OPT, owned by the root (RFC 6891 6.1.1) */
          if (edns->has_opt || msg[name_start] != 0 || end != name_start + 1)
            return FALSE;
          edns->has_opt = TRUE;
          edns->udp_size = get16 (msg + pos + 2);
          edns->version = (guint8)(get32 (msg + pos + 4) >> 16);
          /* the options must tile the RDATA exactly */
          while (o < oend)
            {
              if (oend - o < 4 || oend - o - 4 < get16 (msg + o + 2))
                return FALSE;
              o += 4 + get16 (msg + o + 2);
            }
        }
      pos += 10 + rdlen;
    }
  return pos == len; /* nothing after the last record */
}

GBytes *
banger_dns_answer (BangerDnsTable *table, const guint8 *msg, gsize len,
                   BangerDnsTransport transport)
{
  Writer w = { .len = 0 };
  Name name;
  Edns edns = { FALSE, 0, 0 };
  gsize qend, limit;
  guint16 qtype, qclass;
  const char *domain;
  guint dlabels;
  guint8 rcode = BANGER_DNS_RCODE_NOERROR, aa = 0;
  gboolean answer_a = FALSE, answer_ptr = FALSE;
  guint32 addr = 0;
  g_autofree char *ptr_name = NULL;
  char vm[64];

  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (msg != NULL || len == 0, NULL);

  /* dropped: no header to answer, a response (never answer those: no
   * loops between responders), or too long */
  if (len < HEADER_LEN || (msg[2] & FLAG_QR) != 0 || len > BANGER_DNS_MAX_QUERY)
    return NULL;
  if (((msg[2] >> 3) & 0x0F) != OPCODE_QUERY)
    return header_only (msg, BANGER_DNS_RCODE_NOTIMP);
  if (get16 (msg + 4) != 1 || get16 (msg + 6) != 0 || get16 (msg + 8) != 0)
    return header_only (msg, BANGER_DNS_RCODE_FORMERR);
  if (read_name (msg, len, HEADER_LEN, &name, &qend) != NAME_OK || len - qend < 4)
    return header_only (msg, BANGER_DNS_RCODE_FORMERR);
  qtype = get16 (msg + qend);
  qclass = get16 (msg + qend + 2);
  qend += 4;
  if (!read_additional (msg, len, qend, get16 (msg + 10), &edns) || qtype == BANGER_DNS_TYPE_OPT)
    return header_only (msg, BANGER_DNS_RCODE_FORMERR);

  domain = banger_dns_table_get_domain (table);
  dlabels = count_labels (domain);
  if (edns.has_opt && edns.version != 0)
    rcode = BANGER_DNS_RCODE_BADVERS;
  else if (qclass != BANGER_DNS_CLASS_IN || qtype == BANGER_DNS_TYPE_AXFR
           || qtype == BANGER_DNS_TYPE_IXFR)
    rcode = BANGER_DNS_RCODE_REFUSED;
  else if (name.n >= dlabels && labels_are (&name, name.n - dlabels, domain))
    {
      aa = FLAG_AA;
      if (name.n == dlabels)
        ; /* the domain itself: exists, no records (NODATA) */
      else if (name.n == dlabels + 1)
        {
          /* a VM name is a lowercase label without NUL: the table
           * validated it, so any other bytes simply miss */
          memcpy (vm, name.data, name.len[0]);
          vm[name.len[0]] = '\0';
          if (memchr (vm, '\0', name.len[0]) != NULL
              || !banger_dns_table_lookup_name (table, vm, &addr))
            rcode = BANGER_DNS_RCODE_NXDOMAIN;
          else
            answer_a = qtype == BANGER_DNS_TYPE_A || qtype == BANGER_DNS_TYPE_ANY;
        }
      else
        rcode = BANGER_DNS_RCODE_NXDOMAIN;
    }
  else
    {
      guint o[4];

      if (name.n == 6 && label_is (&name, 4, "in-addr", 7) && label_is (&name, 5, "arpa", 4)
          && octet_of (&name, 0, &o[0]) && octet_of (&name, 1, &o[1]) && octet_of (&name, 2, &o[2])
          && octet_of (&name, 3, &o[3]))
        {
          guint8 b[4] = { (guint8)o[3], (guint8)o[2], (guint8)o[1], (guint8)o[0] };

          memcpy (&addr, b, 4);
          ptr_name = banger_dns_table_lookup_addr (table, addr);
          if (ptr_name != NULL)
            {
              aa = FLAG_AA;
              answer_ptr = qtype == BANGER_DNS_TYPE_PTR || qtype == BANGER_DNS_TYPE_ANY;
            }
          else if (banger_dns_table_in_reverse_network (table, addr))
            {
              aa = FLAG_AA;
              rcode = BANGER_DNS_RCODE_NXDOMAIN;
            }
          else
            rcode = BANGER_DNS_RCODE_REFUSED;
        }
      else
        rcode = BANGER_DNS_RCODE_REFUSED;
    }

  if (transport == BANGER_DNS_TRANSPORT_TCP)
    limit = G_MAXUINT16;
  else if (edns.has_opt)
    limit = CLAMP (edns.udp_size, BANGER_DNS_UDP_PLAIN_MAX, BANGER_DNS_EDNS_UDP_MAX);
  else
    limit = BANGER_DNS_UDP_PLAIN_MAX;

  put_header (&w, msg, aa, rcode, 1, (answer_a || answer_ptr) ? 1 : 0, edns.has_opt ? 1 : 0);
  /* the question as asked (its case kept: some resolvers check it) */
  put (&w, msg + HEADER_LEN, qend - HEADER_LEN);
  if (answer_a || answer_ptr)
    {
      put16 (&w, 0xC000 | HEADER_LEN); /* the question's name */
      put16 (&w, answer_a ? BANGER_DNS_TYPE_A : BANGER_DNS_TYPE_PTR);
      put16 (&w, BANGER_DNS_CLASS_IN);
      put32 (&w, BANGER_DNS_TTL);
      if (answer_a)
        {
          put16 (&w, 4);
          put (&w, &addr, 4);
        }
      else
        {
          gsize rdlen_at = w.len;

          put16 (&w, 0);
          put_host_name (&w, ptr_name, domain);
          if (!w.overflow)
            {
              gsize rdlen = w.len - rdlen_at - 2;

              w.buf[rdlen_at] = (guint8)(rdlen >> 8);
              w.buf[rdlen_at + 1] = (guint8)rdlen;
            }
        }
    }
  if (edns.has_opt)
    put_opt (&w, rcode);
  if (w.overflow)
    return NULL; /* cannot happen with names <= 255 octets; never send garbage */

  if (w.len > limit)
    {
      /* too big for the client: the header and question with TC, so it
       * retries over TCP (RFC 2181 9, RFC 7766) */
      Writer t = { .len = 0 };

      put_header (&t, msg, (guint8)(aa | FLAG_TC), rcode, 1, 0, edns.has_opt ? 1 : 0);
      put (&t, msg + HEADER_LEN, qend - HEADER_LEN);
      if (edns.has_opt)
        put_opt (&t, rcode);
      if (t.overflow || t.len > limit)
        return NULL;
      return g_bytes_new (t.buf, t.len);
    }
  return g_bytes_new (w.buf, w.len);
}
