// The one function is static inline in the header; a C target needs a source file.
#include "CPrefetch.h"
