/* For ZSTD_createCDict_advanced and ZDICT_trainFromBuffer_fastCover with their parameters:
   "experimental" in zstd's headers, exported by libzstd since 1.3.6. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
