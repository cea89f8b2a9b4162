/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Compiled against the installed-style include path only (no private
 * headers, no BANGER_COMPILATION): the umbrella header must stand alone. */
#include <banger.h>

#ifdef BANGER_COMPILATION
#error "this test must compile like a consumer"
#endif

#if !BANGER_CHECK_VERSION(0, 1, 0)
#error "BANGER_CHECK_VERSION is wrong"
#endif

int
main (void)
{
  GError *error = NULL;
  gboolean ok = banger_validate_vm_name ("web-1", &error) && banger_path_is_under ("/a/b", "/a");
  g_print ("1..1\n%s 1 - umbrella header compiles alone and links against libbanger-1\n",
           ok ? "ok" : "not ok");
  return ok ? 0 : 1;
}
