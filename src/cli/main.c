/* main.c - `rollgate`, the publisher's and operator's CLI (see cli.h). */
#include "cli/cli.h"

#include <curl/curl.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("rollgate: cannot initialise libcurl\n", stderr);
        return RG_CLI_EXIT_UNAVAILABLE;
    }
    int status = rg_cli_run(argc, argv, stdout, stderr);
    curl_global_cleanup();
    return status;
}
