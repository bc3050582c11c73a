import Foundation
import Testing

/// `lossc emit` and `lossc build` as a user runs them: files written, the C compiling, exit
/// codes for bad usage.
struct EmitBuildCLITests {
    static var cc: String? {
        for name in ["cc", "gcc", "clang"] {
            for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
                let p = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func helpForEmitAndBuild() throws {
        for sub in ["emit", "build"] {
            let r = try CLI.run([sub, "--help"])
            #expect(r.status == 0 && r.out.contains("USAGE: lossc \(sub)"), "\(sub) --help")
        }
    }

    @Test func emitCWritesAPairThatCompiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/emit")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let base = dir.appendingPathComponent("focal").path
        let r = try CLI.run(["emit", "examples/focal.loss", "--target", "c", "-o", base + ".c", "--precision", "f32"])
        #expect(r.status == 0 && r.err.contains("wrote"), "\(r.err)")
        let h = try String(contentsOfFile: base + ".h", encoding: .utf8), c = try String(contentsOfFile: base + ".c", encoding: .utf8)
        #expect(h.contains("double focal_f32(") && !h.contains("focal_f64(") && h.contains("typedef struct focal_params"))
        #expect(h.contains("return y * positive + (1 - y) * negative"), "the header quotes the formula")
        #expect(c.contains("lossc_expf") && !c.contains("#include \""), "self-contained, no include of a derived name")
        guard let cc = Self.cc else { print("SKIPPED: no C compiler"); return }
        #expect(try Self.run(cc, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", base + ".c", "-o", base + ".o"]) == 0)
        // Without -o the .c goes to stdout.
        let s = try CLI.run(["emit", "examples/giou.loss"])
        #expect(s.status == 0 && s.out.contains("double giou_f64(size_t n, const double *LOSSC_RESTRICT pred"))
    }

    @Test func emitCOnARankingLoss() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/emit-ranking")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let base = dir.appendingPathComponent("pap").path
        let r = try CLI.run(["emit", "examples/pap_retinanet.loss", "-o", base, "--param", "num_topk=50"])
        #expect(r.status == 0 && r.err.contains("wrote"), "\(r.err)")
        let h = try String(contentsOfFile: base + ".h", encoding: .utf8), c = try String(contentsOfFile: base + ".c", encoding: .utf8)
        #expect(h.contains("double pap_retinanet_f32(int64_t n, const float *s, const float *y, const float *u, float *d_s, float *d_u);"))
        #expect(h.contains("#define PAP_RETINANET_REACHES_U 1") && h.contains("num_topk = 50"))
        #expect(c.contains("lossc_rk_sort_f(") && c.contains("top(valid, 50)"), "radix sort, and the top cap from --param")
        if let cc = Self.cc {
            #expect(try Self.run(cc, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", base + ".c", "-o", base + ".o"]) == 0)
        }
        let s = try CLI.run(["emit", "examples/smooth_ap.loss", "--precision", "f64"])
        #expect(s.status == 0 && s.out.contains("double smooth_ap_f64(int64_t n") && !s.out.contains("smooth_ap_f32("))
        let swift = try CLI.run(["emit", "examples/ap_loss.loss", "--target", "swift"])
        #expect(swift.status == 2 && swift.err.contains("RankingKernel"), "\(swift.err)")
        #expect(try CLI.run(["emit", "examples/ap_loss.loss", "--protected"]).status == 2)
    }

    @Test func emitSwift() throws {
        let r = try CLI.run(["emit", "examples/cross_entropy.loss", "--target", "swift", "--name", "CE"])
        #expect(r.status == 0 && r.out.contains("public enum CE {") && r.out.contains("public static func f32(n: Int, classes: Int"))
    }

