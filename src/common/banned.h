/*
 * banned.h - libc calls Rollgate never makes, turned into compile errors
 * (after git's banned.h). Every translation unit of the build includes it
 * first, through the compiler's `-include` flag (CMakeLists.txt), so a
 * banned call anywhere in src/, tests/, bench/ or the fuzz harnesses does
 * not compile; the error names the function:
 * `sorry_strcpy_is_banned_see_src_common_banned_h`. CTest's check_banned
 * (tests/banned.sh) proves it.
 *
 *   strcpy strcat strncpy strncat   unbounded, or silently unterminated:
 *                                   snprintf, memcpy with a length, rg_buf
 *   sprintf vsprintf                unbounded: snprintf, vsnprintf, rg_buf
 *   gets                            unbounded: fgets, getline
 *   strtok                          hidden state, not thread-safe: strtok_r
 *                                   or explicit scanning
 *   atoi atol atoll atof            no error reporting: strtol, strtoll,
 *                                   strtod with end and errno checks
 *   gmtime localtime ctime asctime  shared static result: the _r forms
 *   tmpnam mktemp                   racy names: mkstemp, mkdtemp
 *
 * To ban another call, add it below with its reason and replacement, and
 * to the list in tests/banned.sh. The headers that declare these functions
 * are included first, so that their declarations never meet the macros.
 */
#ifndef RG_BANNED_H
#define RG_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RG_BANNED(func) sorry_##func##_is_banned_see_src_common_banned_h

#undef strcpy
#define strcpy(...) RG_BANNED(strcpy)
#undef strcat
#define strcat(...) RG_BANNED(strcat)
#undef strncpy
#define strncpy(...) RG_BANNED(strncpy)
#undef strncat
#define strncat(...) RG_BANNED(strncat)
#undef sprintf
#define sprintf(...) RG_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) RG_BANNED(vsprintf)
#undef gets
#define gets(...) RG_BANNED(gets)
#undef strtok
#define strtok(...) RG_BANNED(strtok)
#undef atoi
#define atoi(...) RG_BANNED(atoi)
#undef atol
#define atol(...) RG_BANNED(atol)
#undef atoll
#define atoll(...) RG_BANNED(atoll)
#undef atof
#define atof(...) RG_BANNED(atof)
#undef gmtime
#define gmtime(...) RG_BANNED(gmtime)
#undef localtime
#define localtime(...) RG_BANNED(localtime)
#undef ctime
#define ctime(...) RG_BANNED(ctime)
#undef asctime
#define asctime(...) RG_BANNED(asctime)
#undef tmpnam
#define tmpnam(...) RG_BANNED(tmpnam)
#undef mktemp
#define mktemp(...) RG_BANNED(mktemp)

#endif
