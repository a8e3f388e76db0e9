#include <zstd.h>
/* For ZDICT_trainFromBuffer_fastCover and its parameters: experimental in zdict.h's terms,
   exported by libzstd since 1.3.6. */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
