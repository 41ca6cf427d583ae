/* UTF-8 validation (RFC 3629), done before json-c sees a header so that a name with
 * stray bytes is refused with the byte offset rather than passed on to callers. */
#include "safetensors/st_json.h"

size_t ssmrt__utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the first continuation byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;      /* no overlong 3-byte forms */
            else if (c == 0xED) hi = 0x9F; /* no UTF-16 surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;      /* no overlong 4-byte forms */
            else if (c == 0xF4) hi = 0x8F; /* nothing past U+10FFFF */
        } else {
            return i; /* C0, C1, F5..FF, or a stray continuation byte */
        }
        if (len - i <= need)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += need + 1;
    }
    return len;
}
