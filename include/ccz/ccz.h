/* SPDX-License-Identifier: Apache-2.0 */
/* ccz: everything public in one include. */
#ifndef CCZ_CCZ_H
#define CCZ_CCZ_H

#include "ccz/core.h"
#include "ccz/tee.h"
#include "ccz/sim.h"
#include "ccz/dcap.h"
#include "ccz/snp.h"
#include "ccz/eventlog.h"
#include "ccz/azure.h"
#include "ccz/csv.h"
#include "ccz/cca.h"
#include "ccz/policy.h"
#include "ccz/ratls.h"
#include "ccz/rpc.h"
#include "ccz/secret.h"
#include "ccz/paillier.h"
#include "ccz/pf.h"
#include "ccz/lattice.h"
#include "ccz/hequery.h"
#include "ccz/svc.h"
#include "ccz/attestation.h"
#include "ccz/kbs.h"
#include "ccz/kms.h"
#include "ccz/psi.h"
#include "ccz/he_lr.h"
#include "ccz/ml.h"
#include "ccz/serving.h"

#endif