    @Test func buildMakesALibrary() throws {
        guard Self.cc != nil else { print("SKIPPED: no C compiler"); return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/build")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lib = dir.appendingPathComponent("libbce.so").path, header = dir.appendingPathComponent("bce.h").path
        let r = try CLI.run(["build", "examples/bce.loss", "-o", lib, "--header", header])
        #expect(r.status == 0 && r.err.contains("bce_f32"), "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: lib) && FileManager.default.fileExists(atPath: header))
        let handle = dlopen(lib, RTLD_NOW)
        #expect(handle != nil && dlsym(handle, "bce_f32") != nil && dlsym(handle, "bce_mean_f64") != nil)
        if let handle { dlclose(handle) }
        // --fma builds too (what its paths compute: CMultiversionTests); not together with --flags.
        let fma = dir.appendingPathComponent("libbce-fma.so").path
        let f = try CLI.run(["build", "examples/bce.loss", "-o", fma, "--fma"])
        #expect(f.status == 0 && FileManager.default.fileExists(atPath: fma), "\(f.err)")
        let both = try CLI.run(["build", "examples/bce.loss", "-o", fma, "--fma", "--flags", "-O2"])
        #expect(both.status == 2 && both.err.contains("--fma and --flags"), "\(both.err)")
    }

    @Test func buildMakesARankingLibrary() throws {
        guard Self.cc != nil else { print("SKIPPED: no C compiler"); return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/build-ranking")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lib = dir.appendingPathComponent("libap.so").path, header = dir.appendingPathComponent("ap.h").path
        let r = try CLI.run(["build", "examples/ap_loss.loss", "-o", lib, "--header", header, "--name", "ap"])
        #expect(r.status == 0 && r.err.contains("ap_f32"), "\(r.err)")
        #expect(try String(contentsOfFile: header, encoding: .utf8).contains("double ap_f64(int64_t n"))
        let handle = dlopen(lib, RTLD_NOW)
        #expect(handle != nil && dlsym(handle, "ap_f32") != nil && dlsym(handle, "ap_f64") != nil)
        if let handle { dlclose(handle) }
        #expect(try CLI.run(["build", "examples/ap_loss.loss", "-o", lib, "--protected"]).status == 2)
    }

    @Test func badUsageExitsTwo() throws {
        #expect(try CLI.run(["build", "examples/bce.loss"]).status == 2)
        #expect(try CLI.run(["build", "examples/bce.loss", "-o", "/tmp/x.so", "--cc", "no-such-compiler"]).status == 2)
        #expect(try CLI.run(["emit", "examples/bce.loss", "--target", "rust"]).status == 2)
        #expect(try CLI.run(["emit", "examples/bce.loss", "--precision", "f16"]).status == 2)
        #expect(try CLI.run(["emit", "no/such.loss"]).status == 2)
        let r = try CLI.run(["emit", "examples/bce.loss", "-o", "/no/such/dir/x"])
        #expect(r.status == 2 && r.err.contains("cannot write"))
    }
}

/// examples/python/run.sh: ctypes + numpy on the built libraries (values, finite-difference
/// gradients, a logistic regression trained with the kernels); a skip message without numpy.
@Test func pythonExample() throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [CLI.root.appendingPathComponent("examples/python/run.sh").path]
    var env = ProcessInfo.processInfo.environment
    env["LOSSC"] = CLI.binary
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "\(text)")
    #expect(text.contains("all checks passed") || text.contains("SKIPPED"), "\(text)")
    if text.contains("SKIPPED") { print(text) }
}

extension EmitBuildCLITests {
    /// The header's "regenerate with" line is the whole command (`--param`, `--name`, `-o`
    /// kept): run by a shell in a fresh directory, it writes byte-identical files.
    @Test func theRegenerateLineRebuildsTheSameFiles() throws {
        let cases: [(args: [String], files: [String], comment: String)] = [
            (["emit", "examples/focal.loss", "--param", "gamma=1", "--name", "my focal", "-o", "OUT/f"], ["OUT/f.h", "OUT/f.c"], " *     "),
            (["emit", "examples/focal.loss", "--target", "torch", "--param", "alpha=0.5", "-o", "OUT/f.py"], ["OUT/f.py"], "#     "),
            (["emit", "examples/ap_loss.loss", "--target", "torch", "-o", "OUT/ap.py"], ["OUT/ap.py"], "#     "),
            (["emit", "examples/pap_retinanet.loss", "--param", "num_topk=50", "-o", "OUT/pap"], ["OUT/pap.h", "OUT/pap.c"], " *     "),
            (["emit", "examples/giou.loss", "--target", "swift", "--precision", "f32", "-o", "OUT/g.swift"], ["OUT/g.swift"], "//     "),
        ]
        for (n, c) in cases.enumerated() {
            let first = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/regen-\(n)").path
            try? FileManager.default.removeItem(atPath: first)
            try FileManager.default.createDirectory(atPath: first, withIntermediateDirectories: true)
            let args = c.args.map { $0.replacingOccurrences(of: "OUT", with: first) }
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(args): \(r.err)")
            let text = try String(contentsOfFile: c.files[0].replacingOccurrences(of: "OUT", with: first), encoding: .utf8)
            let lines = text.split(separator: "\n").map(String.init)
            guard let k = lines.firstIndex(where: { $0.contains("regenerate with") }), k + 1 < lines.count,
                  lines[k + 1].hasPrefix(c.comment + "lossc ") else {
                Issue.record("\(args): no regenerate line"); continue
            }
            let command = String(lines[k + 1].dropFirst(c.comment.count))
            #expect(command.contains("--param") || !args.contains("--param"), "\(command)")
            #expect(command.contains(first), "-o kept: \(command)")
            // Rerun it with the output moved aside: the same bytes come back.
            for f in c.files { try FileManager.default.moveItem(atPath: f.replacingOccurrences(of: "OUT", with: first), toPath: f.replacingOccurrences(of: "OUT", with: first) + ".old") }
            let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
            let again = try CLI.run([], via: ["/bin/sh", "-c", "PATH=\"$1:$PATH\"; \(command)", "sh", bin])
            #expect(again.status == 0, "\(command): \(again.err)")
            for f in c.files {
                let p = f.replacingOccurrences(of: "OUT", with: first)
                #expect(FileManager.default.contents(atPath: p) == FileManager.default.contents(atPath: p + ".old"), "\(command): \(f) differs")
            }
        }
    }
}
