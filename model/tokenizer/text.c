/*
 * text.c: the character-level helpers of the tokenizer (tokenizer_internal.h):
 * UTF-8 encoding and backward decoding (the forward decoder is inline in the
 * header), the Unicode classes HF's Rust code tests (White_Space, \w,
 * is_numeric), and GPT-2's byte-level alphabet.
 * Not for: normalisation (encode.c, through utf8proc) or validating UTF-8
 * for output (common/utf8.h).
 */
#include <utf8proc.h>

#include "tokenizer_internal.h"

/* ---- UTF-8 --------------------------------------------------------------- */

int utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int32_t utf8_prev(const uint8_t *s, size_t end, size_t *clen) {
    for (size_t k = 1; k <= 4 && k <= end; k++) {
        uint8_t c = s[end - k];
        if ((c & 0xC0) == 0x80) continue;
        uint32_t cp;
        int l = utf8_char(s + end - k, k, &cp);
        if (l != (int)k) return -1;
        *clen = k;
        return (int32_t)cp;
    }
    return -1;
}

/* ---- Unicode classes, as HF's Rust code tests them ----------------------- */

int is_white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/* \w is Alphabetic, marks, decimal digits, connector punctuation and
 * joiners; Alphabetic is approximated by the letter and letter-number
 * categories plus the circled/squared letters. */
int is_word_char(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (c == 0x200C || c == 0x200D) return 1;
    if ((c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
        (c >= 0x1F170 && c <= 0x1F189))
        return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

int is_numeric(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* ---- the byte-level alphabet (GPT-2's bytes_to_unicode) ------------------ */

/* Printable Latin-1 bytes stand for themselves; the other 68 bytes map to
 * U+0100.. in byte order. */
void byte_level_table(uint32_t byte_cp[256]) {
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        byte_cp[b] = printable ? (uint32_t)b : next++;
    }
}
