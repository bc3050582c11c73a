/// The C text every emitted `.c` file starts with: the branch-free math of `lossc_math.h`
/// (embedded verbatim, see `CMathText.swift`), and the emitter's helpers: one function per
/// operator-table `helper` spelling, vectorizable wrappers for the libm functions that have a
/// branch-free version, a vectorizable `pow`, and the lane-explicit reductions.
///
/// All helpers are `static inline` (forced inline under GCC and clang: `LOSSC_INLINE`), so
/// unused ones cost nothing and draw no warning, and two emitted files linked together do not
/// clash.
public enum CPrelude {
    /// libm functions (operator-table `libm` spellings) that the emitted code computes with a
    /// branch-free helper `lossc_NAME_f` / `lossc_NAME_d` instead of the C library.
    static let vectorizedMath: Set<String> = ["exp", "log", "log1p", "expm1", "tanh", "pow"]

    /// Elements per block of the element loop (and class chunk of the class passes): the
    /// per-element loss of a block lands in a stack buffer when the caller passes no `loss`.
    public static let block = 256
    /// multiclass rows of at most this many classes run from stack buffers (8 KiB each in
    /// float), which lets `exp(a_k - max)` be computed once per class; longer rows stream.
    public static let row = 2048
    /// Lanes of the explicit reductions: lane l sums elements l, l + 16, l + 32, … and the
    /// lanes are added pairwise at the end, an order fixed by the code (not by the compiler),
    /// which is what lets the reduction vectorize without -ffast-math. 16 lanes are one
    /// AVX-512 or two AVX2 registers of floats: two independent dependency chains on AVX2 and
    /// half the chain length of 8 lanes, which matters for short rows (81 classes).
    public static let lanes = 16

    /// The whole prelude: includes, `lossc_math.h`, helpers for both precisions.
    public static var text: String {
        var s = "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <stdlib.h>\n\n"
        // The prelude is a header pasted in so the .c stands alone; clang, unlike gcc, warns
        // about unused static inline functions outside headers, so say it is one (scoped).
        s += "#if defined(__clang__)\n#pragma clang diagnostic push\n#pragma clang diagnostic ignored \"-Wunused-function\"\n#endif\n\n"
        s += "/* ==== lossc_math.h (branch-free exp/log/log1p/expm1/tanh/sigmoid/softplus), verbatim ==== */\n"
        s += mathHeader + "\n"
        s += "/* ==== lossc emitter helpers ==== */\n\n"
        s += "#define LOSSC_BLOCK \(block)\n#define LOSSC_ROW \(row)\n#define LOSSC_GROUP_ROW \(CKernelWriter.groupRowClasses)\n\n"
        // The 16-iteration lane loops must be unrolled before vectorizing: left as loops,
        // clang vectorizes them with an interleave that needs 64 iterations and falls back to
        // scalar code. _Pragma is C99; each compiler gets only the pragma it knows.
        s += "#if defined(__clang__)\n#define LOSSC_UNROLL _Pragma(\"clang loop unroll(full)\")\n"
        s += "#elif defined(__GNUC__)\n#define LOSSC_UNROLL _Pragma(\"GCC unroll 16\")\n#else\n#define LOSSC_UNROLL\n#endif\n\n"
        s += "#ifndef LOSSC_RESTRICT\n#define LOSSC_RESTRICT restrict\n#endif\n\n"
        // The helpers must be inlined everywhere (as lossc_math.h's functions are): once a file
        // held the four-row group functions of every version and ISA, gcc's unit-growth limit
        // left 57 calls to the lane helpers in each group function, and grouped cross-entropy
        // ran 15% slower than with them inlined.
        s += "#if defined(__GNUC__)\n#define LOSSC_INLINE static inline __attribute__((always_inline))\n"
        s += "#else\n#define LOSSC_INLINE static inline\n#endif\n\n"
        for p in CPrecision.allCases { s += select(p) }
        for p in CPrecision.allCases { s += helpers(p) }
        s += """
        LOSSC_INLINE double lossc_lanes_total(const double acc[16])
        {
            return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))
                 + (((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15])));
        }

        #if defined(__clang__)
        #pragma clang diagnostic pop
        #endif


        """
        return s
    }

