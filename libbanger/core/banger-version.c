/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-version.h"

/**
 * banger_get_major_version:
 *
 * Returns: the major version of the libbanger the program runs against.
 *
 * Since: 0.1
 */
guint
banger_get_major_version (void)
{
  return BANGER_MAJOR_VERSION;
}

/**
 * banger_get_minor_version:
 *
 * Returns: the minor version of the libbanger the program runs against.
 *
 * Since: 0.1
 */
guint
banger_get_minor_version (void)
{
  return BANGER_MINOR_VERSION;
}

/**
 * banger_get_micro_version:
 *
 * Returns: the micro version of the libbanger the program runs against.
 *
 * Since: 0.1
 */
guint
banger_get_micro_version (void)
{
  return BANGER_MICRO_VERSION;
}

/**
 * banger_check_version:
 * @major: required major version
 * @minor: required minor version
 * @micro: required micro version
 *
 * Run-time version check, the counterpart of BANGER_CHECK_VERSION().
 *
 * Returns: %TRUE if the running library is at least the given version.
 *
 * Since: 0.1
 */
gboolean
banger_check_version (guint major, guint minor, guint micro)
{
  /* Spelled out rather than through the macro: with unsigned arguments the
   * macro's comparisons against 0 would warn. */
  const guint have[3] = { BANGER_MAJOR_VERSION, BANGER_MINOR_VERSION, BANGER_MICRO_VERSION };
  const guint want[3] = { major, minor, micro };

  for (int i = 0; i < 3; i++)
    if (have[i] != want[i])
      return have[i] > want[i];
  return TRUE;
}
