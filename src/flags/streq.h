/*
 * streq.h - internal to src/flags: string equality for the evaluator's
 * short strings (context names, constraint values), compared in line. A
 * call to strcmp costs more than comparing "os" or "linux" byte by byte,
 * and most pairs differ in their first byte. Pure.
 */
#ifndef RG_FLAGS_STREQ_H
#define RG_FLAGS_STREQ_H

#include <stdbool.h>

/* Returns whether the NUL-terminated a and b are equal. */
static inline bool rg__fstreq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

#endif
