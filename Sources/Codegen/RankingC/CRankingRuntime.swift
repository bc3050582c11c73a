import LossRanking

/// The fixed C of emitted ranking kernels: what every ranking loss needs whatever its formula,
/// written once here (as `CPrelude` is for the per-sample kinds) and pasted after the prelude.
///
/// - an arena: every temporary of one call is one `calloc` on a list, freed together, so an
///   allocation failure anywhere returns NaN without leaking;
/// - a stable LSD radix sort of entry indices by score (order-preserving integer keys of the
///   scores, 11-bit digits, digits every key shares skipped), as `RankingSort` does: no
///   comparator, no global state;
/// - the members of a set (`positives`, `negatives`, `valid`, `top(set, K)`), as
///   `RankingSort.members`;
/// - the pieces of `SortedPairSums`: galloping searches for the position ranges of each
///   interval of d, prefix sums of W, W·s, W·s², row terms from them, column terms on
///   difference arrays and their final scan;
/// - `max_below` over the positives by ascending score.
/// The per-formula parts (factors, pair expressions, constructs, the driver) are emitted by
/// `CRankingEmitter` and call these.
enum CRankingRuntime {
    /// The runtime for both precisions (all `static inline`: unused parts cost nothing).
    static var text: String {
        var s = "/* ==== lossc ranking runtime ==== */\n\n#include <stdlib.h>\n\n"
        s += "#if defined(__clang__)\n#pragma clang diagnostic push\n#pragma clang diagnostic ignored \"-Wunused-function\"\n#endif\n\n"
        s += """
        /* The temporaries of a call: blocks in use (head, newest first) and blocks released for
           reuse (spare). A workspace keeps its spare blocks between calls, so a trainer calling
           every step reuses the same memory instead of faulting in fresh pages each time. */
        typedef union lossc_rk_block {
            struct { union lossc_rk_block *next; size_t cap; } h;
            long double align_ld; int64_t align_i; double align_d; void *align_p;
        } lossc_rk_block;
        typedef struct { lossc_rk_block *head, *spare; } lossc_rk_arena;

        /* count zeroed elements of size bytes (size > 0), or NULL (overflow or out of memory):
           the smallest spare block that fits, else a new one */
        static inline void *lossc_rk_alloc(lossc_rk_arena *ar, int64_t count, size_t size)
        {
            lossc_rk_block *b = NULL, **at = NULL, **p;
            size_t bytes;
            if (count < 0 || (uint64_t)count > (uint64_t)((SIZE_MAX - 2 * sizeof *b) / size)) return NULL;
            bytes = (size_t)count * size;
            for (p = &ar->spare; *p; p = &(*p)->h.next) {
                if ((*p)->h.cap >= bytes && (!at || (*p)->h.cap < (*at)->h.cap)) at = p;
            }
            if (at) {
                b = *at;
                *at = b->h.next;
            } else {
                /* malloc + memset, not calloc: fresh pages are faulted in once, by the write,
                   not first as the shared zero page and again on the first store */
                b = (lossc_rk_block *)malloc(sizeof *b + bytes);
                if (!b) return NULL;
                b->h.cap = bytes;
            }
            memset(b + 1, 0, bytes);
            b->h.next = ar->head;
            ar->head = b;
            return b + 1;
        }
        /* Moves the blocks allocated since `mark` (NULL: all) to the spare list: a function's
           temporaries, reused by the next function's arrays. */
        static inline void lossc_rk_release(lossc_rk_arena *ar, lossc_rk_block *mark)
        {
            while (ar->head && ar->head != mark) {
                lossc_rk_block *b = ar->head;
                ar->head = b->h.next;
                b->h.next = ar->spare;
                ar->spare = b;
            }
        }
        static inline void lossc_rk_free(lossc_rk_arena *ar)
        {
            lossc_rk_release(ar, NULL);
            while (ar->spare) {
                lossc_rk_block *b = ar->spare;
                ar->spare = b->h.next;
                free(b);
            }
        }
        #define LOSSC_RK_NEW(ar, T, count) ((T *)lossc_rk_alloc((ar), (count), sizeof(T)))
        #define LOSSC_RK_TRY(x) do { if (!(x)) return -1; } while (0)

        /* The position of v in the ascending a[0..n) (v is there). */
        static inline int64_t lossc_rk_find(const int64_t *a, int64_t n, int64_t v)
        {
            int64_t lo = 0, hi = n;
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (a[mid] < v) lo = mid + 1; else hi = mid;
            }
            return lo;
        }

        /* p(d) = c0 + c1 d + c2 d^2 summed over positions [lo, hi) with d = s_j - x, from the
           interleaved prefix sums pf[3k..3k+2] of W, W s, W s^2 (SortedPairSums.rowSums) */
        static inline double lossc_rk_row_term(const double *pf, int64_t lo, int64_t hi, double x, double c0, double c1, double c2)
        {
            const double s0 = pf[3 * hi] - pf[3 * lo], s1 = pf[3 * hi + 1] - pf[3 * lo + 1];
            double v = c0 * s0 + c1 * (s1 - x * s0);
            if (c2 != 0.0) {
                const double s2 = pf[3 * hi + 2] - pf[3 * lo + 2];
                v += c2 * (s2 - 2.0 * x * s1 + x * x * s0);
            }
            return v;
        }
        /* k p(s_j - x) over [lo, hi) as coefficients of 1, s_j, s_j^2 on a difference array
           (SortedPairSums.columnSums) */
        static inline void lossc_rk_col_term(double *diff, int64_t lo, int64_t hi, double k, double x, double c0, double c1, double c2)
        {
            const double a = k * (c0 - c1 * x + c2 * x * x), b = k * (c1 - 2.0 * c2 * x), c = k * c2;
            diff[3 * lo] += a; diff[3 * lo + 1] += b; diff[3 * lo + 2] += c;
            diff[3 * hi] -= a; diff[3 * hi + 1] -= b; diff[3 * hi + 2] -= c;
        }


        """
        for p in CPrecision.allCases { s += precisionPart(p) }
        s += "#if defined(__clang__)\n#pragma clang diagnostic pop\n#endif\n\n"
        return s
    }

