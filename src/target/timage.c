/* timage.c: builds noise PNGs of an exact size (real CPU work per image), base64 and zip. */
#include "target/timage.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "target/tmodel.h"

#define TIMAGE_WIDTH 128
#define TIMAGE_ROW_BYTES (1 + TIMAGE_WIDTH * 3)
#define TIMAGE_STORED_BLOCK 65535
/* Signature, IHDR, an empty IDAT frame, the padding chunk's frame and IEND. */
#define TIMAGE_FIXED_BYTES (8 + 25 + 12 + 12 + 12)

static void timage_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void timage_put16le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void timage_put32le(uint8_t *p, uint32_t v) {
    timage_put16le(p, v);
    timage_put16le(p + 2, v >> 16);
}

/* Length of a zlib stream holding raw bytes in stored (uncompressed) blocks. */
static size_t timage_zlib_len(size_t raw) {
    size_t blocks = raw == 0 ? 1 : (raw + TIMAGE_STORED_BLOCK - 1) / TIMAGE_STORED_BLOCK;
    return 2 + raw + 5 * blocks + 4;
}

/* Writes a chunk frame around data already at p + 8 (len bytes); returns the bytes written. */
static size_t timage_chunk(uint8_t *p, const char *type, size_t len) {
    timage_put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    uLong crc = crc32(0L, p + 4, (uInt)(len + 4));
    timage_put32(p + 8 + len, (uint32_t)crc);
    return 12 + len;
}

/* Writes raw as stored deflate blocks inside a zlib stream at p; returns the bytes written. */
static size_t timage_zlib_stored(uint8_t *p, const uint8_t *raw, size_t n) {
    uint8_t *q = p;
    *q++ = 0x78;
    *q++ = 0x01;
    size_t off = 0;
    do {
        size_t len = n - off > TIMAGE_STORED_BLOCK ? TIMAGE_STORED_BLOCK : n - off;
        *q++ = off + len == n ? 1 : 0;
        timage_put16le(q, (uint32_t)len);
        timage_put16le(q + 2, (uint32_t)(~len & 0xffff));
        q += 4;
        memcpy(q, raw + off, len);
        q += len;
        off += len;
    } while (off < n);
    timage_put32(q, (uint32_t)adler32(1L, raw, (uInt)n));
    return (size_t)(q + 4 - p);
}

/* Fills the scanlines with noise: a filter byte of 0, then RGB bytes from the generator. */
static void timage_fill(uint8_t *raw, int height, uint64_t seed) {
    tmodel_rng rng;
    tmodel_rng_seed(&rng, seed);
    for (int y = 0; y < height; y++) {
        uint8_t *row = raw + (size_t)y * TIMAGE_ROW_BYTES;
        row[0] = 0;
        for (int x = 1; x < TIMAGE_ROW_BYTES; x += 8) {
            uint64_t v = tmodel_rng_next(&rng);
            int n = TIMAGE_ROW_BYTES - x < 8 ? TIMAGE_ROW_BYTES - x : 8;
            memcpy(row + x, &v, (size_t)n);
        }
    }
}

/* Builds a valid RGB PNG of exactly png_bytes bytes (at least TIMAGE_MIN_PNG_BYTES) whose noise
 * pixels come from seed. Returns a malloc'd buffer the caller frees, or NULL when out of
 * memory. */
uint8_t *timage_png(uint64_t seed, size_t png_bytes) {
    if (png_bytes < TIMAGE_MIN_PNG_BYTES) {
        png_bytes = TIMAGE_MIN_PNG_BYTES;
    }
    /* The tallest image that leaves room for the padding chunk; the padding makes it exact. */
    int height = (int)((png_bytes - TIMAGE_FIXED_BYTES) / TIMAGE_ROW_BYTES) + 1;
    while (height > 1 &&
           TIMAGE_FIXED_BYTES + timage_zlib_len((size_t)height * TIMAGE_ROW_BYTES) > png_bytes) {
        height--;
    }
    size_t raw_len = (size_t)height * TIMAGE_ROW_BYTES;
    size_t zlen = timage_zlib_len(raw_len);
    size_t used = TIMAGE_FIXED_BYTES + zlen;
    size_t pad = png_bytes > used ? png_bytes - used : 0;
    size_t total = used + pad;

    uint8_t *raw = malloc(raw_len);
    uint8_t *png = malloc(total);
    if (!raw || !png) {
        free(raw);
        free(png);
        return NULL;
    }
    timage_fill(raw, height, seed);

    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *p = png;
    memcpy(p, sig, 8);
    p += 8;
    timage_put32(p + 8, TIMAGE_WIDTH);
    timage_put32(p + 12, (uint32_t)height);
    p[16] = 8; /* bit depth */
    p[17] = 2; /* RGB */
    p[18] = 0;
    p[19] = 0;
    p[20] = 0;
    p += timage_chunk(p, "IHDR", 13);
    size_t z = timage_zlib_stored(p + 8, raw, raw_len);
    p += timage_chunk(p, "IDAT", z);
    /* A private ancillary chunk that decoders skip, sized so the file is exactly png_bytes. */
    memset(p + 8, 0, pad);
    p += timage_chunk(p, "vlPd", pad);
    p += timage_chunk(p, "IEND", 0);
    free(raw);
    return png;
}

