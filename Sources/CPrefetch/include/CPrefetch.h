#ifndef KIDX_CPREFETCH_H
#define KIDX_CPREFETCH_H

/// Asks the processor to bring the cache line at `address` in, without waiting for it: Swift
/// has no such instruction. Inlined where Swift calls it.
static inline void kidx_prefetch(const void *address) { __builtin_prefetch(address); }

#endif