    /// The parts that depend on the score type.
    static func precisionPart(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        let K = p == .f32 ? "uint32_t" : "uint64_t", bits = p == .f32 ? 32 : 64
        let half = CLiteral.c(0.5, p), minusHalf = CLiteral.c(-0.5, p), zero = CLiteral.c(0, p)
        return """
        /* -- \(T) -- */
        /* A set's members by ascending score, their scores, and the prefix sums of 1, s, s^2
           (shared by every pair expression whose terms have no per-entry factor). */
        typedef struct { int64_t m; const int64_t *entries; const \(T) *scores; const double *pf1; } lossc_rk_set\(f);

        /* an unsigned key in the order of the scores (-0 and +0 equal) */
        static inline \(K) lossc_rk_key\(f)(\(T) v)
        {
            \(K) b;
            const \(T) z = v == \(zero) ? \(zero) : v;
            memcpy(&b, &z, sizeof b);
            return (b >> \(bits - 1)) ? ~b : (b | ((\(K))1 << \(bits - 1)));
        }

        /* idx[0..m) stably sorted by ascending s[idx[k]]: LSD radix sort, 11-bit digits */
        static inline int lossc_rk_sort\(f)(lossc_rk_arena *ar, const \(T) *s, int64_t *idx, int64_t m)
        {
            enum { DIGITS = (\(bits) + 10) / 11, B = 2048 };
            \(K) *key, *key2, *kt;
            int64_t *idx2, *it, *hist, *out = idx, k;
            int d;
            lossc_rk_block *const mark = ar->head;
            if (m < 2) return 0;
            key = LOSSC_RK_NEW(ar, \(K), m); key2 = LOSSC_RK_NEW(ar, \(K), m);
            idx2 = LOSSC_RK_NEW(ar, int64_t, m); hist = LOSSC_RK_NEW(ar, int64_t, DIGITS * B);
            LOSSC_RK_TRY(key && key2 && idx2 && hist);
            for (k = 0; k < m; k++) {
                key[k] = lossc_rk_key\(f)(s[idx[k]]);
                for (d = 0; d < DIGITS; d++) hist[d * B + (int64_t)((key[k] >> (11 * d)) & (B - 1))]++;
            }
            for (d = 0; d < DIGITS; d++) {
                int64_t *h = hist + d * B, sum = 0, b;
                int same = 0;
                for (b = 0; b < B; b++) same |= h[b] == m;
                if (same) continue; /* every key has this digit: nothing moves */
                for (b = 0; b < B; b++) { const int64_t c = h[b]; h[b] = sum; sum += c; }
                for (k = 0; k < m; k++) {
                    const int64_t o = h[(key[k] >> (11 * d)) & (B - 1)]++;
                    key2[o] = key[k];
                    idx2[o] = out[k];
                }
                kt = key; key = key2; key2 = kt;
                it = out; out = idx2; idx2 = it;
            }
            if (out != idx) memcpy(idx, out, (size_t)m * sizeof *idx);
            lossc_rk_release(ar, mark);
            return 0;
        }

        /* The members of a set in ascending score (base 0 positives, 1 negatives, 2 valid) from
           the valid entries sorted by (score, index); top >= 0 keeps the top highest scores,
           ties at the cut going to the lower entry index. Returns the count. */
        static inline int64_t lossc_rk_members\(f)(const \(T) *s, const \(T) *y, const int64_t *sorted, int64_t nv,
                                                   int base, int64_t top, int64_t *out)
        {
            int64_t m = 0, k, above, first, keep;
            \(T) cut;
            for (k = 0; k < nv; k++) {
                const int positive = y[sorted[k]] > \(half);
                if ((base == 0 && !positive) || (base == 1 && positive)) continue;
                out[m++] = sorted[k];
            }
            if (top < 0 || m <= top) return m;
            cut = s[out[m - top]];
            above = m;
            while (above > 0 && s[out[above - 1]] > cut) above--;
            first = above;
            while (first > 0 && s[out[first - 1]] == cut) first--;
            keep = top - (m - above);
            memmove(out, out + first, (size_t)keep * sizeof *out);
            memmove(out + keep, out + above, (size_t)(m - above) * sizeof *out);
            return top;
        }

        /* 1 positive, 0 negative, -1 ignored, as RankingBatch.partition reads labels */
        static inline int lossc_rk_label\(f)(\(T) y) { return y > \(half) ? 1 : (y >= \(minusHalf) ? 0 : -1); }

        /* The first position whose fl(s_j - si) >= b (strict: > b), galloping from *hint. */
        static inline int64_t lossc_rk_search\(f)(const \(T) *sc, int64_t n, \(T) si, double b, int strict, int64_t *hint)
        {
            int64_t lo, hi, step = 1;
            const int64_t h = *hint < 0 ? 0 : (*hint > n ? n : *hint);
        #define LOSSC_RK_AFTER(k) (strict ? (double)(\(T))(sc[k] - si) > b : (double)(\(T))(sc[k] - si) >= b)
            if (h < n && !LOSSC_RK_AFTER(h)) {
                lo = h + 1; hi = h + 1;
                while (hi < n && !LOSSC_RK_AFTER(hi)) { lo = hi + 1; hi = hi + step < n ? hi + step : n; step <<= 1; }
                if (hi > n) hi = n;
            } else {
                hi = h; lo = h;
                while (lo > 0 && LOSSC_RK_AFTER(lo - 1)) { hi = lo - 1; lo = lo - step > 0 ? lo - step : 0; step <<= 1; }
            }
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (LOSSC_RK_AFTER(mid)) hi = mid; else lo = mid + 1;
            }
        #undef LOSSC_RK_AFTER
            *hint = lo;
            return lo;
        }

        /* For positive score si and breakpoints cuts[0..nc): interval k is positions
           [edge[2k], edge[2k+1]), the pairs exactly at cut k are [edge[2k+1], edge[2k+2]). */
        static inline void lossc_rk_ranges\(f)(const lossc_rk_set\(f) *S, \(T) si, const double *cuts, int nc, int64_t *hints, int64_t *edge)
        {
            int64_t start = 0;
            int k;
            edge[0] = 0;
            for (k = 0; k < nc; k++) {
                int64_t lo = lossc_rk_search\(f)(S->scores, S->m, si, cuts[k], 0, &hints[2 * k]), hi;
                lo = lo > start ? lo : start;
                hi = lossc_rk_search\(f)(S->scores, S->m, si, cuts[k], 1, &hints[2 * k + 1]);
                hi = hi > lo ? hi : lo;
                edge[2 * k + 1] = lo;
                edge[2 * k + 2] = hi;
                start = hi;
            }
            edge[2 * nc + 1] = S->m;
        }

        /* Interleaved prefix sums pf[3k..3k+2] of W, W s, W s^2 over the set (W = 1 when w is NULL). */
        static inline void lossc_rk_prefix\(f)(const lossc_rk_set\(f) *S, const \(T) *w, double *pf)
        {
            double a = 0.0, b = 0.0, c = 0.0;
            int64_t k;
            for (k = 0; k < S->m; k++) {
                const double wk = w ? (double)w[k] : 1.0, s = (double)S->scores[k];
                a += wk; b += wk * s; c += wk * s * s;
                pf[3 * k + 3] = a; pf[3 * k + 4] = b; pf[3 * k + 5] = c;
            }
        }

        /* out[k] += W_k (c0 + c1 s_k + c2 s_k^2), the running sums of a difference array. */
        static inline void lossc_rk_diff_finish\(f)(const lossc_rk_set\(f) *S, const double *diff, const \(T) *w, double *out)
        {
            double c0 = 0.0, c1 = 0.0, c2 = 0.0;
            int64_t k;
            for (k = 0; k < S->m; k++) {
                const double s = (double)S->scores[k];
                double v;
                c0 += diff[3 * k]; c1 += diff[3 * k + 1]; c2 += diff[3 * k + 2];
                v = c0 + s * (c1 + s * c2);
                out[k] += w ? (double)w[k] * v : v;
            }
        }

        /* max_below: for each positive the max of values over the positives scored at or below
           it (a group of equal scores sees the whole group), and where the max is attained. */
        static inline void lossc_rk_max_below\(f)(const \(T) *s, const int64_t *pos, const int64_t *by_score, int64_t np,
                                                  const \(T) *values, \(T) *out, int64_t *arg)
        {
            \(T) best = -(\(T))INFINITY;
            int64_t at = -1, g = 0, e, q;
            while (g < np) {
                e = g;
                while (e < np && s[pos[by_score[e]]] == s[pos[by_score[g]]]) e++;
                for (q = g; q < e; q++) {
                    const \(T) v = values[by_score[q]];
                    if (v > best || (v != v && best == best)) { best = v; at = by_score[q]; }
                }
                for (q = g; q < e; q++) { out[by_score[q]] = best; arg[by_score[q]] = at >= 0 ? at : by_score[q]; }
                g = e;
            }
        }


        """
    }
}