    /// The helpers of one precision (`_f` float, `_d` double).
    /// `lossc_sel_f` / `lossc_sel_d`: c ? a : b as a bit select.
    static func select(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        let bits = p == .f32 ? "uint32_t" : "uint64_t"
        return """
        /* c ? a : b without a branch (gcc keeps a float ?: as a branch and then will not
           vectorize the loop; a bit select becomes compare + blend in every compiler). */
        LOSSC_INLINE \(T) lossc_sel\(f)(int c, \(T) a, \(T) b)
        {
            \(bits) ua, ub, m = (\(bits))0 - (\(bits))c;
            \(T) r;
            memcpy(&ua, &a, sizeof ua);
            memcpy(&ub, &b, sizeof ub);
            ua = (ua & m) | (ub & ~m);
            memcpy(&r, &ua, sizeof r);
            return r;
        }

        """
    }

    static func helpers(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix, m = p == .f32 ? "f" : ""
        func lit(_ v: Double) -> String { CLiteral.c(v, p) }
        var s = "/* -- \(T) -- */\n"
        for fn in ["exp", "log", "log1p", "expm1", "tanh", "sigmoid", "softplus"] {
            s += "LOSSC_INLINE \(T) lossc_\(fn)\(f)(\(T) a) { return lossc_\(fn)\(m)(a); }\n"
        }
        let zero = lit(0), one = lit(1), two = lit(2)
        let sqrt = "sqrt" + m, fabs = "fabs" + m
        s += """
        LOSSC_INLINE \(T) lossc_relu\(f)(\(T) a) { return lossc_sel\(f)(a > \(zero), a, lossc_sel\(f)(a != a, a, \(zero))); }
        LOSSC_INLINE \(T) lossc_min\(f)(\(T) a, \(T) b) { return lossc_sel\(f)(b < a, b, a); }
        LOSSC_INLINE \(T) lossc_max\(f)(\(T) a, \(T) b) { return lossc_sel\(f)(b > a, b, a); }
        LOSSC_INLINE \(T) lossc_select\(f)(\(T) c, \(T) a, \(T) b) { return lossc_sel\(f)(c > \(zero), a, b); }
        LOSSC_INLINE \(T) lossc_step\(f)(\(T) a) { return lossc_sel\(f)(a > \(zero), \(one), \(zero)); }
        LOSSC_INLINE \(T) lossc_sign\(f)(\(T) a)
        {
            return lossc_sel\(f)(a > \(zero), \(one), lossc_sel\(f)(a < \(zero), \(lit(-1)), a));
        }
        /* (gud(pi a/4) 2/pi + 1)/2 = (2/pi) atan(e^(pi a/4)): no cancellation in the negative tail */
        LOSSC_INLINE \(T) lossc_scaled_gd\(f)(\(T) a)
        {
            return \(lit(2 / Double.pi)) * atan\(m)(lossc_exp\(m)(\(lit(Double.pi / 4)) * a));
        }
        /* (h/s + 1)/2 with h = a/2, s = sqrt(1+h^2) (as |h| sqrt(1+1/h^2) for |h| > 1, finite up to
           infinite h); for h < 0 the sum cancels, and equals 1/(2 s (s - h)) since (s+h)(s-h) = 1 */
        LOSSC_INLINE \(T) lossc_scaled_alf\(f)(\(T) a)
        {
            const \(T) h = a / \(two);
            const \(T) ah = \(fabs)(h);
            const \(T) r = \(sqrt)(\(one) + \(one) / (h * h));
            const \(T) s = lossc_sel\(f)(ah > \(one), ah * r, \(sqrt)(\(one) + h * h));
            const \(T) neg = \(one) / (\(two) * s * (s - h));
            const \(T) pos = lossc_sel\(f)(ah > \(one), (\(one) / r + \(one)) / \(two), (h / s + \(one)) / \(two));
            return lossc_sel\(f)(h < \(zero), neg, pos);
        }
        /* (1 + erf(sqrt(pi) a/4))/2 as erfc(-sqrt(pi) a/4)/2: no cancellation for a << 0 */
        LOSSC_INLINE \(T) lossc_scaled_erf\(f)(\(T) a) { return erfc\(m)(\(lit(-Double.pi.squareRoot() / 4)) * a) / \(two); }
        LOSSC_INLINE \(T) lossc_scaled_erfc\(f)(\(T) a) { return erfc\(m)(\(lit(Double.pi.squareRoot() / 4)) * a) / \(two); }

        """
        s += powHelper(p)
        s += lanes(p)
        return s
    }

