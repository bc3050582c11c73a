#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LossDSL

/// The native path: emit C, build a shared library with the system compiler, `dlopen` it,
/// and cache the library by a hash of everything that went into it, so a loss is compiled
/// once per machine (per source, compiler, flags and emitter version).
///
/// The cache directory is `$LOSSC_CACHE`, else `$XDG_CACHE_HOME/lossc`, else `~/.cache/lossc`.
/// Each entry is `<hash>.so` with its `<hash>.c` beside it for inspection; builds write to a
/// temporary name and rename, so concurrent processes never load half a library.
public struct NativeLoader: Sendable {
    public var cacheDirectory: URL
    /// nil: no compiler on this machine (`load` then fails; `NativeBatch` falls back).
    public var compiler: SystemCompiler?
    public var flags: [String]

    /// The default flags: `SystemCompiler.optimizeFlags` plus `-march=native`, since a cached
    /// library is built on and for the machine that loads it (dropped if the compiler refuses it).
    public static let nativeFlags = SystemCompiler.optimizeFlags + ["-march=native"]

    public init(cacheDirectory: URL = NativeLoader.defaultCacheDirectory(), compiler: SystemCompiler? = SystemCompiler.find(),
                flags: [String] = NativeLoader.nativeFlags) {
        self.cacheDirectory = cacheDirectory
        self.compiler = compiler
        self.flags = flags
    }

