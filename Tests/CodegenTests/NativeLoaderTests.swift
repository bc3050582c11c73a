import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The native path: build once, then load from the cache by content hash; and without a
/// compiler, the same API answers from Swift with a message instead of failing.
struct NativeLoaderTests {
    static func focal() throws -> CompiledLoss {
        try #require(EmittedExampleTests.examples.first { $0.name == "focal" }).loss
    }

    @Test func buildsOnceThenLoadsFromTheCache() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let dir = try CHarness.temporaryDirectory("cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let loader = NativeLoader(cacheDirectory: dir, compiler: cc)
        let loss = try Self.focal()
        let k1 = try loader.load(loss)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files.count == 3 && files[0].hasSuffix(".c") && files[1].hasSuffix(".so") && files[2].hasSuffix(".sum"), "\(files)")
        let so = dir.appendingPathComponent(files[1]).path
        let built = try FileManager.default.attributesOfItem(atPath: so)[.modificationDate] as? Date
        let k2 = try loader.load(loss)                       // a cache hit: nothing rebuilt
        #expect(try FileManager.default.attributesOfItem(atPath: so)[.modificationDate] as? Date == built)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 3)
        let b = TestInputs.batch(.binary, n: 50, seed: 1, as: Float.self)
        let o1 = try #require(k1.run(b)), o2 = try #require(k2.run(b))
        #expect(o1.loss == o2.loss && Oracle(loss).mismatches(o1, b).isEmpty)
        // Another param default is another source, so another cache entry.
        let other = CompiledLoss.compile(try Formula.parse(loss.formula.file, params: ["gamma": 1.5]))
        _ = try loader.load(other)
        // Each entry: the library, its source and its checksum.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 6)
    }

    /// A truncated or emptied cache entry is rebuilt, never loaded (a truncated .so maps
    /// pages past its end: SIGBUS in dlopen).
    @Test func aDamagedCacheEntryIsRebuilt() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let dir = try CHarness.temporaryDirectory("cache-damage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let loader = NativeLoader(cacheDirectory: dir, compiler: cc)
        let loss = try Self.focal()
        _ = try loader.load(loss)
        let so = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasSuffix(".so") })
        let path = dir.appendingPathComponent(so).path
        let whole = try #require(FileManager.default.contents(atPath: path))
        #expect(NativeLoader.isCompleteSharedObject(path))
        let b = TestInputs.batch(.binary, n: 20, seed: 2, as: Double.self)
        for cut in [whole.count / 2, whole.count - 1, 64, 0] {
            try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
            #expect(!NativeLoader.isCompleteSharedObject(path), "cut at \(cut)")
            let k = try loader.load(loss)
            // Rebuilt, not loaded as it was (its size may differ by a few bytes: the compiler
            // records the temporary source's name).
            #expect(NativeLoader.isCompleteSharedObject(path), "rebuilt after a cut at \(cut)")
            let o = try #require(k.run(b))
            #expect(Oracle(loss).mismatches(o, b).isEmpty)
        }
        // Damage that keeps the size and the ELF headers whole (a flipped byte in the code, a
        // checksum that does not match, a missing checksum): rebuilt too, to the original bytes'
        // checksum.
        let sum = path.replacingOccurrences(of: ".so", with: ".sum")
        for damage in ["flip", "checksum", "no checksum"] {
            var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            switch damage {
            case "flip": bytes[bytes.count / 2] ^= 0x5A; try Data(bytes).write(to: URL(fileURLWithPath: path))
            case "checksum": try Data("0123".utf8).write(to: URL(fileURLWithPath: sum))
            default: try FileManager.default.removeItem(atPath: sum)
            }
            #expect(NativeLoader.isCompleteSharedObject(path), "\(damage): the headers still look whole")
            #expect(!NativeLoader.isIntact(path, checksum: sum), "\(damage) is seen")
            let k = try loader.load(loss)
            #expect(NativeLoader.isIntact(path, checksum: sum), "rebuilt after \(damage)")
            let o = try #require(k.run(b))
            #expect(Oracle(loss).mismatches(o, b).isEmpty)
        }
    }

    @Test func cacheDirectoryFollowsTheEnvironment() {
        #expect(NativeLoader.defaultCacheDirectory(environment: ["LOSSC_CACHE": "/x/y"]).path == "/x/y")
        #expect(NativeLoader.defaultCacheDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]).path == "/c/lossc")
        #expect(NativeLoader.defaultCacheDirectory(environment: ["HOME": "/h"]).path == "/h/.cache/lossc")
    }

    @Test func contentHashSeparatesInputs() {
        #expect(ContentHash.hex("a", "b") != ContentHash.hex("ab", ""))
        #expect(ContentHash.hex("a") == ContentHash.hex("a"))
        #expect(ContentHash.hex("a").count == 32)
        #expect(ContentHash.hex("a", "b") == ContentHash.hex(bytes: [97, 0, 98, 0]) && ContentHash.hex(bytes: [1, 2]) != ContentHash.hex(bytes: [2, 1]))
    }

    /// No compiler: a message, and the same numbers from Swift.
    @Test func fallsBackWithoutACompiler() throws {
        let loss = try Self.focal()
        let fallback = NativeBatch.make(loss, loader: NativeLoader(compiler: nil))
        #expect(fallback.native == nil)
        #expect(fallback.message?.contains("no C compiler found") == true)
        let b = TestInputs.batch(.binary, n: 30, seed: 2, as: Double.self)
        let r = fallback.evaluate(n: b.n, inputs: b.arrays)
        #expect(Oracle(loss).mismatches(KernelOutput(sum: r.sum, loss: r.loss, gradient: r.gradient), b).isEmpty)
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let dir = try CHarness.temporaryDirectory("batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let native = NativeBatch.make(loss, loader: NativeLoader(cacheDirectory: dir, compiler: cc))
        #expect(native.native != nil && native.message == nil)
        let n = native.evaluate(n: b.n, inputs: b.arrays)
        #expect(zip(n.loss, r.loss).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        #expect(zip(n.gradient, r.gradient).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
    }

    /// Multiclass and box through NativeBatch, both paths agreeing.
    @Test(arguments: ["cross_entropy", "giou"])
    func batchLossAgreesAcrossPaths(_ name: String) throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let loss = try #require(EmittedExampleTests.examples.first { $0.name == name }).loss
        let dir = try CHarness.temporaryDirectory("batch-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let native = NativeBatch.make(loss, loader: NativeLoader(cacheDirectory: dir, compiler: cc))
        let swift = NativeBatch.make(loss, loader: NativeLoader(compiler: nil))
        let b = TestInputs.batch(loss.kind, n: 6, classes: loss.kind == .multiclass ? 81 : 1, seed: 3, as: Float.self)
        let x = native.evaluate(n: b.n, classes: b.classes, inputs: b.arrays)
        let y = swift.evaluate(n: b.n, classes: b.classes, inputs: b.arrays)
        #expect(x.gradient.count == y.gradient.count)
        #expect(zip(x.loss + x.gradient, y.loss + y.gradient).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }
}
