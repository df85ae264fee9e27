/* aura.h -- umbrella header of the AURA library.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_AURA_H
#define AURA_AURA_H

#include "aura/config.h"
#include "aura/status.h"
#include "aura/alloc.h"
#include "aura/rng.h"
#include "aura/log.h"

#endif /* AURA_AURA_H */
