import LossRanking

/// The fixed C of emitted ranking kernels: what every ranking loss needs whatever its formula,
/// written once here (as `CPrelude` is for the per-sample kinds) and pasted after the prelude.
///
/// - an arena: every temporary of one call is one `calloc` on a list, freed together, so an
///   allocation failure anywhere returns NaN without leaking;
/// - a stable LSD radix sort of entry indices by score (order-preserving integer keys of the
///   scores, 11-bit digits, digits every key shares skipped), as `RankingSort` does: no
///   comparator, no global state; it sorts the positives and the thresholds;
/// - the members of a `top(set, K)`, as `RankingSort.members` keeps them, found by a radix
///   select of the cut instead of a sort;
/// - a set's buckets instead of a sorted set: the thresholds where some positive's pairs cross
///   a breakpoint of d (`lossc_rk_threshold`: the exact float where fl(s_j − s_i) reaches the
///   cut), each member's bucket among them (a guide table of cells over the thresholds, then
///   at most a few compares), and group lists of the members a pair-by-pair range can reach;
/// - the pieces of `SortedPairSums` on buckets: each interval of d's bucket range (a table
///   lookup), prefix sums of W, W·s, W·s² at bucket edges, row terms from them, column terms
///   on one difference array over buckets (the per-entry factors' coefficients side by side,
///   its records asked for a few positives ahead) and its final pass over the members;
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

        /* count elements of size bytes (size > 0), zeroed unless `raw` (the caller writes every
           one before reading it), or NULL (overflow or out of memory): the smallest spare block
           that fits, else a new one */
        static inline void *lossc_rk_alloc(lossc_rk_arena *ar, int64_t count, size_t size, int raw)
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
            if (!raw) memset(b + 1, 0, bytes);
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
        #define LOSSC_RK_NEW(ar, T, count) ((T *)lossc_rk_alloc((ar), (count), sizeof(T), 0))
        #define LOSSC_RK_RAW(ar, T, count) ((T *)lossc_rk_alloc((ar), (count), sizeof(T), 1))
        #define LOSSC_RK_TRY(x) do { if (!(x)) return -1; } while (0)

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
        /* Asks for the records of `stride` doubles at n bucket edges of a later positive ahead of
           their updates: the edges land at random in a difference array of megabytes (PAP: 200k
           buckets), and each update would otherwise wait on memory in turn. */
        static inline void lossc_rk_prefetch_edges(const double *a, int64_t stride, const int64_t *edge, int n)
        {
        #if defined(__GNUC__)
            int e;
            int64_t o;
            for (e = 0; e < n; e++) {
                const double *const r = a + stride * edge[e];
                for (o = 0; o < stride; o += 8) __builtin_prefetch(r + o, 1); /* every 64 bytes from the record's start */
            }
        #else
            (void)a; (void)stride; (void)edge; (void)n;
        #endif
        }
        /* k p(s_j - x) over [lo, hi) as coefficients of 1, s_j, s_j^2 on a difference array
           (SortedPairSums.columnSums) whose buckets are `stride` doubles apart */
        static inline void lossc_rk_col_term(double *diff, int64_t stride, int64_t lo, int64_t hi, double k, double x, double c0, double c1, double c2)
        {
            const double a = k * (c0 - c1 * x + c2 * x * x), b = k * (c1 - 2.0 * c2 * x), c = k * c2;
            double *const l = diff + stride * lo, *const h = diff + stride * hi;
            l[0] += a; l[1] += b; l[2] += c;
            h[0] -= a; h[1] -= b; h[2] -= c;
        }


        """
        s += threads
        for p in CPrecision.allCases { s += precisionPart(p) }
        s += "#if defined(__clang__)\n#pragma clang diagnostic pop\n#endif\n\n"
        return s
    }

    /// Chunked passes on POSIX threads, as the per-sample kernels' `lossc_run`: fixed chunks of
    /// members (their count depends on the set, never on the thread count), each writing only its
    /// own outputs, partial sums added in chunk order, so every thread count gives the same bits.
    static let threads = """
    /* POSIX threads where the system has them (define LOSSC_NO_THREADS to run on one). */
    #if !defined(LOSSC_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
    #define LOSSC_RK_THREADS 1
    #include <pthread.h>
    #include <unistd.h>
    #endif

    /* members per chunk of a parallel pass (at least; see lossc_rk_chunk) */
    #define LOSSC_RK_CHUNK 65536

    typedef void (*lossc_rk_chunk_fn)(void *job, int64_t chunk);
    typedef struct { lossc_rk_chunk_fn fn; void *job; int64_t count, first, last, *next; } lossc_rk_part;

    /* One thread's share: with GCC/clang atomics, chunks taken from a shared counter; else the
       fixed range [first, last). */
    static inline void *lossc_rk_part_run(void *arg)
    {
        const lossc_rk_part *p = (const lossc_rk_part *)arg;
        int64_t c;
    #if defined(__GNUC__)
        while ((c = __atomic_fetch_add(p->next, 1, __ATOMIC_RELAXED)) < p->count) p->fn(p->job, c);
    #else
        for (c = p->first; c < p->last; c++) p->fn(p->job, c);
    #endif
        return NULL;
    }

    \(CThreadPool.text(prefix: "lossc_rk", threadsMacro: "LOSSC_RK_THREADS"))/* Runs fn(job, c) for the chunks c in [0, count) on up to `threads` threads (0: every
       online core). A thread that cannot be started leaves its chunks to the caller. */
    static inline void lossc_rk_parallel(int64_t count, lossc_rk_chunk_fn fn, void *job, int threads)
    {
        lossc_rk_part parts[64];
        int64_t used = threads > 0 ? threads : 1, t, next = 0;
    #if defined(LOSSC_RK_THREADS) && defined(_SC_NPROCESSORS_ONLN)
        if (threads == 0) {
            const long cores = sysconf(_SC_NPROCESSORS_ONLN);
            used = cores > 0 ? cores : 1;
        }
    #endif
        used = used < count ? used : count;
        used = used < 64 ? (used > 0 ? used : 1) : 64;
        for (t = 0; t < used; t++) {
            parts[t].fn = fn; parts[t].job = job; parts[t].count = count;
            parts[t].first = count * t / used; parts[t].last = count * (t + 1) / used; parts[t].next = &next;
        }
    \(CRuntime.runParts(threadsMacro: "LOSSC_RK_THREADS", runner: "lossc_rk_part_run", pool: "lossc_rk"))
    }

    /* The chunk size of a pass over m members whose chunks each keep `width` doubles (a
       per-bucket table): LOSSC_RK_CHUNK, or larger so that the tables stay under 64 MiB and
       64 chunks; a function of m and width only. */
    static inline int64_t lossc_rk_chunk(int64_t m, int64_t width)
    {
        int64_t most = ((int64_t)8 << 20) / (width > 0 ? width : 1), chunk;
        most = most < 64 ? (most > 0 ? most : 1) : 64;
        chunk = (m + most - 1) / most;
        return chunk > LOSSC_RK_CHUNK ? chunk : LOSSC_RK_CHUNK;
    }


    """

    /// The parts that depend on the score type.
    static func precisionPart(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        let K = p == .f32 ? "uint32_t" : "uint64_t", bits = p == .f32 ? 32 : 64
        let half = CLiteral.c(0.5, p), minusHalf = CLiteral.c(-0.5, p), zero = CLiteral.c(0, p)
        let maxLit = CLiteral.c(p == .f32 ? Double(Float.greatestFiniteMagnitude) : Double.greatestFiniteMagnitude, .f64)
        let epsLit = CLiteral.c(p == .f32 ? Double(Float.ulpOfOne) : Double.ulpOfOne, .f64)
        return """
        /* -- \(T) -- */
        /* A set's members, the bucket of each, and what the row and column sums read. The
           thresholds th are every score at which some pair (i, j) of a positive i and a member j
           crosses a breakpoint of d = fl(s_j - s_i): bucket b holds the members with
           th[b-1] <= s < th[b], so for each positive and breakpoint the members on one side are
           the buckets from an edge on (bound), and a range of d is a range of buckets: sums over
           it come from per-bucket sums, no sort. Positions k are the members' input order. */
        typedef struct {
            int64_t m, nt;          /* members; distinct thresholds (nt + 1 buckets) */
            const int64_t *entries; /* [m] the members' entry indices */
            const \(T) *scores;      /* [m] their scores */
            const uint32_t *bucket; /* [m] their buckets */
            const int64_t *group;   /* the positions pair-by-pair ranges can reach, bucket by bucket */
            const int64_t *gstart;  /* [nt + 2] bucket b's are group[gstart[b] .. gstart[b + 1]) */
            const int64_t *bound;   /* [np nu 2] for positive p and cut u: the first bucket whose pairs have d >= cut - w, then d > cut + w (w: the cut's window) */
            int nu;                 /* the cuts of the formula (every pair expression's, merged) */
            const double *pf1;      /* [3 (nt + 2)] prefix sums of 1, s, s^2 at bucket edges */
            int threads;            /* for the passes over the members (NAME_set_threads) */
        } lossc_rk_set\(f);

        /* an unsigned key in the order of the scores (-0 and +0 equal): the bits flipped when
           the sign is set, else the sign bit set, written with a mask rather than a branch (the
           sign of a score is a coin toss, mispredicted half the time) */
        static inline \(K) lossc_rk_key\(f)(\(T) v)
        {
            \(K) b;
            const \(T) z = v == \(zero) ? \(zero) : v;
            memcpy(&b, &z, sizeof b);
            return b ^ (((\(K))0 - (b >> \(bits - 1))) | ((\(K))1 << \(bits - 1)));
        }

        /* the score of a key (inverse of lossc_rk_key; the key of -0 gives +0) */
        static inline \(T) lossc_rk_unkey\(f)(\(K) k)
        {
            const \(K) b = k ^ (((k >> \(bits - 1)) - 1) | ((\(K))1 << \(bits - 1)));
            \(T) v;
            memcpy(&v, &b, sizeof v);
            return v;
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
            key = LOSSC_RK_RAW(ar, \(K), m); key2 = LOSSC_RK_RAW(ar, \(K), m);
            idx2 = LOSSC_RK_RAW(ar, int64_t, m); hist = LOSSC_RK_NEW(ar, int64_t, DIGITS * B);
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

        /* The members of base 0 (positives), 1 (negatives) or 2 (valid) among the valid entries
           valid[0..nv), in entry order; top >= 0 keeps only the top highest scores, ties at the
           cut going to the lower entry index (what a cut of the list sorted by (score, index)
           keeps). The cut is found by a radix select on the score keys, 11 bits a pass from
           the top, O(nv) with no sort: one pass gathers the keys and counts the top digit, the
           later digits are counted among the keys that share the cut's digits so far (copied
           out once), and one pass over the keys keeps the members. Returns the count, -1 when
           out of memory. */
        static inline int64_t lossc_rk_members\(f)(lossc_rk_arena *ar, const \(T) *s, const \(T) *y, const int64_t *valid, int64_t nv,
                                                   int base, int64_t top, int64_t *out)
        {
            enum { DIGITS = (\(bits) + 10) / 11, B = 2048 };
            int64_t m = 0, k, need, kept = 0, nc, *hist;
            \(K) prefix = 0, mask = 0, *key, *cand;
            int d, b;
            lossc_rk_block *const mark = ar->head;
            for (k = 0; k < nv; k++) {
                const int positive = y[valid[k]] > \(half);
                if ((base == 0 && !positive) || (base == 1 && positive)) continue;
                out[m++] = valid[k];
            }
            if (top < 0 || m <= top) return m;
            if (top == 0) return 0;
            if (!(hist = LOSSC_RK_NEW(ar, int64_t, B)) || !(key = LOSSC_RK_RAW(ar, \(K), m))) return -1;
            for (k = 0; k < m; k++) {
                key[k] = lossc_rk_key\(f)(s[out[k]]);
                hist[key[k] >> (11 * (DIGITS - 1))]++;
            }
            cand = key; nc = m;
            need = top; /* the cut is the need-th highest key among those matching prefix */
            for (d = DIGITS - 1; d >= 0; d--) {
                const int shift = 11 * d;
                if (d < DIGITS - 1) {
                    memset(hist, 0, B * sizeof *hist);
                    for (k = 0; k < nc; k++) if ((cand[k] & mask) == prefix) hist[(cand[k] >> shift) & (B - 1)]++;
                }
                for (b = B - 1; b > 0 && hist[b] < need; b--) need -= hist[b];
                prefix |= (\(K))b << shift;
                mask |= (\(K))(B - 1) << shift;
                if (d == DIGITS - 1 && d > 0) { /* the keys that share the top digit, once */
                    \(K) *const c = LOSSC_RK_RAW(ar, \(K), hist[b]);
                    if (!c) return -1;
                    for (k = 0, nc = 0; k < m; k++) if ((key[k] & mask) == prefix) c[nc++] = key[k];
                    cand = c;
                }
            }
            /* keep every key above the cut and the first `need` at it */
            for (k = 0; k < m; k++) {
                if (key[k] > prefix || (key[k] == prefix && need-- > 0)) out[kept++] = out[k];
            }
            lossc_rk_release(ar, mark);
            return kept;
        }

        /* 1 positive, 0 negative, -1 ignored, as RankingBatch.partition reads labels */
        static inline int lossc_rk_label\(f)(\(T) y) { return y > \(half) ? 1 : (y >= \(minusHalf) ? 0 : -1); }

        /* whether the pair (si, v) has d = fl(v - si) >= b (strict: > b), as the reference compares */
        static inline int lossc_rk_after\(f)(\(T) v, \(T) si, double b, int strict)
        {
            const double d = (double)(\(T))(v - si);
            return strict ? d > b : d >= b;
        }

        /* The key of the least score v (from -inf to +inf) with lossc_rk_after(v, si, b, strict),
           or key(+inf) + 1 when there is none. The predicate is monotone in v (rounding is), so
           the least key is found by a walk from fl(si + b)'s key, where it almost always is or
           is a neighbour (two evaluations of the predicate, where a bisection of a bracket of 16
           keys took six), and by a bisection of the rest of the range after 8 steps. */
        static inline \(K) lossc_rk_threshold\(f)(\(T) si, double b, int strict)
        {
            const \(K) first = lossc_rk_key\(f)(-(\(T))INFINITY), none = lossc_rk_key\(f)((\(T))INFINITY) + 1;
            \(K) lo = first, hi = none;
            double g = (double)si + b;
            if (g == g) {
                \(K) k;
                int steps = 0;
                if (g > \(maxLit)) g = \(maxLit);
                if (g < -\(maxLit)) g = -\(maxLit);
                k = lossc_rk_key\(f)((\(T))g);
                if (lossc_rk_after\(f)(lossc_rk_unkey\(f)(k), si, b, strict)) {
                    /* k holds: step down while the key below holds too */
                    while (steps < 8 && k > first && lossc_rk_after\(f)(lossc_rk_unkey\(f)(k - 1), si, b, strict)) { k--; steps++; }
                    if (steps < 8 || k == first) return k;
                    hi = k;
                } else {
                    /* k fails: step up to the first key that holds */
                    k++;
                    while (steps < 8 && k < none && !lossc_rk_after\(f)(lossc_rk_unkey\(f)(k), si, b, strict)) { k++; steps++; }
                    if (steps < 8 || k == none) return k;
                    lo = k;
                }
            }
            while (lo < hi) {
                const \(K) mid = lo + (hi - lo) / 2;
                if (lossc_rk_after\(f)(lossc_rk_unkey\(f)(mid), si, b, strict)) hi = mid; else lo = mid + 1;
            }
            return lo;
        }

        /* The bucket of a score among nt ascending thresholds: how many are <= v. A guide of
           cells over the thresholds' range (cell() is monotone in v, so the thresholds <= v are
           those of the cells before v's plus some of its own) leaves a short search in one cell. */
        typedef struct { double lo, scale; int64_t cells; const int64_t *cstart; } lossc_rk_guide\(f);
        static inline int64_t lossc_rk_cell\(f)(const lossc_rk_guide\(f) *g, \(T) v)
        {
            double x = ((double)v - g->lo) * g->scale;
            x = x > 0.0 ? x : 0.0; /* NaN too */
            x = x < (double)(g->cells - 1) ? x : (double)(g->cells - 1);
            return (int64_t)x;
        }
        static inline int64_t lossc_rk_bucket\(f)(const lossc_rk_guide\(f) *g, const \(T) *th, int64_t nt, \(T) v)
        {
            int64_t lo, hi, c;
            if (v != v) return (lossc_rk_key\(f)(v) >> \(bits - 1)) ? nt : 0; /* NaN: by its key, below or above all */
            c = lossc_rk_cell\(f)(g, v);
            lo = g->cstart[c]; hi = g->cstart[c + 1];
            while (hi - lo > 3) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (th[mid] <= v) lo = mid + 1; else hi = mid;
            }
            /* th[hi] > v (a later cell's, or the NaN pad past the end): three steps without a
               branch finish it */
            lo += th[lo] <= v; lo += th[lo] <= v; lo += th[lo] <= v;
            return lo;
        }

        /* One chunk of a set's member pass: the members' scores and cells, then their buckets
           and the members in buckets a pair-by-pair range reaches (list, from the chunk's first
           member on), then this chunk's per-bucket sums of 1, s, s^2 (hist, one table a chunk). */
        typedef struct {
            const lossc_rk_guide\(f) *g;
            const \(T) *s, *th;
            const int64_t *members;
            int64_t m, nt, chunk;
            \(T) *sc;
            uint32_t *bk;
            const unsigned char *reach;
            double *hist;
            int64_t *list, *ng;
        } lossc_rk_build_job\(f);

        static inline void lossc_rk_build_chunk\(f)(void *job_, int64_t c)
        {
            const lossc_rk_build_job\(f) *j = (const lossc_rk_build_job\(f) *)job_;
            const int64_t first = c * j->chunk, end = j->m - first < j->chunk ? j->m : first + j->chunk;
            const \(T) *const th = j->th;
            double *const h = j->hist + 3 * (j->nt + 2) * c;
            int64_t *const list = j->list + first, ng = 0, k, b;
            \(T) *const sc = j->sc;
            uint32_t *const bk = j->bk;
            /* the cells first (a loop without dependences), then the buckets */
            for (k = first; k < end; k++) {
                const \(T) v = j->s[j->members[k]];
                sc[k] = v; bk[k] = (uint32_t)lossc_rk_cell\(f)(j->g, v);
            }
            for (k = first; k < end; k++) {
                const \(T) v = sc[k];
                /* two steps past the cell's first threshold (a positive's >= and > thresholds
                   are often one ulp apart), read side by side: they are sorted, so the count of
                   th[b0], th[b0 + 1] <= v is the step, and th[b0 + 2] <= v a crowded cell
                   (the NaN pad past the end compares false) */
                const int64_t b0 = j->g->cstart[bk[k]];
                b = b0 + (th[b0] <= v) + (th[b0 + 1] <= v);
                if (th[b0 + 2] <= v) b = lossc_rk_bucket\(f)(j->g, th, j->nt, v);
                if (v != v) b = lossc_rk_bucket\(f)(j->g, th, j->nt, v);
                bk[k] = (uint32_t)b;
                if (j->reach[b]) list[ng++] = k;
            }
            /* the sums in a loop of their own: each table address is then one streamed load
               away, not at the end of the bucket search, so the table's cache misses overlap
               (one thread, 900k members: 2.9 -> 1.0 ms for the sums) */
            for (k = first; k < end; k++) {
                const double x = (double)sc[k];
                double *const hb = h + 3 * (int64_t)bk[k] + 3;
                hb[0] += 1.0; hb[1] += x; hb[2] += x * x;
            }
            j->ng[c] = ng;
        }

        /* Builds set S from its m members (any order) for the np positives' scores anchor[] and
           the formula's nu cuts: every positive's thresholds, each member's bucket, the prefix
           sums of 1, s, s^2 at bucket edges, and the group lists of the buckets a pair-by-pair
           range can reach: those between a positive's `d >= cut - w` and `d > cut + w` edges
           (pairs at or within 8 ulps of a breakpoint), or every bucket when `all` (a formula
           with intervals of d that are not polynomial). O(m + np nu log(np nu)) plus a bisection in one guide cell
           per member. */
        static inline int lossc_rk_set_build\(f)(lossc_rk_arena *ar, lossc_rk_set\(f) *S, const \(T) *s, const int64_t *members,
                                                   int64_t m, const \(T) *anchor, int64_t np, const double *cuts, int nu, int all,
                                                   int threads)
        {
            const int64_t nr = np * nu * 2;
            const \(K) none = lossc_rk_key\(f)((\(T))INFINITY) + 1;
            lossc_rk_guide\(f) g;
            lossc_rk_build_job\(f) job;
            \(T) *raw, *th, *sc;
            uint32_t *bk;
            unsigned char *reach;
            int64_t *ri, *bound, *cstart, *gstart, *group, *at, *list, nt = 0, cnt = 0, ng = 0, first = 0, last, r, k, b, chunks;
            double *pf, a0 = 0.0, a1 = 0.0, a2 = 0.0;
            LOSSC_RK_TRY(raw = LOSSC_RK_RAW(ar, \(T), nr)); LOSSC_RK_TRY(ri = LOSSC_RK_RAW(ar, int64_t, nr));
            LOSSC_RK_TRY(bound = LOSSC_RK_RAW(ar, int64_t, nr)); LOSSC_RK_TRY(th = LOSSC_RK_RAW(ar, \(T), nr + 3));
            for (r = 0; r < nr; r++) {
                /* the window around a cut whose pairs are evaluated on their own (SortedPairSums.window) */
                const double cut = cuts[(r / 2) % nu], w = 8.0 * \(epsLit) * ((cut < 0.0 ? -cut : cut) + 1.0);
                const \(K) t = lossc_rk_threshold\(f)(anchor[r / (2 * nu)], (r & 1) ? cut + w : cut - w, (int)(r & 1));
                bound[r] = -1;
                if (t != none) { raw[r] = lossc_rk_unkey\(f)(t); ri[cnt++] = r; }
            }
            LOSSC_RK_TRY(lossc_rk_sort\(f)(ar, raw, ri, cnt) == 0);
            for (k = 0; k < cnt; k++) {
                r = ri[k];
                if (nt == 0 || raw[r] != th[nt - 1]) th[nt++] = raw[r];
                bound[r] = nt; /* the members at or above th[nt - 1]: buckets nt on */
            }
            for (r = 0; r < nr; r++) if (bound[r] < 0) bound[r] = nt + 1;
            th[nt] = th[nt + 1] = th[nt + 2] = (\(T))NAN; /* compares false: lossc_rk_bucket's pad */
            if (nt >= (int64_t)UINT32_MAX) return -1;
            /* the buckets pair-by-pair ranges reach (a difference array of the point ranges) */
            LOSSC_RK_TRY(gstart = LOSSC_RK_NEW(ar, int64_t, nt + 2)); LOSSC_RK_TRY(reach = LOSSC_RK_RAW(ar, unsigned char, nt + 1));
            LOSSC_RK_TRY(at = LOSSC_RK_NEW(ar, int64_t, nt + 2));
            for (r = 0; r < nr; r += 2) if (bound[r] < bound[r + 1]) { at[bound[r]]++; at[bound[r + 1]]--; }
            for (b = 0, k = 0; b <= nt; b++) { k += at[b]; reach[b] = (unsigned char)(all || k > 0); }
            /* the guide: 4 cells per threshold over the finite thresholds' range */
            last = nt;
            while (first < nt && !(th[first] > -(\(T))INFINITY)) first++;
            while (last > first && !(th[last - 1] < (\(T))INFINITY)) last--;
            g.cells = 1;
            while (g.cells < 4 * nt && g.cells < ((int64_t)1 << 40)) g.cells <<= 1;
            g.lo = first < last ? (double)th[first] : 0.0;
            g.scale = last - first > 1 ? (double)g.cells / ((double)th[last - 1] - g.lo) : 0.0;
            if (!(g.scale > 0.0 && g.scale < (double)INFINITY)) g.scale = 0.0;
            LOSSC_RK_TRY(cstart = LOSSC_RK_NEW(ar, int64_t, g.cells + 1));
            for (k = 0; k < nt; k++) cstart[lossc_rk_cell\(f)(&g, th[k]) + 1]++;
            for (k = 0; k < g.cells; k++) cstart[k + 1] += cstart[k];
            g.cstart = cstart;
            /* each member: score, bucket, per-bucket sums (pf, shifted by one bucket), reached
               list, chunk by chunk (lossc_rk_build_chunk), the chunks' sums added in order */
            job.g = &g; job.s = s; job.th = th; job.members = members; job.m = m; job.nt = nt;
            job.chunk = lossc_rk_chunk(m, 3 * (nt + 2));
            chunks = (m + job.chunk - 1) / job.chunk;
            LOSSC_RK_TRY(pf = LOSSC_RK_NEW(ar, double, 3 * (nt + 2)));
            LOSSC_RK_TRY(job.hist = LOSSC_RK_NEW(ar, double, 3 * (nt + 2) * (chunks > 0 ? chunks : 1)));
            LOSSC_RK_TRY(job.bk = bk = LOSSC_RK_RAW(ar, uint32_t, m)); LOSSC_RK_TRY(job.sc = sc = LOSSC_RK_RAW(ar, \(T), m));
            LOSSC_RK_TRY(job.list = list = LOSSC_RK_RAW(ar, int64_t, m)); LOSSC_RK_TRY(job.ng = LOSSC_RK_NEW(ar, int64_t, chunks + 1));
            job.reach = reach;
            lossc_rk_parallel(chunks, lossc_rk_build_chunk\(f), &job, threads);
            for (k = 0; k < chunks; k++) {
                const double *h = job.hist + 3 * (nt + 2) * k;
                for (b = 0; b < 3 * (nt + 2); b++) pf[b] += h[b];
            }
            for (b = 0; b <= nt + 1; b++) {
                const double c0 = pf[3 * b], c1 = pf[3 * b + 1], c2 = pf[3 * b + 2];
                a0 += c0; a1 += c1; a2 += c2;
                pf[3 * b] = a0; pf[3 * b + 1] = a1; pf[3 * b + 2] = a2;
            }
            /* the chunks' lists, in member order */
            for (k = 0; k < chunks; k++) {
                const int64_t *l = list + job.chunk * k;
                for (r = 0; r < job.ng[k]; r++) { list[ng++] = l[r]; gstart[bk[l[r]] + 1]++; }
            }
            /* the reached positions grouped by bucket (a counting sort of the list, stable) */
            for (b = 0; b <= nt; b++) gstart[b + 1] += gstart[b];
            memcpy(at, gstart, (size_t)(nt + 1) * sizeof *at);
            LOSSC_RK_TRY(group = LOSSC_RK_RAW(ar, int64_t, ng));
            for (k = 0; k < ng; k++) group[at[bk[list[k]]]++] = list[k];
            S->m = m; S->nt = nt; S->entries = members; S->scores = sc; S->bucket = bk;
            S->group = group; S->gstart = gstart; S->bound = bound; S->nu = nu; S->pf1 = pf; S->threads = threads;
            return 0;
        }

        /* For positive p and the cuts cut_at[0..nc) (indices into the formula's cuts): interval k
           of d is buckets [edge[2k], edge[2k+1]), the pairs at cut k (within its window) are
           [edge[2k+1], edge[2k+2]). */
        static inline void lossc_rk_ranges\(f)(const lossc_rk_set\(f) *S, int64_t p, const int *cut_at, int nc, int64_t *edge)
        {
            const int64_t *bd = S->bound + p * S->nu * 2;
            int64_t start = 0;
            int k;
            edge[0] = 0;
            for (k = 0; k < nc; k++) {
                int64_t lo = bd[2 * cut_at[k]], hi = bd[2 * cut_at[k] + 1];
                lo = lo > start ? lo : start;
                hi = hi > lo ? hi : lo;
                edge[2 * k + 1] = lo;
                edge[2 * k + 2] = hi;
                start = hi;
            }
            edge[2 * nc + 1] = S->nt + 1;
        }

        /* Interleaved prefix sums pf[3b..3b+2] of W, W s, W s^2 at bucket edges (W per position;
           pf has 3 (nt + 2) zeroed doubles). */
        static inline void lossc_rk_prefix\(f)(const lossc_rk_set\(f) *S, const \(T) *w, double *pf)
        {
            double a = 0.0, c1 = 0.0, c2 = 0.0;
            int64_t b, k;
            for (k = 0; k < S->m; k++) {
                const double wk = w ? (double)w[k] : 1.0, v = (double)S->scores[k];
                double *const h = pf + 3 * (int64_t)S->bucket[k] + 3;
                h[0] += wk; h[1] += wk * v; h[2] += wk * v * v;
            }
            for (b = 0; b <= S->nt + 1; b++) {
                a += pf[3 * b]; c1 += pf[3 * b + 1]; c2 += pf[3 * b + 2];
                pf[3 * b] = a; pf[3 * b + 1] = c1; pf[3 * b + 2] = c2;
            }
        }

        /* The difference arrays of a column sum's nw per-entry factors W_0..W_{nw-1}, interleaved:
           bucket b's coefficients for W_i are diff[3 (nw b + i) .. + 2], so the terms of one
           interval, which share their two bucket edges, update two short runs of memory rather
           than 2 nw scattered places, and one pass finishes them all. For each member k, in
           factor order: out[entry of k] += W_i[k] (c0 + c1 s_k + c2 s_k^2) with the coefficients
           of k's bucket (W_i NULL: 1) -- the additions, and their order, of nw separate passes. */
        typedef struct { const lossc_rk_set\(f) *S; const double *diff; const \(T) *const *w; int nw; double *out; } lossc_rk_finish_job\(f);

        static inline void lossc_rk_finish_chunk\(f)(void *job_, int64_t c)
        {
            const lossc_rk_finish_job\(f) *j = (const lossc_rk_finish_job\(f) *)job_;
            const lossc_rk_set\(f) *const S = j->S;
            const int64_t first = c * LOSSC_RK_CHUNK, end = S->m - first < LOSSC_RK_CHUNK ? S->m : first + LOSSC_RK_CHUNK;
            const int64_t stride = 3 * (int64_t)j->nw;
            int64_t k;
            int i;
            if (j->nw == 1) { /* the common case (AP-Loss), without the loop over factors */
                const \(T) *const w = j->w[0];
                for (k = first; k < end; k++) {
                    const double *const d = j->diff + 3 * (int64_t)S->bucket[k];
                    const double v = (double)S->scores[k], x = d[0] + v * (d[1] + v * d[2]);
                    j->out[S->entries[k]] += w ? (double)w[k] * x : x;
                }
                return;
            }
            for (k = first; k < end; k++) {
                const double *const d = j->diff + stride * (int64_t)S->bucket[k];
                const double v = (double)S->scores[k];
                double acc = j->out[S->entries[k]];
                for (i = 0; i < j->nw; i++) {
                    const double x = d[3 * i] + v * (d[3 * i + 1] + v * d[3 * i + 2]);
                    acc += j->w[i] ? (double)j->w[i][k] * x : x;
                }
                j->out[S->entries[k]] = acc;
            }
        }

        /* The running sums over buckets (in place: bucket b's become 0 + the sum of buckets
           0..b, added in bucket order), then the members chunk by chunk (each writes its own
           entries). */
        static inline void lossc_rk_diff_finish\(f)(const lossc_rk_set\(f) *S, double *diff, int nw, const \(T) *const *w, double *out)
        {
            lossc_rk_finish_job\(f) job;
            const int64_t stride = 3 * (int64_t)nw;
            int64_t b, i;
            for (i = 0; i < stride; i++) diff[i] = 0.0 + diff[i];
            for (b = 1; b <= S->nt; b++) {
                double *const d = diff + stride * b;
                for (i = 0; i < stride; i++) d[i] = d[i - stride] + d[i];
            }
            job.S = S; job.diff = diff; job.w = w; job.nw = nw; job.out = out;
            lossc_rk_parallel((S->m + LOSSC_RK_CHUNK - 1) / LOSSC_RK_CHUNK, lossc_rk_finish_chunk\(f), &job, S->threads);
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
