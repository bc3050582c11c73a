import Foundation
import Testing
@testable import Codegen
import LossDSL

/// Emitted C compiles warning-free under gcc and clang with `-Wall -Wextra -Werror -std=c99
/// -pedantic`, the header is also valid C++, and the kernels run clean under
/// `-fsanitize=address,undefined` (every example and random formulas, odd sizes, NULL outputs).
@Suite(.serialized) struct CStrictTests {
    /// The examples and 30 random formulas of each kind (fresh ones when LOSSC_BACKEND_SEED is set,
    /// as in CI), with distinct names.
    static let losses: [(loss: CompiledLoss, name: String)] = {
        var all = EmittedExampleTests.examples.map { ($0.loss, "ex_" + $0.name) }
        for (k, kind) in [LossKind.binary, .multiclass, .box].enumerated() {
            var rng = SeededGenerator(seed: RunSeed.value &* 1_000_003 &+ 77 + UInt64(k))
            let spec = RandomFormula(kind: kind, maxDepth: 7, maxNodes: 30)
            for i in 0..<30 { all.append((CompiledLoss.compile(spec.next(using: &rng)), "rnd_\(kind.rawValue)_\(i)")) }
        }
        return all
    }()

    @Test(arguments: ["gcc", "clang"])
    func warningFree(_ name: String) throws {
        guard let cc = SystemCompiler.named(name) else { return CHarness.skip("\(name) not on PATH") }
        let dir = try CHarness.temporaryDirectory("strict-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = dir.appendingPathComponent("bundle.c").path
        try CEmitter.bundle(Self.losses).write(toFile: c, atomically: true, encoding: .utf8)
        for opt in ["-O0", "-O3"] {
            let out = cc.run([opt, "-fno-math-errno"] + CHarness.strictFlags + ["-c", c, "-o", dir.appendingPathComponent("b.o").path])
            #expect(out.succeeded && out.text.isEmpty, "\(name) \(opt):\n\(out.text.prefix(3000))")
        }
        // Every math function and helper is inlined, even in a file this large (gcc's
        // unit-growth limit once left lossc_expf a call in a kernel loop): no body of one is
        // left in the -O3 object. The names come from the prelude's own definitions.
        let helpers = Set(CPrelude.text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("LOSSC_MATH_INLINE ") || line.hasPrefix("LOSSC_INLINE ") else { return nil }
            return line.split(separator: "(").first?.split(separator: " ").last.map(String.init)
        })
        #expect(helpers.count > 40 && helpers.contains("lossc_expf") && helpers.contains("lossc_lanes_add_f"), "\(helpers.sorted())")
        if let nm = SystemCompiler.named("nm") {
            let symbols = nm.run([dir.appendingPathComponent("b.o").path])
            let left = Set(symbols.text.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }).intersection(helpers)
            #expect(symbols.succeeded && left.isEmpty, "\(name) -O3 left these helpers out of line: \(left.sorted())")
        }
        // A single emitted pair: the .c alone, and the .h included by C and by C++.
        let focal = try #require(EmittedExampleTests.examples.first { $0.name == "focal" }).loss
        let pair = CEmitter.emit(focal)
        try pair.header.write(toFile: dir.appendingPathComponent("focal.h").path, atomically: true, encoding: .utf8)
        try pair.source.write(toFile: dir.appendingPathComponent("focal.c").path, atomically: true, encoding: .utf8)
        let use = "#include \"focal.h\"\nint main(void) { focal_params p = focal_default_params(); float x = 0, y = 1, l;\n"
            + "  return focal_f32(1, &x, &y, NULL, &p, &l, NULL) > 0 ? 0 : 1; }\n"
        try use.write(toFile: dir.appendingPathComponent("use.c").path, atomically: true, encoding: .utf8)
        let exe = dir.appendingPathComponent("use").path
        let build = cc.run(CHarness.strictFlags + ["-O2", "-I", dir.path, dir.appendingPathComponent("use.c").path,
                                                    dir.appendingPathComponent("focal.c").path, "-o", exe, "-lm"])
        #expect(build.succeeded && build.text.isEmpty, "\(name): header + source program:\n\(build.text.prefix(2000))")
        if build.succeeded { #expect(run(exe).status == 0) }
        let cxx = name == "gcc" ? "g++" : "clang++"
        if let cpp = SystemCompiler.named(cxx) {
            let out = cpp.run(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic", "-x", "c++",
                               dir.appendingPathComponent("focal.h").path])
            #expect(out.succeeded && out.text.isEmpty, "\(cxx) on the header:\n\(out.text.prefix(2000))")
        }
    }

    @Test func cleanUnderSanitizers() throws {
        guard let cc = SystemCompiler.named("gcc") ?? SystemCompiler.named("clang") else {
            return CHarness.skip("no gcc or clang for the sanitizer run")
        }
        let dir = try CHarness.temporaryDirectory("sanitize")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = dir.appendingPathComponent("san.c").path, exe = dir.appendingPathComponent("san").path
        try (CEmitter.bundle(Self.losses, multiversion: false) + SanitizerDriver.source(Self.losses)).write(toFile: c, atomically: true, encoding: .utf8)
        let build = cc.run(["-O1", "-g", "-fno-math-errno", "-std=c99", "-fsanitize=address,undefined",
                            "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", c, "-o", exe, "-lm"])
        try #require(build.succeeded, "sanitizer build failed:\n\(build.text.prefix(3000))")
        let r = run(exe)
        #expect(r.status == 0 && !r.text.contains("runtime error") && !r.text.contains("AddressSanitizer"),
                "sanitizer run:\n\(r.text.prefix(3000))")
        #expect(r.text.contains("sanitizer driver: \(Self.losses.count) losses"))
    }

    func run(_ path: String) -> SystemCompiler.Output { SystemCompiler(path: path).run([]) }

    /// The element loops of emitted focal loss vectorize with a plain -O3 -fno-math-errno
    /// (no -ffast-math), by the compilers' own reports: clang every block loop; gcc the float
    /// loops of the default-exponent path at the x86-64 baseline (SSE2), and the double ones
    /// too from x86-64-v2 (gcc needs SSE4.2 to blend doubles, see lossc_math.h).
    @Test func emittedLoopsVectorize() throws {
        #if arch(x86_64)
        let focal = try #require(EmittedExampleTests.examples.first { $0.name == "focal" }).loss
        let dir = try CHarness.temporaryDirectory("vectorize")
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = dir.appendingPathComponent("focal.c").path
        let text = CEmitter.emit(focal).source
        try text.write(toFile: c, atomically: true, encoding: .utf8)
        // Line numbers of each block function's element loop, by function name.
        var loops: [String: Int] = [:], current = ""
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Baseline copies only (the ISA copies start "static LOSSC_TARGET_…").
            if line.hasPrefix("static ") {
                current = line.hasPrefix("static void lossc_blk_") ? String(line.dropFirst("static void lossc_blk_".count).prefix { $0 != "(" }) : ""
            }
            if !current.isEmpty, line.contains("for (j = 0; j < m; j++)") { loops[current] = i + 1 }
        }
        #expect(loops.count == 8, "\(loops)")
        func vectorized(_ cc: SystemCompiler, _ flags: [String], marker: String) -> Set<Int> {
            let out = cc.run(["-O3", "-fno-math-errno", "-std=c99", "-c", c, "-o", "/dev/null"] + flags)
            return Set(out.text.split(separator: "\n").filter { $0.contains(marker) }.compactMap { line in
                line.split(separator: ":").dropFirst().first.flatMap { Int($0) }
            })
        }
        if let clang = SystemCompiler.named("clang") {
            let v = vectorized(clang, ["-Rpass=loop-vectorize"], marker: "vectorized loop")
            for (name, line) in loops { #expect(v.contains(line), "clang did not vectorize \(name)") }
        }
        if let gcc = SystemCompiler.named("gcc") {
            let base = vectorized(gcc, ["-fopt-info-vec-optimized"], marker: "loop vectorized")
            for name in ["focal_f32_vf", "focal_f32_vgf"] { #expect(base.contains(loops[name] ?? -1), "gcc did not vectorize \(name)") }
            let v2 = vectorized(gcc, ["-march=x86-64-v2", "-fopt-info-vec-optimized"], marker: "loop vectorized")
            // Not the general-exponent f32 loops (_v, _vg): since the kernels run through a
            // chunk function, gcc 12 vectorizes one or the other of them depending on inlining
            // (clang both); the default-exponent loops are the ones a default loss runs.
            for name in ["focal_f32_vf", "focal_f32_vgf", "focal_f64_vf", "focal_f64_vgf"] {
                #expect(v2.contains(loops[name] ?? -1), "gcc -march=x86-64-v2 did not vectorize \(name)")
            }
        }
        #endif
    }
}

