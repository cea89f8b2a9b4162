/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The publish / egress / domain texts (core/banger-reach.c), which the root
 * helper parses from the owner: never crash; whatever is accepted comes
 * back canonical in a small alphabet (nothing that could end or extend an
 * nftables statement: no space, quote, ';', '{', '}', '#'); parsing the
 * canonical form again gives the same canonical form. */
#include "fuzz-common.h"

#include "banger-error.h"
#include "banger-reach.h"

static gboolean
only (const char *s, const char *alphabet)
{
  for (; *s; s++)
    if (strchr (alphabet, *s) == NULL)
      return FALSE;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_cstring (data, size);
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GArray) list = banger_publish_list_split (text, &e1);
  g_autofree char *egress = banger_egress_parse (text, NULL, NULL, &e2);

  if (list != NULL)
    {
      g_autofree char *canon = banger_publish_list_join (list);
      g_autoptr (GArray) again = banger_publish_list_split (canon, NULL);
      g_autofree char *canon2 = NULL;

      FUZZ_ASSERT (e1 == NULL && list->len <= BANGER_PUBLISH_MAX);
      FUZZ_ASSERT (only (canon, "0123456789.:/,tcpud"));
      FUZZ_ASSERT (again != NULL);
      canon2 = banger_publish_list_join (again);
      FUZZ_ASSERT (g_str_equal (canon, canon2));
      for (guint i = 0; i < list->len; i++)
        {
          const BangerPublish *p = &g_array_index (list, BangerPublish, i);
          FUZZ_ASSERT (p->host_port >= 1 && p->guest_port >= 1);
        }
    }
  else
    FUZZ_ASSERT (e1 != NULL && e1->domain == BANGER_ERROR
                 && e1->code == BANGER_ERROR_INVALID_ARGUMENT);

  if (egress != NULL)
    {
      g_autofree char *again = banger_egress_parse (egress, NULL, NULL, NULL);
      FUZZ_ASSERT (g_str_equal (egress, "nat") || g_str_equal (egress, "none")
                   || only (egress, "0123456789./,"));
      FUZZ_ASSERT (again != NULL && g_str_equal (again, egress));
    }
  else
    FUZZ_ASSERT (e2 != NULL && e2->code == BANGER_ERROR_INVALID_ARGUMENT);

  if (banger_validate_dns_domain (text, NULL))
    FUZZ_ASSERT (strlen (text) <= 190 && only (text, "abcdefghijklmnopqrstuvwxyz0123456789-."));
  return 0;
}
