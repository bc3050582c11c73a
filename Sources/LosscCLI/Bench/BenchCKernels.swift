import Codegen
import Foundation
import LossDSL

/// `lossc bench c`: emitted C kernels against hand-written C loops of the same losses (focal,
/// BCE, softmax cross-entropy with C = 81, GIoU), float32, value + gradient + per-element
/// loss, built into one executable with the same compiler and flags and timed in the same
/// process, interleaved, best of N. Prints ns/element and the ratio emitted / hand-written.
enum BenchCKernels {
    static let options = [
        OptionSpec(name: "cc", value: "PATH", help: "C compiler (default: the one lossc build uses: $CC, else cc, gcc or clang)."),
        OptionSpec(name: "flags", value: "\"FLAGS\"", help: "Compiler flags (default -O3 -fno-math-errno -march=native, plus -fveclib=libmvec for clang)."),
        OptionSpec(name: "keep", value: "DIR", help: "Keep the generated bench.c and executable in DIR."),
        OptionSpec(name: "only", value: "LOSS", help: "Run one loss: focal, bce, ce or giou."),
    ]

    /// The four losses, as in examples/ (focal, bce, cross_entropy, giou).
    static let losses: [(name: String, text: String)] = [
        ("focal", """
        loss focal: binary
        param alpha = 0.25
        param gamma = 2
        let p = sigmoid(x)
        return y * (-alpha * (1 - p)^gamma * log(p)) + (1 - y) * (-(1 - alpha) * p^gamma * log(1 - p))
        """),
        ("bce", "loss bce: binary\nlet p = sigmoid(x)\nreturn -(y * log(p) + (1 - y) * log(1 - p))\n"),
        ("ce", "loss ce: multiclass\nreturn -dot(y, log(softmax(x)))\n"),
        ("giou", "loss giou: box\nreturn 1 - (i / u - (e - u) / e)\n"),
    ]

    static func run(_ a: Arguments) throws -> ExitStatus {
        let env = ProcessInfo.processInfo.environment
        let cc: SystemCompiler
        if let path = a.value("cc") {
            guard let c = SystemCompiler.named(path) else { throw UsageError("--cc: '\(path)' not found") }
            cc = c
        } else if let c = (env["CC"].flatMap { SystemCompiler.named($0) }) ?? SystemCompiler.find() {
            cc = c
        } else {
            throw UsageError("no C compiler found", hint: "install gcc or clang, or pass --cc PATH")
        }
        // libmvec gives the libm baseline clang's vector expf/logf (the fairest libm loop there is).
        let isClang = cc.version.contains("clang")
        let defaultFlags = "-O3 -fno-math-errno -march=native" + (isClang ? " -fveclib=libmvec" : "")
        let flags = (a.value("flags") ?? defaultFlags).split(separator: " ").map(String.init)
        guard flags.allSatisfy({ $0.hasPrefix("-") }) else { throw UsageError("--flags: every flag must start with '-'") }
        guard let n = Int(a.value("elements") ?? "4194304"), n >= 81 else { throw UsageError("--elements must be an integer >= 81") }
        guard let reps = Int(a.value("repeat") ?? "25"), reps >= 1 else { throw UsageError("--repeat must be a positive integer") }

        var bundle: [(loss: CompiledLoss, name: String)] = []
        for (name, text) in losses {
            bundle.append((CompiledLoss.compile(try Formula.parse(text, path: "<bench \(name)>")), "emitted_" + name))
        }
        let source = "#define _POSIX_C_SOURCE 200809L\n#include <time.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
            + CEmitter.bundle(bundle, precisions: [.f32]) + BenchCBaselines.source + driver(n: n, reps: reps)

        let dir: URL
        if let keep = a.value("keep") {
            dir = URL(fileURLWithPath: keep)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } else {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-bench-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        defer { if a.value("keep") == nil { try? FileManager.default.removeItem(at: dir) } }
        let c = dir.appendingPathComponent("bench.c").path, exe = dir.appendingPathComponent("bench").path
        try writeOutput(c, source)
        Terminal.write("compiler: \(cc.version)\nflags:    \(flags.joined(separator: " "))\n")
        Terminal.flush()
        let build = cc.run(flags + ["-std=c99", c, "-o", exe, "-lm"])
        guard build.succeeded else {
            Terminal.error("lossc bench c: error: the compiler failed:\n\(build.text.prefix(3000))\n")
            return .badInput
        }
        Terminal.write("elements: \(n) (cross-entropy: \(n / 81) rows x 81 classes), float32, value + gradient + per-element loss, best of \(reps)\n\n")
        Terminal.flush()
        if let only = a.value("only"), !["focal", "bce", "ce", "giou"].contains(only) {
            throw UsageError("--only: unknown loss '\(only)'", hint: "one of focal, bce, ce, giou")
        }
        let out = SystemCompiler(path: exe).run(a.value("only").map { [$0] } ?? [])
        guard out.succeeded else { Terminal.error("lossc bench c: error: the benchmark failed:\n\(out.text)\n"); return .badInput }
        Terminal.write(report(out.text))
        return .success
    }

    /// Turns the driver's `name emitted vec libm maxdiff` lines into the table.
    static func report(_ text: String) -> String {
        var s = "            ns/element                           emitted / hand-written\n"
        s += "loss        emitted  hand(lossc_math)  hand(libm)    vs lossc_math  vs libm   max difference\n"
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 5, let e = Double(f[1]), let v = Double(f[2]), let l = Double(f[3]), let d = Double(f[4]) else {
                s += String(line) + "\n"; continue
            }
            s += String(f[0]).padded(12) + String(format: "%.3f", e).padded(9) + String(format: "%.3f", v).padded(18)
                + String(format: "%.3f", l).padded(14) + String(format: "%.2fx", e / v).padded(15)
                + String(format: "%.2fx", e / l).padded(10) + String(format: "%.1e", d) + "\n"
        }
        s += "\nmax difference: largest |emitted - hand(lossc_math)| / (|hand| + 1) over losses and gradients.\n"
        return s
    }

