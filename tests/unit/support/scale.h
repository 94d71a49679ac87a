/*
 * scale.h - the size of a property test's sample: the full size in the
 * normal build, a smaller one when built with RG_SANITIZE (ASan and UBSan
 * make the simulator and the analyzer several times slower, and CTest
 * stops a test at 300 s). The property is still checked under the
 * sanitizers, on fewer seeded worlds; the figures docs/ quotes come from
 * the full size.
 */
#ifndef RG_TEST_SCALE_H
#define RG_TEST_SCALE_H

/* full in the normal build, sanitized under RG_SANITIZE. */
#ifdef RG_TEST_SANITIZED
#define RG_TEST_SIZE(full, sanitized) (sanitized)
#else
#define RG_TEST_SIZE(full, sanitized) (full)
#endif

#endif
