/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib-object.h>

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BangerCheckStatus:
 * @BANGER_CHECK_STATUS_OK: the part works.
 * @BANGER_CHECK_STATUS_WARN: it works, degraded (for example no KVM:
 *   software emulation), or something deserves a look.
 * @BANGER_CHECK_STATUS_FAIL: a part a VM launch needs is missing: VMs
 *   cannot run.
 *
 * The verdict of one doctor check.
 *
 * Since: 0.2
 */
typedef enum
{
  BANGER_CHECK_STATUS_OK = 0,
  BANGER_CHECK_STATUS_WARN = 1,
  BANGER_CHECK_STATUS_FAIL = 2,
} BangerCheckStatus;

BANGER_AVAILABLE_IN_0_2
const char *banger_check_status_to_string (BangerCheckStatus status);

/**
 * BangerDoctorCheck:
 *
 * One check of banger_client_doctor_async(): a name (`kvm`, `tun`,
 * `cgroup2`, `qemu`, `backend`, `root-disks`, …), a #BangerCheckStatus and
 * a sentence.  Refcounted, read-only.
 *
 * Since: 0.2
 */
typedef struct _BangerDoctorCheck BangerDoctorCheck;

#define BANGER_TYPE_DOCTOR_CHECK (banger_doctor_check_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_doctor_check_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerDoctorCheck *banger_doctor_check_ref (BangerDoctorCheck *check);
BANGER_AVAILABLE_IN_0_2
void banger_doctor_check_unref (BangerDoctorCheck *check);
BANGER_AVAILABLE_IN_0_2
const char *banger_doctor_check_get_name (BangerDoctorCheck *check);
BANGER_AVAILABLE_IN_0_2
BangerCheckStatus banger_doctor_check_get_status (BangerDoctorCheck *check);
BANGER_AVAILABLE_IN_0_2
const char *banger_doctor_check_get_message (BangerDoctorCheck *check);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerDoctorCheck, banger_doctor_check_unref)

G_END_DECLS
