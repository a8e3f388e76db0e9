// A small, stable C surface over ICU for kidx.
//
// ICU renames every C symbol with its major version (ubrk_open becomes ubrk_open_72), which
// Swift's importer cannot see through. These functions call ICU from C, where the macros work,
// and expose plain names. All text crosses the boundary as UTF-8 so offsets stay in bytes.
#ifndef KIDX_CICU_H
#define KIDX_CICU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An ICU word-break iterator over a UTF-8 buffer. Not thread-safe: one per thread.
typedef struct kidx_word_breaker kidx_word_breaker;

/// Opens a word breaker with the German ("de") rules. Returns NULL when ICU fails.
kidx_word_breaker *kidx_word_breaker_open(void);

/// Closes a word breaker opened by kidx_word_breaker_open.
void kidx_word_breaker_close(kidx_word_breaker *breaker);

/// Points the breaker at `text` (UTF-8, `length` bytes). The buffer must stay valid while
/// iterating. Returns 0 on success.
int32_t kidx_word_breaker_set_text(kidx_word_breaker *breaker, const char *text, int32_t length);

/// Advances to the next segment. On success stores its byte range and ICU rule status
/// (0..99 none/punctuation, 100..199 number, 200..299 letter, 300.. kana/ideographic)
/// and returns 1; returns 0 at the end of the text.
int32_t kidx_word_breaker_next(kidx_word_breaker *breaker, int32_t *start, int32_t *end, int32_t *status);

/// Applies Unicode NFKC_Casefold to UTF-8 `src` and writes UTF-8 into `dst` (capacity `capacity`).
/// Returns the output length in bytes, a value larger than `capacity` when `dst` is too small
/// (call again with that capacity), or -1 for invalid input.
int32_t kidx_nfkc_casefold(const char *src, int32_t length, char *dst, int32_t capacity);

/// Applies Unicode NFC to UTF-8 `src`; same contract as kidx_nfkc_casefold.
int32_t kidx_nfc(const char *src, int32_t length, char *dst, int32_t capacity);

#ifdef __cplusplus
}
#endif
#endif
