import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The worker pool of the emitted C (`CThreadPool`), through `Tests/CThreadPoolCheck/pool_check.c`:
/// focal (per-sample runtime) and AP-Loss (ranking runtime) built as `lossc build` builds them,
/// loaded with dlopen, give the bits of one thread over many calls with changing counts, with
/// three callers at once, in a child after fork() and after dlclose + dlopen; and, where the
/// compiler has ThreadSanitizer, the same run reports no data race.
@Suite(.serialized) struct CThreadPoolTests {
    static let check = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CThreadPoolCheck/pool_check.c").path

    /// Writes focal's and AP-Loss's C, builds both libraries with `flags` and the check
    /// program; runs it and returns its exit status and output.
    static func run(_ cc: SystemCompiler, in dir: URL, flags: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let focal = try #require(EmittedExampleTests.examples.first { $0.name == "focal" }).loss
        let sources = [("focal", CEmitter.emit(focal, name: "focal").source),
                       ("ap_loss", try CRankingEmitter.emit(try CRankingTests.example("ap_loss", [:])).source)]
        var libraries: [String] = []
        for (name, source) in sources {
            let c = dir.appendingPathComponent("\(name).c").path, so = dir.appendingPathComponent("lib\(name).so").path
            try source.write(toFile: c, atomically: true, encoding: .utf8)
            let out = cc.sharedLibrary(sources: [c], output: so, flags: flags)
            try #require(out.succeeded, "\(name): \(out.text.prefix(3000))")
            libraries.append(so)
        }
        let exe = dir.appendingPathComponent("pool_check").path
        let build = cc.run(flags.filter { $0 != "-std=c99" } + ["-std=c99", Self.check, "-o", exe, "-ldl", "-pthread"])
        try #require(build.succeeded, "pool_check.c: \(build.text.prefix(3000))")
        let r = SystemCompiler(path: exe).run(libraries, environment: environment)
        return (r.status, r.text)
    }

    @Test func workersGiveTheBitsOfOneThreadAcrossCallsCallersForksAndReloads() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let dir = try CHarness.temporaryDirectory("pool")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, text) = try Self.run(cc, in: dir, flags: SystemCompiler.optimizeFlags)
        #expect(status == 0 && text.contains("pool: same bits"), "status \(status):\n\(text.prefix(2000))")
    }

    /// ThreadSanitizer over the same run (fork included: TSan only supports it with
    /// die_after_fork=0). Skipped where the compiler cannot build with -fsanitize=thread.
    @Test func noDataRaceUnderThreadSanitizer() throws {
        guard let cc = SystemCompiler.named("gcc") ?? SystemCompiler.named("clang") else { return CHarness.skip("no gcc or clang") }
        let dir = try CHarness.temporaryDirectory("pool-tsan")
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = dir.appendingPathComponent("probe.c").path
        try "int main(void) { return 0; }\n".write(toFile: probe, atomically: true, encoding: .utf8)
        guard cc.run(["-fsanitize=thread", probe, "-o", dir.appendingPathComponent("probe").path]).succeeded else {
            return CHarness.skip("\(cc.path) cannot build with -fsanitize=thread")
        }
        let flags = ["-O1", "-g", "-fsanitize=thread", "-fno-math-errno", "-std=c99"]
        let (status, text) = try Self.run(cc, in: dir, flags: flags, environment: ["TSAN_OPTIONS": "die_after_fork=0 halt_on_error=1"])
        #expect(status == 0 && text.contains("pool: same bits") && !text.contains("ThreadSanitizer"),
                "status \(status):\n\(text.prefix(3000))")
    }
}
