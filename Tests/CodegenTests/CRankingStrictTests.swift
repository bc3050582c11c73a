import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The emitted ranking C of every example compiles warning-free under gcc and clang with
/// `-Wall -Wextra -Werror -std=c99 -pedantic` (at -O0 and -O3), its headers serve a C program
/// linking all four and are valid C++, and the kernels run clean under ASan + UBSan on odd
/// batches (empty, all ignored, no positive, NULL u and NULL outputs, ties, 5000 entries).
@Suite(.serialized) struct CRankingStrictTests {
    static let names = ["ap_loss", "pap_retinanet", "pap_retinanet_4fn", "smooth_ap"]

    /// Writes each example's `.h/.c` and a `main.c` that calls every kernel; returns the paths.
    static func write(into dir: URL) throws -> (sources: [String], main: String) {
        var sources: [String] = []
        for name in names {
            let src = try CRankingEmitter.emit(try CRankingTests.example(name, [:]))
            try src.header.write(to: dir.appendingPathComponent("\(name).h"), atomically: true, encoding: .utf8)
            let c = dir.appendingPathComponent("\(name).c").path
            try src.source.write(toFile: c, atomically: true, encoding: .utf8)
            sources.append(c)
        }
        let main = dir.appendingPathComponent("main.c").path
        try driver.write(toFile: main, atomically: true, encoding: .utf8)
        return (sources, main)
    }

    /// Calls every kernel on awkward batches; prints a count at the end.
    static var driver: String {
        var s = names.map { "#include \"\($0).h\"\n" }.joined() + "#include <stdio.h>\n#include <stdlib.h>\n#include <math.h>\n\n"
        s += "#define N 5000\nstatic float sf[N], yf[N], uf[N], gf[N], hf[N];\nstatic double sd[N], yd[N], ud[N], gd[N], hd[N];\n\n"
        s += names.map { "static \($0)_workspace *ws_\($0);\n" }.joined()
        // Each kernel per call and with its workspace (reused across batches): finite, and the same bits.
        s += "static int run(int64_t n, int nullu, int nullout)\n{\n    int bad = 0;\n    double a, b;\n"
        for name in names {
            for (p, v) in [("f32", "f"), ("f64", "d")] {
                s += "    a = \(name)_\(p)(n, s\(v), y\(v), nullu ? NULL : u\(v), nullout ? NULL : g\(v), nullout ? NULL : h\(v));\n"
                s += "    b = \(name)_\(p)_ws(ws_\(name), n, s\(v), y\(v), nullu ? NULL : u\(v), nullout ? NULL : g\(v), nullout ? NULL : h\(v));\n"
                s += "    bad |= !isfinite(a) || a != b;\n"
            }
        }
        s += "    return bad;\n}\n\n"
        s += """
        static void fill(unsigned seed, double positives, double ignored)
        {
            int i;
            srand(seed);
            for (i = 0; i < N; i++) {
                double v = (double)rand() / RAND_MAX * 8.0 - 4.0, c = (double)rand() / RAND_MAX;
                if (i % 3 == 0) v = floor(v * 2.0) / 2.0; /* ties */
                sd[i] = v; yd[i] = c < positives ? 1.0 : (c < positives + ignored ? -1.0 : 0.0);
                ud[i] = yd[i] == 1.0 ? (double)rand() / RAND_MAX : 0.0;
                sf[i] = (float)sd[i]; yf[i] = (float)yd[i]; uf[i] = (float)ud[i];
            }
        }

        int main(void)
        {
            int bad = 0, calls = 0;
        \(names.map { "    ws_\($0) = \($0)_workspace_new();\n" }.joined())    fill(1, 0.02, 0.1);
            bad |= run(0, 0, 0); bad |= run(1, 0, 0); bad |= run(37, 0, 0); bad |= run(N, 0, 0); bad |= run(N, 1, 1); calls += 5;
            fill(2, 0.0, 0.2); bad |= run(300, 0, 0); calls++;      /* no positive */
            fill(3, 0.0, 1.0); bad |= run(300, 1, 0); calls++;      /* every entry ignored */
            fill(4, 0.5, 0.0); bad |= run(999, 0, 0); calls++;      /* half positives */
            if (!isnan(ap_loss_f32(-1, sf, yf, uf, gf, hf))) bad = 1;
        \(names.map { "    \($0)_workspace_free(ws_\($0));\n" }.joined())
            printf("ranking sanitizer driver: %d batches, %s\\n", calls, bad ? "NOT FINITE" : "finite");
            return bad;
        }

        """
        return s
    }

