/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerDoctorCheck, the value doctor reports (banger-doctor-check.h). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-doctor-check.h"

struct _BangerDoctorCheck
{
  gatomicrefcount ref;
  char *name;
  BangerCheckStatus status;
  char *message;
};

G_DEFINE_BOXED_TYPE (BangerDoctorCheck, banger_doctor_check, banger_doctor_check_ref,
                     banger_doctor_check_unref)

/**
 * banger_check_status_to_string:
 * @status: a #BangerCheckStatus
 *
 * The name `banger doctor` prints for @status.
 *
 * Returns: (transfer none): `ok`, `warn` or `fail`
 *
 * Since: 0.2
 */
const char *
banger_check_status_to_string (BangerCheckStatus status)
{
  static const char *const names[] = { "ok", "warn", "fail" };
  g_return_val_if_fail ((guint)status < G_N_ELEMENTS (names), "unknown");
  return names[status];
}

BangerDoctorCheck *
banger_doctor_check_new (const char *name, BangerCheckStatus status, const char *message)
{
  BangerDoctorCheck *c = g_new0 (BangerDoctorCheck, 1);

  g_atomic_ref_count_init (&c->ref);
  c->name = g_strdup (name);
  c->status = status;
  c->message = g_strdup (message);
  return c;
}

/**
 * banger_doctor_check_ref:
 * @check: a #BangerDoctorCheck
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @check
 *
 * Since: 0.2
 */
BangerDoctorCheck *
banger_doctor_check_ref (BangerDoctorCheck *check)
{
  g_return_val_if_fail (check != NULL, NULL);
  g_atomic_ref_count_inc (&check->ref);
  return check;
}

/**
 * banger_doctor_check_unref:
 * @check: (transfer full): a #BangerDoctorCheck
 *
 * Drops a reference.
 *
 * Since: 0.2
 */
void
banger_doctor_check_unref (BangerDoctorCheck *check)
{
  g_return_if_fail (check != NULL);
  if (!g_atomic_ref_count_dec (&check->ref))
    return;
  g_free (check->name);
  g_free (check->message);
  g_free (check);
}

/**
 * banger_doctor_check_get_name:
 * @check: a #BangerDoctorCheck
 *
 * The check's name: `kvm`, `tun`, `backend`, `root-disks`, …
 *
 * Returns: (transfer none): the check's name
 *
 * Since: 0.2
 */
const char *
banger_doctor_check_get_name (BangerDoctorCheck *check)
{
  g_return_val_if_fail (check != NULL, NULL);
  return check->name;
}

/**
 * banger_doctor_check_get_status:
 * @check: a #BangerDoctorCheck
 *
 * The check's verdict.
 *
 * Returns: its verdict
 *
 * Since: 0.2
 */
BangerCheckStatus
banger_doctor_check_get_status (BangerDoctorCheck *check)
{
  g_return_val_if_fail (check != NULL, BANGER_CHECK_STATUS_FAIL);
  return check->status;
}

/**
 * banger_doctor_check_get_message:
 * @check: a #BangerDoctorCheck
 *
 * What the check found.
 *
 * Returns: (transfer none): what was found, as a sentence
 *
 * Since: 0.2
 */
const char *
banger_doctor_check_get_message (BangerDoctorCheck *check)
{
  g_return_val_if_fail (check != NULL, NULL);
  return check->message;
}