    /// pow(a, b) with C99's special cases, branch-free: exp(b log|a|) in double (so the float
    /// version is correctly rounded but for rare double roundings; the double version is within
    /// about 2|b log a| + 3 ulps, the rounding of b log a magnified by exp), then the sign for a negative base and an odd integer b, NaN for
    /// a finite negative base and a non-integer b, and 1 for b = 0, a = 1, and a = -1 with b = ±inf.
    static func powHelper(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        return """
        LOSSC_INLINE \(T) lossc_pow\(f)(\(T) a, \(T) b)
        {
            const double da = (double)a, db = (double)b;
            const double bb = fabs(db);
            const double r0 = lossc_exp(db * lossc_log(fabs(da)));
            /* integer and odd tests by rounding through 2^52 (every |b| >= 2^52 is an integer, even from 2^53) */
            const double rb = (bb + 0x1p52) - 0x1p52, hb = bb * 0.5, rh = (hb + 0x1p52) - 0x1p52;
            const int isint = (bb >= 0x1p52) | (rb == bb);
            const int odd = isint & (bb < 0x1p53) & (rh != hb);
            double r = lossc_sel_d((signbit(a) != 0) & odd, -r0, r0);
            r = lossc_sel_d((a < 0) & (a > -INFINITY) & !isint, (double)NAN, r);
            r = lossc_sel_d((a == 1) | (b == 0) | ((a == -1) & (bb == (double)INFINITY)), 1.0, r);
            return (\(T))r;
        }

        """
    }

    /// Lane-explicit reductions over a block: acc[l] takes elements l, l + 16, l + 32, …
    static func lanes(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        return """
        LOSSC_INLINE void lossc_lanes_add\(f)(\(T) acc[16], const \(T) *LOSSC_RESTRICT v, size_t m)
        {
            size_t j = 0, l;
            for (; j + 16 <= m; j += 16) {
                LOSSC_UNROLL
                for (l = 0; l < 16; l++) acc[l] += v[j + l];
            }
            for (l = 0; j + l < m; l++) acc[l] += v[j + l];
        }
        /* The same over a buffer the caller just filled: a non-const pointer, because gcc warns
           (-Wmaybe-uninitialized) when it cannot see that a stack array passed as const T * was
           written by the loop before the call. */
        LOSSC_INLINE void lossc_lanes_addb\(f)(\(T) acc[16], \(T) *LOSSC_RESTRICT v, size_t m)
        {
            size_t j = 0, l;
            for (; j + 16 <= m; j += 16) {
                LOSSC_UNROLL
                for (l = 0; l < 16; l++) acc[l] += v[j + l];
            }
            for (l = 0; j + l < m; l++) acc[l] += v[j + l];
        }
        /* A plain ?: here, not lossc_sel: both arms are loaded values (nothing for gcc to sink
           into a branch), and gcc vectorizes the unrolled lanes of a ?: but not of the bit
           select (it kept them scalar: cross-entropy rows ran 1.4x slower than clang's). */
        LOSSC_INLINE void lossc_lanes_max\(f)(\(T) acc[16], const \(T) *LOSSC_RESTRICT v, size_t m)
        {
            size_t j = 0, l;
            for (; j + 16 <= m; j += 16) {
                LOSSC_UNROLL
                for (l = 0; l < 16; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
            }
            for (l = 0; j + l < m; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
        }
        LOSSC_INLINE void lossc_lanes_addd\(f)(double acc[16], const \(T) *LOSSC_RESTRICT v, size_t m)
        {
            size_t j = 0, l;
            for (; j + 16 <= m; j += 16) {
                LOSSC_UNROLL
                for (l = 0; l < 16; l++) acc[l] += (double)v[j + l];
            }
            for (l = 0; j + l < m; l++) acc[l] += (double)v[j + l];
        }
        LOSSC_INLINE void lossc_lanes_maxb\(f)(\(T) acc[16], \(T) *LOSSC_RESTRICT v, size_t m)
        {
            size_t j = 0, l;
            for (; j + 16 <= m; j += 16) {
                LOSSC_UNROLL
                for (l = 0; l < 16; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
            }
            for (l = 0; j + l < m; l++) acc[l] = v[j + l] > acc[l] ? v[j + l] : acc[l];
        }
        LOSSC_INLINE \(T) lossc_lanes_total\(f)(const \(T) acc[16])
        {
            return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])))
                 + (((acc[8] + acc[9]) + (acc[10] + acc[11])) + ((acc[12] + acc[13]) + (acc[14] + acc[15])));
        }
        /* The max of the lanes (NaN never wins, as in the reference), 0 if it is not finite. */
        LOSSC_INLINE \(T) lossc_lanes_maxof\(f)(const \(T) acc[16])
        {
            \(T) r = acc[0];
            int l;
            for (l = 1; l < 16; l++) r = acc[l] > r ? acc[l] : r;
            return isfinite(r) ? r : \(CLiteral.c(0, p));
        }


        """
    }
}
