/* config.h -- compile-time configuration shared by every AURA module.
 *
 * AURA_API marks the functions a shared build exports; everything else is
 * hidden (-fvisibility=hidden).  Compile-time switches follow the pattern
 * AURA_NO_<FEATURE> / AURA_DEFAULT_<X> (SQLite, stb).
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CONFIG_H
#define AURA_CONFIG_H

#if defined(__GNUC__) || defined(__clang__)
#define AURA_API __attribute__((visibility("default")))
#else
#define AURA_API
#endif

#define AURA_VERSION_MAJOR 0
#define AURA_VERSION_MINOR 1
#define AURA_VERSION_PATCH 0
#define AURA_VERSION_STRING "0.1.0"

#endif /* AURA_CONFIG_H */