    @Test(arguments: ["gcc", "clang"])
    func warningFree(_ name: String) throws {
        guard let cc = SystemCompiler.named(name) else { return CHarness.skip("\(name) not on PATH") }
        let dir = try CHarness.temporaryDirectory("rank-strict-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sources, main) = try Self.write(into: dir)
        for c in sources {
            for opt in ["-O0", "-O3"] {
                let out = cc.run([opt, "-fno-math-errno"] + CHarness.strictFlags + ["-c", c, "-o", dir.appendingPathComponent("x.o").path])
                #expect(out.succeeded && out.text.isEmpty, "\(name) \(opt) \(c):\n\(out.text.prefix(3000))")
            }
        }
        let exe = dir.appendingPathComponent("use").path
        let build = cc.run(CHarness.strictFlags + ["-O2", "-I", dir.path, main] + sources + ["-o", exe, "-lm"])
        #expect(build.succeeded && build.text.isEmpty, "\(name): the four kernels linked into one program:\n\(build.text.prefix(2000))")
        if build.succeeded {
            let r = SystemCompiler(path: exe).run([])
            #expect(r.status == 0 && r.text.contains("finite"), "\(r.text)")
        }
        let cxx = name == "gcc" ? "g++" : "clang++"
        if let cpp = SystemCompiler.named(cxx) {
            for n in Self.names {
                let out = cpp.run(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic", "-x", "c++", dir.appendingPathComponent("\(n).h").path])
                #expect(out.succeeded && out.text.isEmpty, "\(cxx) on \(n).h:\n\(out.text.prefix(2000))")
            }
        }
    }

    /// Every example's kernels give the same bits (loss, d_s, d_u, float and double) with 1, 2
    /// and 3 threads, on 300,000 entries (five chunks of the member passes and more), and on a
    /// batch smaller than one chunk.
    @Test func threadsGiveTheSameBits() throws {
        guard let cc = SystemCompiler.named("gcc") ?? SystemCompiler.named("clang") else {
            return CHarness.skip("no gcc or clang")
        }
        let dir = try CHarness.temporaryDirectory("rank-threads")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sources, _) = try Self.write(into: dir)
        var m = Self.names.map { "#include \"\($0).h\"\n" }.joined() + "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
        m += "#define N 300000\nstatic float sf[N], yf[N], uf[N], gf[3][N], hf[3][N];\nstatic double sd[N], yd[N], ud[N], gd[3][N], hd[3][N];\n\n"
        m += "static int check(int64_t n)\n{\n    int bad = 0, t;\n    double lf[3], ld[3];\n"
        for name in Self.names {
            m += "    for (t = 0; t < 3; t++) {\n        \(name)_set_threads(t + 1);\n"
            m += "        lf[t] = \(name)_f32(n, sf, yf, uf, gf[t], hf[t]);\n        ld[t] = \(name)_f64(n, sd, yd, ud, gd[t], hd[t]);\n    }\n"
            m += "    for (t = 1; t < 3; t++) {\n"
            m += "        if (memcmp(&lf[t], &lf[0], sizeof lf[0]) || memcmp(gf[t], gf[0], (size_t)n * sizeof(float)) || memcmp(hf[t], hf[0], (size_t)n * sizeof(float))) { printf(\"\(name) f32 differs with %d threads\\n\", t + 1); bad = 1; }\n"
            m += "        if (memcmp(&ld[t], &ld[0], sizeof ld[0]) || memcmp(gd[t], gd[0], (size_t)n * sizeof(double)) || memcmp(hd[t], hd[0], (size_t)n * sizeof(double))) { printf(\"\(name) f64 differs with %d threads\\n\", t + 1); bad = 1; }\n"
            m += "    }\n"
        }
        m += "    return bad;\n}\n\n"
        m += """
        int main(void)
        {
            int i, bad;
            srand(5);
            for (i = 0; i < N; i++) {
                double v = (double)rand() / RAND_MAX * 8.0 - 4.0, c = (double)rand() / RAND_MAX;
                if (i % 3 == 0) v = (double)(int)(v * 2.0) / 2.0; /* ties */
                sd[i] = v; yd[i] = c < 0.01 ? 1.0 : (c < 0.11 ? -1.0 : 0.0);
                ud[i] = (double)rand() / RAND_MAX;
                sf[i] = (float)sd[i]; yf[i] = (float)yd[i]; uf[i] = (float)ud[i];
            }
            bad = check(N) | check(5000);
            printf("threads: %s\\n", bad ? "DIFFER" : "same bits");
            return bad;
        }

        """
        let main = dir.appendingPathComponent("threads.c").path
        try m.write(toFile: main, atomically: true, encoding: .utf8)
        let r = try Self.buildAndRun(cc, in: dir, flags: ["-O2"], files: [main] + sources, libraries: ["-lm", "-lpthread"])
        #expect(r.status == 0 && r.text.contains("threads: same bits"), "\(r.text.prefix(2000))")
    }

    /// Builds `files` (with the headers in `dir`) into one program in `dir` and runs it.
    static func buildAndRun(_ cc: SystemCompiler, in dir: URL, flags: [String], files: [String],
                            libraries: [String]) throws -> (status: Int32, text: String) {
        let exe = dir.appendingPathComponent("program").path
        let build = cc.run(flags + ["-fno-math-errno", "-std=c99", "-I", dir.path] + files + ["-o", exe] + libraries)
        try #require(build.succeeded, "build failed:\n\(build.text.prefix(3000))")
        let r = SystemCompiler(path: exe).run([])
        return (r.status, r.text)
    }

    @Test func cleanUnderSanitizers() throws {
        guard let cc = SystemCompiler.named("gcc") ?? SystemCompiler.named("clang") else {
            return CHarness.skip("no gcc or clang for the sanitizer run")
        }
        let dir = try CHarness.temporaryDirectory("rank-sanitize")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (sources, main) = try Self.write(into: dir)
        let r = try Self.buildAndRun(cc, in: dir, flags: ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                                                          "-fno-omit-frame-pointer"], files: [main] + sources, libraries: ["-lm"])
        #expect(r.status == 0 && !r.text.contains("runtime error") && !r.text.contains("AddressSanitizer"), "sanitizer run:\n\(r.text.prefix(3000))")
        #expect(r.text.contains("ranking sanitizer driver: 8 batches, finite"), "\(r.text.prefix(500))")
    }
}
