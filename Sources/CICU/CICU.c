#include "CICU.h"

#include <stdlib.h>
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

struct kidx_word_breaker {
    UBreakIterator *iterator;
    UText *text;
    int32_t position;
};

kidx_word_breaker *kidx_word_breaker_open(void) {
    UErrorCode status = U_ZERO_ERROR;
    UBreakIterator *iterator = ubrk_open(UBRK_WORD, "de", NULL, 0, &status);
    if (U_FAILURE(status)) return NULL;
    kidx_word_breaker *breaker = calloc(1, sizeof(kidx_word_breaker));
    if (!breaker) { ubrk_close(iterator); return NULL; }
    breaker->iterator = iterator;
    return breaker;
}

void kidx_word_breaker_close(kidx_word_breaker *breaker) {
    if (!breaker) return;
    ubrk_close(breaker->iterator);
    if (breaker->text) utext_close(breaker->text);
    free(breaker);
}

int32_t kidx_word_breaker_set_text(kidx_word_breaker *breaker, const char *text, int32_t length) {
    UErrorCode status = U_ZERO_ERROR;
    // utext_openUTF8 reuses the UText it is given, so one allocation serves every document.
    breaker->text = utext_openUTF8(breaker->text, text, length, &status);
    if (U_FAILURE(status)) return -1;
    ubrk_setUText(breaker->iterator, breaker->text, &status);
    if (U_FAILURE(status)) return -1;
    breaker->position = ubrk_first(breaker->iterator);
    return 0;
}

int32_t kidx_word_breaker_next(kidx_word_breaker *breaker, int32_t *start, int32_t *end, int32_t *status) {
    int32_t next = ubrk_next(breaker->iterator);
    if (next == UBRK_DONE) return 0;
    *start = breaker->position;
    *end = next;
    *status = ubrk_getRuleStatus(breaker->iterator);
    breaker->position = next;
    return 1;
}

static int32_t normalize_utf8(const UNormalizer2 *normalizer, const char *src, int32_t length,
                              char *dst, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    UChar stackIn[256], stackOut[512];
    UChar *in = stackIn, *out = stackOut;
    int32_t inLength = 0;
    u_strFromUTF8(in, 256, &inLength, src, length, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        status = U_ZERO_ERROR;
        in = malloc(sizeof(UChar) * (size_t)(inLength + 1));
        if (!in) return -1;
        u_strFromUTF8(in, inLength + 1, &inLength, src, length, &status);
    }
    int32_t result = -1;
    if (U_FAILURE(status)) goto done;
    int32_t outCapacity = 512;
    int32_t outLength = unorm2_normalize(normalizer, in, inLength, out, outCapacity, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        status = U_ZERO_ERROR;
        outCapacity = outLength + 1;
        out = malloc(sizeof(UChar) * (size_t)outCapacity);
        if (!out) goto done;
        outLength = unorm2_normalize(normalizer, in, inLength, out, outCapacity, &status);
    }
    if (U_FAILURE(status)) goto done;
    int32_t utf8Length = 0;
    u_strToUTF8(dst, capacity, &utf8Length, out, outLength, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR || status == U_STRING_NOT_TERMINATED_WARNING || U_SUCCESS(status)) {
        result = utf8Length;
    }
done:
    if (in != stackIn) free(in);
    if (out != stackOut) free(out);
    return result;
}

int32_t kidx_nfkc_casefold(const char *src, int32_t length, char *dst, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *normalizer = unorm2_getNFKCCasefoldInstance(&status);
    if (U_FAILURE(status)) return -1;
    return normalize_utf8(normalizer, src, length, dst, capacity);
}

int32_t kidx_nfc(const char *src, int32_t length, char *dst, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *normalizer = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) return -1;
    return normalize_utf8(normalizer, src, length, dst, capacity);
}
