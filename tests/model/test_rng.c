/*
 * test_rng.c: Philox4x32-10 against the published known-answer vectors
 * (Random123's kat_vectors), and the stream contract: same (seed, step,
 * prompt, sample) gives the same draws; a different key gives others.
 */
#include <string.h>

#include "common/rng.h"
#include "test.h"

int main(void) {
    /* Known answers for philox4x32_10 (Salmon et al.; Random123 kat_vectors). */
    uint32_t out[4];
    uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    philox4x32_10(c0, k0, out);
    TEST_CHECK(out[0] == 0x6627e8d5u && out[1] == 0xe169c58du && out[2] == 0xbc57ac4cu && out[3] == 0x9b00dbd8u,
               "zero vector: %08x %08x %08x %08x", out[0], out[1], out[2], out[3]);
    uint32_t c1[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, k1[2] = {0xffffffffu, 0xffffffffu};
    philox4x32_10(c1, k1, out);
    TEST_CHECK(out[0] == 0x408f276du && out[1] == 0x41c83b0eu && out[2] == 0xa20bc7c6u && out[3] == 0x6d5451fdu,
               "ones vector: %08x %08x %08x %08x", out[0], out[1], out[2], out[3]);
    uint32_t c2[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, k2[2] = {0xa4093822u, 0x299f31d0u};
    philox4x32_10(c2, k2, out);
    TEST_CHECK(out[0] == 0xd16cfe09u && out[1] == 0x94fdccebu && out[2] == 0x5001e420u && out[3] == 0x24126ea1u,
               "pi vector: %08x %08x %08x %08x", out[0], out[1], out[2], out[3]);

    Rng a, b, c;
    rng_init(&a, 42, 3, 5, 7);
    rng_init(&b, 42, 3, 5, 7);
    rng_init(&c, 42, 3, 5, 8);
    int same = 1, differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same &= x == y;
        differ += x != z;
    }
    TEST_CHECK(same, "same key, different draws");
    TEST_CHECK(differ > 990, "neighbouring sample streams agree on %d of 1000 draws", 1000 - differ);

    /* uniform in [0,1), mean near 1/2; normal mean 0 var 1; rng_below unbiased range */
    double su = 0, sn = 0, sn2 = 0;
    int in_range = 1, hist[10] = {0};
    for (int i = 0; i < 100000; i++) {
        float u = rng_uniform(&a);
        in_range &= u >= 0.0f && u < 1.0f;
        su += u;
        double n = rng_normal(&a);
        sn += n;
        sn2 += n * n;
        hist[rng_below(&a, 10)]++;
    }
    TEST_CHECK(in_range, "uniform out of [0,1)");
    TEST_CLOSE(su / 100000, 0.5, 0.01, "uniform mean");
    TEST_CLOSE(sn / 100000, 0.0, 0.02, "normal mean");
    TEST_CLOSE(sn2 / 100000, 1.0, 0.03, "normal variance");
    for (int i = 0; i < 10; i++) TEST_CHECK(hist[i] > 9500 && hist[i] < 10500, "rng_below bucket %d: %d", i, hist[i]);
    return test_summary();
}