/* The raw size whose base64 text is b64_bytes long (rounded down to a multiple of 4). */
size_t timage_raw_bytes_for_b64(size_t b64_bytes) {
    return b64_bytes / 4 * 3;
}

/* The length of the base64 text of n bytes. */
size_t timage_b64_len(size_t n) {
    return (n + 2) / 3 * 4;
}

/* Writes the base64 text of src into dst, which holds at least timage_b64_len(n) + 1 bytes;
 * NUL-terminates it and returns its length. */
size_t timage_b64_encode(char *dst, const uint8_t *src, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *q = dst;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        q[0] = tab[v >> 18];
        q[1] = tab[(v >> 12) & 63];
        q[2] = tab[(v >> 6) & 63];
        q[3] = tab[v & 63];
        q += 4;
    }
    if (i < n) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);
        q[0] = tab[v >> 18];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = '=';
        q += 4;
    }
    *q = '\0';
    return (size_t)(q - dst);
}

/* Builds a zip archive (stored, not compressed) of n entries. Returns a malloc'd buffer and
 * its length in *out_len, or NULL when out of memory. */
uint8_t *timage_zip(const timage_zip_entry *entries, int n, size_t *out_len) {
    size_t total = 22;
    for (int i = 0; i < n; i++) {
        size_t name_len = strlen(entries[i].name);
        total += 30 + name_len + entries[i].len + 46 + name_len;
    }
    uint8_t *zip = malloc(total);
    uint32_t *offsets = malloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1));
    uint32_t *crcs = malloc(sizeof(uint32_t) * (size_t)(n > 0 ? n : 1));
    if (!zip || !offsets || !crcs) {
        free(zip);
        free(offsets);
        free(crcs);
        return NULL;
    }
    const uint32_t dos_time = 0, dos_date = (45 << 9) | (1 << 5) | 1; /* 2025-01-01 */
    uint8_t *p = zip;
    for (int i = 0; i < n; i++) {
        const timage_zip_entry *e = &entries[i];
        size_t name_len = strlen(e->name);
        offsets[i] = (uint32_t)(p - zip);
        crcs[i] = (uint32_t)crc32(0L, e->data, (uInt)e->len);
        timage_put32le(p, 0x04034b50);
        timage_put16le(p + 4, 20);
        timage_put16le(p + 6, 0);
        timage_put16le(p + 8, 0);
        timage_put16le(p + 10, dos_time);
        timage_put16le(p + 12, dos_date);
        timage_put32le(p + 14, crcs[i]);
        timage_put32le(p + 18, (uint32_t)e->len);
        timage_put32le(p + 22, (uint32_t)e->len);
        timage_put16le(p + 26, (uint32_t)name_len);
        timage_put16le(p + 28, 0);
        memcpy(p + 30, e->name, name_len);
        memcpy(p + 30 + name_len, e->data, e->len);
        p += 30 + name_len + e->len;
    }
    uint8_t *central = p;
    for (int i = 0; i < n; i++) {
        const timage_zip_entry *e = &entries[i];
        size_t name_len = strlen(e->name);
        memset(p, 0, 46);
        timage_put32le(p, 0x02014b50);
        timage_put16le(p + 4, 20);
        timage_put16le(p + 6, 20);
        timage_put16le(p + 12, dos_time);
        timage_put16le(p + 14, dos_date);
        timage_put32le(p + 16, crcs[i]);
        timage_put32le(p + 20, (uint32_t)e->len);
        timage_put32le(p + 24, (uint32_t)e->len);
        timage_put16le(p + 28, (uint32_t)name_len);
        timage_put32le(p + 42, offsets[i]);
        memcpy(p + 46, e->name, name_len);
        p += 46 + name_len;
    }
    memset(p, 0, 22);
    timage_put32le(p, 0x06054b50);
    timage_put16le(p + 8, (uint32_t)n);
    timage_put16le(p + 10, (uint32_t)n);
    timage_put32le(p + 12, (uint32_t)(p - central));
    timage_put32le(p + 16, (uint32_t)(central - zip));
    p += 22;
    free(offsets);
    free(crcs);
    *out_len = (size_t)(p - zip);
    return zip;
}
