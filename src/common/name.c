/* name.c - see name.h. */
#include "common/name.h"

#include <string.h>

bool rg_channel_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RG_CHANNEL_NAME_MAX || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}