/// A C `main` that calls every kernel of a bundle on heap arrays of exactly the right size
/// (so AddressSanitizer sees any overrun): sizes 0, 1, 7 and 300 (past a block), multiclass
/// rows of 3 and 300 classes (past a chunk), every combination of NULL outputs and params.
enum SanitizerDriver {
    static func source(_ losses: [(loss: CompiledLoss, name: String)]) -> String {
        var s = """

        #include <stdio.h>
        #include <stdlib.h>
        static unsigned long long lossc_rng = 88172645463325252ULL;
        static double lossc_uniform(void)
        {
            lossc_rng ^= lossc_rng << 13; lossc_rng ^= lossc_rng >> 7; lossc_rng ^= lossc_rng << 17;
            return (double)(lossc_rng >> 11) / 9007199254740992.0;
        }
        /* kind 0: logits with extremes, 1: labels, 2: weights, 3: boxes (x1, y1, x2, y2) */
        static void *lossc_fill(size_t count, int kind, int dbl)
        {
            void *p = malloc((count ? count : 1) * (dbl ? sizeof(double) : sizeof(float)));
            size_t i;
            for (i = 0; i < count; i++) {
                double v = kind == 0 ? (i % 9 == 0 ? (i % 2 ? 100.0 : -100.0) : 60.0 * lossc_uniform() - 30.0)
                         : kind == 1 ? (double)(lossc_uniform() < 0.5)
                         : kind == 2 ? lossc_uniform()
                         : (i % 4 < 2 ? 500.0 * lossc_uniform() : 0.0);
                if (kind == 3 && i % 4 >= 2) v = (dbl ? ((double *)p)[i - 2] : ((float *)p)[i - 2]) + 1.0 + 300.0 * lossc_uniform();
                if (dbl) ((double *)p)[i] = v; else ((float *)p)[i] = (float)v;
            }
            return p;
        }

        """
        var calls = ""
        for (loss, name) in losses {
            let prefix = CNames.identifier(name)
            s += "static double lossc_drive_\(prefix)(void)\n{\n    double total = 0;\n"
            s += "    static const size_t ns[4] = { 0, 1, 7, 300 };\n    int t, mode, dbl;\n"
            s += "    for (t = 0; t < 4; t++) for (dbl = 0; dbl < 2; dbl++) for (mode = 0; mode < 8; mode++) {\n"
            s += "        const size_t n = ns[t], C = (mode & 4) ? 300 : 3;\n"
            s += "        const \(prefix)_params defaults = \(prefix)_default_params();\n"
            s += "        const \(prefix)_params *params = (mode & 2) ? &defaults : NULL;\n"
            switch loss.kind {
            case .multiclass:
                s += "        void *x = lossc_fill(n * C, 0, dbl), *y = lossc_fill(n * C, 1, dbl), *w = lossc_fill(n, 2, dbl);\n"
                s += "        void *l = (mode & 1) ? lossc_fill(n, 2, dbl) : NULL, *g = (mode & 1) ? NULL : lossc_fill(n * C, 2, dbl);\n"
                s += "        total += dbl ? \(prefix)_f64(n, C, x, y, w, params, l, g) : \(prefix)_mean_f32(n, C, x, y, w, params, l, g);\n"
                s += "        free(x); free(y); free(w); free(l); free(g);\n"
            case .box:
                s += "        void *pr = lossc_fill(4 * n, 3, dbl), *tg = lossc_fill(4 * n, 3, dbl);\n"
                s += "        void *l = (mode & 1) ? lossc_fill(n, 2, dbl) : NULL, *g = (mode & 4) ? lossc_fill(4 * n, 2, dbl) : NULL;\n"
                s += "        total += dbl ? \(prefix)_f64(n, pr, tg, params, l, g) : \(prefix)_mean_f32(n, pr, tg, params, l, g);\n"
                s += "        free(pr); free(tg); free(l); free(g);\n"
            default:
                s += "        void *x = lossc_fill(n, 0, dbl), *y = lossc_fill(n, 1, dbl), *w = lossc_fill(n, 2, dbl);\n"
                s += "        void *l = (mode & 1) ? lossc_fill(n, 2, dbl) : NULL, *g = (mode & 4) ? lossc_fill(n, 2, dbl) : NULL;\n"
                s += "        total += dbl ? \(prefix)_f64(n, x, y, w, params, l, g) : \(prefix)_mean_f32(n, x, y, w, params, l, g);\n"
                s += "        free(x); free(y); free(w); free(l); free(g);\n"
            }
            s += "    }\n    return total;\n}\n\n"
            calls += "    sink += lossc_drive_\(prefix)();\n"
        }
        s += "int main(void)\n{\n    volatile double sink = 0;\n" + calls
        s += "    printf(\"sanitizer driver: \(losses.count) losses\\n\");\n    return 0;\n}\n"
        return s
    }
}
