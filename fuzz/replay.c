/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a fuzz target's corpus without libFuzzer: every file named, or found in a directory
 * named, goes through LLVMFuzzerTestOneInput once. CTest runs this on the seed corpora. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccz/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    ccz_buf b = CCZ_BUF_INIT;
    if (ccz_file_read(&b, path, 16u << 20)) {
        fprintf(stderr, "replay: %s\n", ccz_error_detail());
        return 1;
    }
    LLVMFuzzerTestOneInput(b.ptr ? b.ptr : (const uint8_t *)"", b.len);
    ccz_buf_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += replay_file(argv[i]), n++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            bad += replay_file(path), n++;
        }
        if (d)
            closedir(d);
    }
    printf("replayed %d inputs\n", n);
    return bad || n == 0;
}
