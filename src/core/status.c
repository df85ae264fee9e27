/* status.c -- names and messages of aura_status, from the X-macro in
 * aura/status.h.
 * SPDX-License-Identifier: MIT */
#include "aura/status.h"

const char *aura_status_str(aura_status st)
{
    switch (st) {
#define AURA_STATUS_STR_(name, value, msg) \
    case name:                             \
        return msg;
        AURA_STATUS_MAP(AURA_STATUS_STR_)
#undef AURA_STATUS_STR_
    }
    return "unknown status";
}

const char *aura_status_name(aura_status st)
{
    switch (st) {
#define AURA_STATUS_NAME_(name, value, msg) \
    case name:                              \
        return #name;
        AURA_STATUS_MAP(AURA_STATUS_NAME_)
#undef AURA_STATUS_NAME_
    }
    return "AURA_E_UNKNOWN";
}
