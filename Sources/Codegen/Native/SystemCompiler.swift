import Foundation

/// The system C compiler: found on PATH (or named by `$CC`), run as a child process.
public struct SystemCompiler: Sendable {
    /// The executable's full path.
    public let path: String

    /// The flags native builds use: optimized and vectorizable without -ffast-math
    /// (`-fno-math-errno` lets sqrt vectorize; NaN and infinity semantics stay intact).
    /// No `-march`: the emitted C carries its own AVX2 and AVX-512 copies and picks one at
    /// run time, so the library stays portable. `-ffp-contract=off` (also what gcc does in
    /// ISO C mode and what the emitted pragma asks of clang) keeps a*b+c out of FMA, so every
    /// copy computes the same bits.
    public static let optimizeFlags = ["-O3", "-fno-math-errno", "-ffp-contract=off", "-std=c99"]

    /// `lossc build --fma`: `optimizeFlags` with contraction on (`-DLOSSC_FMA` drops the
    /// emitted `FP_CONTRACT OFF` pragma). The AVX2 and AVX-512 copies fuse a*b+c; they are
    /// faster and differ from the baseline copy in the last bits (each copy still gives the same
    /// bits for every thread count).
    public static let fmaFlags = ["-O3", "-fno-math-errno", "-ffp-contract=fast", "-std=c99", "-DLOSSC_FMA"]

    /// What a compiler run printed and how it ended.
    public struct Output: Sendable {
        public let status: Int32
        public let text: String
        public var succeeded: Bool { status == 0 }
    }

    public init(path: String) { self.path = path }

    /// The compiler `$CC` names, else the first of `cc`, `gcc`, `clang` on PATH; nil if none.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> SystemCompiler? {
        if let cc = environment["CC"], !cc.isEmpty, let p = which(cc, environment) { return SystemCompiler(path: p) }
        for name in ["cc", "gcc", "clang"] { if let p = which(name, environment) { return SystemCompiler(path: p) } }
        return nil
    }

    /// A specific compiler by name (`gcc`, `clang`), if it is on PATH.
    public static func named(_ name: String) -> SystemCompiler? {
        which(name, ProcessInfo.processInfo.environment).map(SystemCompiler.init(path:))
    }

    /// Resolves a command name against PATH (a name with a slash is taken as a path).
    static func which(_ name: String, _ env: [String: String]) -> String? {
        let fm = FileManager.default
        if name.contains("/") { return fm.isExecutableFile(atPath: name) ? name : nil }
        for dir in (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = String(dir) + "/" + name
            if fm.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs the compiler (or any program at `path`) with `arguments`, collecting stdout and
    /// stderr together; `environment` entries are added to this process's environment.
    public func run(_ arguments: [String], environment: [String: String] = [:]) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch {
            return Output(status: -1, text: "cannot run \(path): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    /// Builds a shared library from C files (with libm and POSIX threads).
    public func sharedLibrary(sources: [String], output: String, flags: [String] = optimizeFlags) -> Output {
        run(flags + ["-fPIC", "-shared", "-o", output] + sources + ["-lm", "-pthread"])
    }

    /// A short description (`gcc (Debian 12.2.0-14) 12.2.0`), part of native cache keys.
    public var version: String {
        let out = run(["--version"])
        return out.text.split(separator: "\n").first.map(String.init) ?? path
    }
}
