/* flags_consumer - a consumer for the agent's flag tests that embeds
 * librollgate-agent (rollgate/flags.h) the way a program would: it opens
 * the flags of $RG_STATE_DIR, and fails at start (exit 3) when flag
 * "crash-me" is on for the endpoint ($1, its user id). Otherwise it
 * publishes the stamp of the set it runs on as $2 (atomically) and keeps
 * running until stopped. */
#include "rollgate/flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char msg[256], stamp[64], tmp[4096];
    const char *state = getenv("RG_STATE_DIR");
    if (argc != 3 || !state) {
        fprintf(stderr, "usage: RG_STATE_DIR=DIR flags_consumer ID FILE\n");
        return 2;
    }
    rg_sdk *sdk = rg_sdk_open(state, msg, sizeof msg);
    if (!sdk) {
        fprintf(stderr, "flags_consumer: %s\n", msg);
        return 2;
    }
    rg_flag_context ctx = {.user_id = argv[1]};
    if (rg_flag_enabled(sdk, "crash-me", &ctx)) {
        fprintf(stderr, "flags_consumer: crash-me is on\n");
        return 3;
    }
    rg_sdk_stamp(sdk, stamp, sizeof stamp);
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", stamp) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[2]) != 0)
        return 2;
    for (;;)
        pause();
}