    /// `$LOSSC_CACHE`, `$XDG_CACHE_HOME/lossc` or `~/.cache/lossc`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let d = environment["LOSSC_CACHE"], !d.isEmpty { return URL(fileURLWithPath: d) }
        if let x = environment["XDG_CACHE_HOME"], !x.isEmpty { return URL(fileURLWithPath: x).appendingPathComponent("lossc") }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/lossc")
    }

    /// The emitted source, built (or found in the cache) and loaded.
    public func load(_ loss: CompiledLoss, name: String? = nil) throws(NativeError) -> NativeKernel {
        let source = CEmitter.emit(loss, name: name)
        return try NativeKernel(library: try cachedLibrary(source.source), prefix: source.prefix, kind: loss.kind)
    }

    /// Builds a shared library of `loss` at `output` (`lossc build`); returns the emitted pair.
    @discardableResult
    public func buildLibrary(_ loss: CompiledLoss, name: String? = nil, output: String, command: String? = nil) throws(NativeError) -> CSource {
        let source = CEmitter.emit(loss, name: name, command: command)
        try build(source.source, compiler: try requireCompiler(), to: output, keepSourceAs: nil)
        return source
    }

    /// The compiler, or the error every build reports without one.
    func requireCompiler() throws(NativeError) -> SystemCompiler {
        guard let compiler else { throw NativeError(message: "no C compiler found (install cc, gcc or clang, or set CC)") }
        return compiler
    }

    /// The library of a C source, loaded from the cache (built there first when missing).
    func cachedLibrary(_ source: String) throws(NativeError) -> NativeLibrary {
        let compiler = try requireCompiler()
        let key = ContentHash.hex(source, compiler.version, flags.joined(separator: " "), Codegen.version)
        let library = cacheDirectory.appendingPathComponent("\(key).so").path
        let keep = cacheDirectory.appendingPathComponent("\(key).c").path
        let sum = cacheDirectory.appendingPathComponent("\(key).sum").path
        // A damaged entry (a truncated file maps pages past its end: SIGBUS in dlopen; a flipped
        // byte runs other code) is rebuilt, never loaded: the library's bytes must hash to the
        // checksum written beside it when it was built. So is one that dlopen refuses.
        func rebuild() throws(NativeError) {
            try build(source, compiler: compiler, to: library, keepSourceAs: keep)
            Self.writeChecksum(of: library, to: sum)
        }
        if !Self.isIntact(library, checksum: sum) { try rebuild() }
        do { return try NativeLibrary(path: library) } catch {
            try rebuild()
            return try NativeLibrary(path: library)
        }
    }

    /// Whether a cache entry is whole: a complete shared object whose bytes hash to `checksum`'s.
    static func isIntact(_ library: String, checksum: String) -> Bool {
        guard isCompleteSharedObject(library), let bytes = FileManager.default.contents(atPath: library),
              let recorded = FileManager.default.contents(atPath: checksum) else { return false }
        return String(decoding: recorded, as: UTF8.self) == ContentHash.hex(bytes: [UInt8](bytes))
    }

    /// Records the library's hash (temporary name + rename; a failure only costs a rebuild later).
    static func writeChecksum(of library: String, to path: String) {
        guard let bytes = FileManager.default.contents(atPath: library) else { return }
        let tmp = path + ".\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        do { try Data(ContentHash.hex(bytes: [UInt8](bytes)).utf8).write(to: URL(fileURLWithPath: tmp)) } catch { return }
        if rename(tmp, path) != 0 { try? FileManager.default.removeItem(atPath: tmp) }
    }

    /// Whether a file is a whole shared object: an ELF header whose program and section
    /// header tables lie inside the file (a truncated or emptied cache entry fails). Other
    /// object formats (Mach-O) are only checked for being non-empty.
    static func isCompleteSharedObject(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let size = try? h.seekToEnd(), size > 0 else { return false }
        try? h.seek(toOffset: 0)
        guard let head = try? h.read(upToCount: 64), head.count == 64 else { return false }
        let b = [UInt8](head)
        guard b[0] == 0x7f, b[1] == 0x45, b[2] == 0x4c, b[3] == 0x46 else { return b[0] != 0x7f }
        guard b[4] == 2, b[5] == 1 else { return true }   // only 64-bit little-endian ELF is measured
        func u(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } }
        let ph = u(0x20, 8) + u(0x36, 2) * u(0x38, 2), sh = u(0x28, 8) + u(0x3A, 2) * u(0x3C, 2)
        return ph <= size && sh <= size
    }

    /// Compiles `source` into a shared library at `path`, atomically (temporary name + rename).
    func build(_ source: String, compiler: SystemCompiler, to path: String, keepSourceAs kept: String?) throws(NativeError) {
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        do { try fm.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw NativeError(message: "cannot create \(dir.path): \(error.localizedDescription)")
        }
        let tag = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let tmpC = dir.appendingPathComponent(".lossc-\(tag).c").path
        let tmpSO = dir.appendingPathComponent(".lossc-\(tag).so").path
        defer { try? fm.removeItem(atPath: tmpC); try? fm.removeItem(atPath: tmpSO) }
        do { try source.write(toFile: tmpC, atomically: false, encoding: .utf8) } catch {
            throw NativeError(message: "cannot write \(tmpC): \(error.localizedDescription)")
        }
        var out = compiler.sharedLibrary(sources: [tmpC], output: tmpSO, flags: flags)
        if !out.succeeded, flags.contains("-march=native") {
            out = compiler.sharedLibrary(sources: [tmpC], output: tmpSO, flags: flags.filter { $0 != "-march=native" })
        }
        guard out.succeeded else {
            throw NativeError(message: "\(compiler.path) failed (status \(out.status)):\n\(out.text.prefix(2000))")
        }
        if rename(tmpSO, path) != 0 { throw NativeError(message: "cannot move the library to \(path)") }
        if let kept { _ = rename(tmpC, kept) }
    }
}

/// A 128-bit content hash (two independent 64-bit FNV-1a streams, finalized), as hex: a cache
/// key, not a security boundary.
public enum ContentHash {
    public static func hex(_ parts: String...) -> String {
        hex(bytes: parts.flatMap { Array($0.utf8) + [0] })
    }

    /// The hash of raw bytes (`hex(parts…)` hashes each part followed by a 0 byte).
    public static func hex(bytes: [UInt8]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 ^ (b >> 29)
        }
        func fmix(_ v: UInt64) -> UInt64 {
            var z = v
            z = (z ^ (z >> 33)) &* 0xff51_afd7_ed55_8ccd
            z = (z ^ (z >> 33)) &* 0xc4ce_b9fe_1a85_ec53
            return z ^ (z >> 33)
        }
        func pad(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        return pad(fmix(a)) + pad(fmix(b ^ a))
    }
}