    /// main(): data, interleaved timing, and the largest relative difference between the two.
    static func driver(n: Int, reps: Int) -> String {
        """

        /* ==== benchmark driver ==== */
        static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
        static unsigned long long rs = 0x9E3779B97F4A7C15ULL;
        static float uni(float lo, float hi) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return lo + (hi - lo) * (float)((rs >> 40) * 0x1p-24); }
        static float *alloc(size_t n) { float *p = malloc(n * sizeof(float)); if (!p) { puts("out of memory"); exit(1); } return p; }
        static double maxrel(const float *a, const float *b, size_t n)
        {
            double m = 0; size_t i;
            for (i = 0; i < n; i++) { double d = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + 1.0); if (d > m) m = d; }
            return m;
        }
        #define TIME(best, call) do { double t0 = now(); (void)(call); double t = now() - t0; if (t < best) best = t; } while (0)

        static const char *only = NULL;
        static int want(const char *name) { return !only || strcmp(only, name) == 0; }

        int main(int argc, char **argv)
        {
            const size_t n = \(n), C = 81, rows = n / 81, reps = \(reps);
            if (argc > 1) only = argv[1];
            size_t i, r;
            float *x = alloc(n), *y = alloc(n), *w = alloc(n), *l1 = alloc(n), *l2 = alloc(n), *g1 = alloc(4 * n), *g2 = alloc(4 * n);
            float *pb = alloc(4 * n), *tb = alloc(4 * n), *cy = alloc(rows * C);
            for (i = 0; i < n; i++) { x[i] = uni(-8, 8); y[i] = uni(0, 1) < 0.1f; w[i] = uni(0, 1); }
            for (i = 0; i < n; i++) {
                float a = uni(0, 500), b = uni(0, 500);
                pb[4 * i] = a; pb[4 * i + 1] = b; pb[4 * i + 2] = a + uni(1, 300); pb[4 * i + 3] = b + uni(1, 300);
                tb[4 * i] = a + uni(-40, 40); tb[4 * i + 1] = b + uni(-40, 40);
                tb[4 * i + 2] = tb[4 * i] + uni(1, 300); tb[4 * i + 3] = tb[4 * i + 1] + uni(1, 300);
            }
            for (i = 0; i < rows * C; i++) cy[i] = 0;
            for (r = 0; r < rows; r++) cy[r * C + (size_t)uni(0, 80.99f)] = 1;
            {
                double be = 1e30, bv = 1e30, bl = 1e30;
                for (r = 0; r <= reps && want("focal"); r++) {
                    TIME(bl, hand_libm_focal(n, x, y, 0.25f, l2, g2));
                    TIME(bv, hand_vec_focal(n, x, y, 0.25f, l2, g2));
                    TIME(be, emitted_focal_f32(n, x, y, w, NULL, l1, g1));
                }
                if (want("focal")) printf("focal %.4f %.4f %.4f %.2e\\n", 1e9 * be / n, 1e9 * bv / n, 1e9 * bl / n, fmax(maxrel(l1, l2, n), maxrel(g1, g2, n)));
                be = bv = bl = 1e30;
                for (r = 0; r <= reps && want("bce"); r++) {
                    TIME(bl, hand_libm_bce(n, x, y, l2, g2));
                    TIME(bv, hand_vec_bce(n, x, y, l2, g2));
                    TIME(be, emitted_bce_f32(n, x, y, w, NULL, l1, g1));
                }
                if (want("bce")) printf("bce %.4f %.4f %.4f %.2e\\n", 1e9 * be / n, 1e9 * bv / n, 1e9 * bl / n, fmax(maxrel(l1, l2, n), maxrel(g1, g2, n)));
                be = bv = bl = 1e30;
                for (r = 0; r <= reps && want("ce"); r++) {
                    TIME(bl, hand_libm_ce(rows, C, x, cy, l2, g2));
                    TIME(bv, hand_vec_ce(rows, C, x, cy, l2, g2));
                    TIME(be, emitted_ce_f32(rows, C, x, cy, w, NULL, l1, g1));
                }
                if (want("ce")) printf("ce(C=81) %.4f %.4f %.4f %.2e\\n", 1e9 * be / (rows * C), 1e9 * bv / (rows * C), 1e9 * bl / (rows * C),
                       fmax(maxrel(l1, l2, rows), maxrel(g1, g2, rows * C)));
                be = bv = bl = 1e30;
                for (r = 0; r <= reps && want("giou"); r++) {
                    TIME(bl, hand_libm_giou(n, pb, tb, l2, g2));
                    TIME(bv, hand_vec_giou(n, pb, tb, l2, g2));
                    TIME(be, emitted_giou_f32(n, pb, tb, NULL, l1, g1));
                }
                if (want("giou")) printf("giou %.4f %.4f %.4f %.2e\\n", 1e9 * be / n, 1e9 * bv / n, 1e9 * bl / n, fmax(maxrel(l1, l2, n), maxrel(g1, g2, 4 * n)));
            }
            return 0;
        }

        """
    }
}
