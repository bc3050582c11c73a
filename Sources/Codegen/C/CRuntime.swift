/// An instruction-set path of the emitted C: the per-sample code is written once per path,
/// each copy compiled for its ISA by a GCC/clang `target` attribute, and the path is chosen
/// once, at the first call, from what the CPU supports (`__builtin_cpu_supports`).
///
/// This table is the only place the paths are listed: the prelude's attribute macros, the CPU
/// check, the `LOSSC_ISA` names and the copies `CKernelWriter` writes all read it.
public struct CISA: Sendable, Equatable {
    /// The level `NAME_set_isa` takes and returns (0 is the baseline).
    public let level: Int
    /// The name `LOSSC_ISA` accepts and `lossc` prints.
    public let name: String
    /// Appended to the names of a copy's functions ("" for the baseline).
    let suffix: String
    /// The features of the `target` attribute, also checked at run time (all must be there).
    let features: [String]

    /// The macro that expands to the copy's `target` attribute.
    var macro: String { "LOSSC_TARGET_\(name.uppercased())" }
    /// What goes between `static` and the return type of a copy's function.
    var attribute: String { features.isEmpty ? "" : macro + " " }

    /// The baseline: whatever the build flags select (x86-64 SSE2 by default).
    public static let baseline = CISA(level: 0, name: "baseline", suffix: "", features: [])
    /// AVX2 and FMA (x86-64-v3 without the BMI extras).
    public static let avx2 = CISA(level: 1, name: "avx2", suffix: "_avx2", features: ["avx2", "fma"])
    /// AVX-512 F, DQ, BW, VL (x86-64-v4).
    public static let avx512 = CISA(level: 2, name: "avx512", suffix: "_avx512",
                                    features: ["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"])
    /// Every path, baseline first.
    public static let all = [baseline, avx2, avx512]
    /// The paths that exist only where `LOSSC_X86` is defined.
    static var extra: [CISA] { all.filter { !$0.features.isEmpty } }
}

/// The run-time part of the prelude: the ISA choice (`lossc_isa`), the thread count, and
/// `lossc_run`, which cuts the samples into fixed chunks, runs them on up to that many POSIX
/// threads and adds the chunk sums in chunk order, so the sum has the same bits whatever the
/// thread count (the chunks depend on n only).
enum CRuntime {
    /// Smallest chunk, in scalars (samples × row width): large enough that starting a thread
    /// (tens of microseconds) is worth it.
    static let chunk = 32768
    /// Most chunks per call (their sums live in a stack array).
    static let maxChunks = 1024

    static var text: String {
        var s = "/* ==== lossc runtime: ISA paths and threads ==== */\n\n"
        s += "#define LOSSC_CHUNK \(chunk)\n#define LOSSC_MAX_CHUNKS \(maxChunks)\n\n"
        s += isaText + threadText
        return s
    }

    /// `LOSSC_X86` and the attribute macros where the compiler has `target` attributes and
    /// `__builtin_cpu_supports` (GCC 6+, clang); elsewhere only the baseline path exists.
    static var isaText: String {
        // (lossc_isa() == 2 ? name##_avx512 : lossc_isa() == 1 ? name##_avx2 : name)
        let pick = "(" + CISA.extra.reversed().map { "lossc_isa() == \($0.level) ? name##\($0.suffix) : " }.joined() + "name)"
        var s = """
        /* Per-ISA copies on x86 with GCC or clang (define LOSSC_NO_MULTIVERSION to build the
           baseline only). FMA contraction is off in every copy (the pragma for clang; gcc does
           not contract in ISO C mode, -std=c99, which lossc builds use), so the copies compute
           the same bits as the baseline. Defining LOSSC_FMA (lossc build --fma, with
           -ffp-contract=fast) drops the pragma: the AVX2 and AVX-512 copies then fuse a*b+c,
           run faster, and differ from the baseline in the last bits. */
        #if !defined(LOSSC_NO_MULTIVERSION) && (defined(__x86_64__) || defined(__i386__)) \\
            && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 6))
        #define LOSSC_X86 1
        #include <stdlib.h>

        """
        for isa in CISA.extra {
            s += "#define \(isa.macro) __attribute__((target(\"\(isa.features.joined(separator: ","))\")))\n"
        }
        s += "#endif\n#if defined(__clang__) && !defined(LOSSC_FMA)\n#pragma STDC FP_CONTRACT OFF\n#endif\n\n"
        s += "#if defined(LOSSC_X86)\n/* the level in use: -1 until the first call decides */\nstatic int lossc_isa_level = -1;\n"
        s += "static int lossc_isa_best(void)\n{\n    int best = 0;\n    __builtin_cpu_init();\n"
        for isa in CISA.extra {
            let tests = isa.features.map { "__builtin_cpu_supports(\"\($0)\")" }.joined(separator: " && ")
            s += "    if (\(tests)) best = \(isa.level);\n"
        }
        s += "    return best;\n}\n"
        s += """
        /* level (-1: the best the CPU has), capped at what the CPU has */
        static int lossc_isa_set(int level)
        {
            const int best = lossc_isa_best();
            const int l = level < 0 || level > best ? best : level;
            __atomic_store_n(&lossc_isa_level, l, __ATOMIC_RELAXED);
            return l;
        }
        /* The level for this call: decided once, from the CPU and $LOSSC_ISA (a path name). */
        static int lossc_isa(void)
        {
            int l = __atomic_load_n(&lossc_isa_level, __ATOMIC_RELAXED);
            if (l < 0) {
                const char *want = getenv("LOSSC_ISA");
                l = -1;

        """
        for isa in CISA.all { s += "        if (want && strcmp(want, \"\(isa.name)\") == 0) l = \(isa.level);\n" }
        s += """
                l = lossc_isa_set(l);
            }
            return l;
        }
        #define LOSSC_PICK(name) \(pick)
        #else
        static int lossc_isa_set(int level) { (void)level; return 0; }
        #define LOSSC_PICK(name) (name)
        #endif


        """
        return s
    }

    /// The C that runs `runner(&parts[t])` for t in [0, used): on the pool's workers
    /// (`CThreadPool`, names starting with `pool`) when `threadsMacro` is defined, the calling
    /// thread taking part 0; when the pool cannot serve the call (another caller has it, or no
    /// pool on this compiler), on threads started for this call, the caller taking any part
    /// whose thread could not start. Shared by the per-sample `lossc_run` and the ranking
    /// `lossc_rk_parallel`.
    static func runParts(threadsMacro: String, runner: String, pool: String) -> String {
        """
        #if defined(\(threadsMacro))
            if (used > 1) {
                if (!\(pool)_pool_run(\(runner), parts, sizeof parts[0], (size_t)used)) {
                    pthread_t ids[64];
                    int started[64];
                    for (t = 1; t < used; t++) started[t] = pthread_create(&ids[t], NULL, \(runner), &parts[t]) == 0;
                    \(runner)(&parts[0]);
                    for (t = 1; t < used; t++) {
                        if (started[t]) pthread_join(ids[t], NULL);
                        else \(runner)(&parts[t]);
                    }
                }
            } else
        #endif
            for (t = 0; t < used; t++) \(runner)(&parts[t]);
        """
    }

    static var threadText: String {
        """
        /* POSIX threads where the system has them (define LOSSC_NO_THREADS to run on one). */
        #if !defined(LOSSC_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
        #define LOSSC_THREADS 1
        #include <pthread.h>
        #include <unistd.h>
        #endif

        /* The sum of one chunk: samples [b, e) of a job. */
        typedef double (*lossc_chunk_fn)(const void *job, size_t b, size_t e);

        /* One thread's share: with GCC/clang atomics, chunks are taken from a shared counter (a
           thread the OS delays takes fewer; each sum still lands at its chunk's index); else the
           fixed range [first, last). */
        struct lossc_part {
            lossc_chunk_fn fn;
            const void *job;
            size_t units, chunk, first, last;
            size_t *next;
            double *sums;
        };

        static void *lossc_part_run(void *arg)
        {
            const struct lossc_part *p = (const struct lossc_part *)arg;
            size_t c;
        #if defined(__GNUC__)
            const size_t count = (p->units + p->chunk - 1) / p->chunk;
            while ((c = __atomic_fetch_add(p->next, 1, __ATOMIC_RELAXED)) < count) {
        #else
            for (c = p->first; c < p->last; c++) {
        #endif
                const size_t b = c * p->chunk;
                p->sums[c] = p->fn(p->job, b, p->units - b < p->chunk ? p->units : b + p->chunk);
            }
            return NULL;
        }

        \(CThreadPool.text(prefix: "lossc", threadsMacro: "LOSSC_THREADS"))/* Threads for `threads` (0: every online core), at least 1. */
        static size_t lossc_thread_count(int threads)
        {
        #if defined(LOSSC_THREADS) && defined(_SC_NPROCESSORS_ONLN)
            if (threads == 0) {
                const long cores = sysconf(_SC_NPROCESSORS_ONLN);
                return cores > 0 ? (size_t)cores : 1;
            }
        #endif
            return threads > 0 ? (size_t)threads : 1;
        }

        /* Runs fn over `units` samples of `width` scalars each in fixed chunks (a multiple of
           LOSSC_BLOCK samples, depending on units and width only) on up to `threads` threads,
           and adds the chunk sums in chunk order: the same bits for every thread count. A
           thread that cannot be started leaves its chunks to the calling thread. */
        static double lossc_run(size_t units, size_t width, lossc_chunk_fn fn, const void *job, int threads)
        {
            double sums[LOSSC_MAX_CHUNKS];
            struct lossc_part parts[64];
            size_t chunk = LOSSC_CHUNK / (width ? width : 1), least = units / LOSSC_MAX_CHUNKS + 1;
            size_t count, t, used, c, next = 0;
            double total = 0.0;
            if (units == 0) return 0.0;
            chunk = chunk > least ? chunk : least;
            chunk = (chunk + LOSSC_BLOCK - 1) / LOSSC_BLOCK * LOSSC_BLOCK;
            count = (units + chunk - 1) / chunk;
            used = lossc_thread_count(threads);
            used = used < count ? used : count;
            used = used < 64 ? used : 64;
            for (t = 0; t < used; t++) {
                parts[t].fn = fn;
                parts[t].job = job;
                parts[t].units = units;
                parts[t].chunk = chunk;
                parts[t].first = count * t / used;
                parts[t].last = count * (t + 1) / used;
                parts[t].next = &next;
                parts[t].sums = sums;
            }
        \(runParts(threadsMacro: "LOSSC_THREADS", runner: "lossc_part_run", pool: "lossc"))
            for (c = 0; c < count; c++) total += sums[c];
            return total;
        }


        """
    }
}
