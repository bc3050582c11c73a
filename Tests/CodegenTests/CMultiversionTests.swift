import Foundation
import Testing
@testable import Codegen
import LossDSL

/// The emitted C's ISA paths and threads (see `CRuntime`): on random formulas of every kind
/// (fresh ones when LOSSC_BACKEND_SEED is set) and the examples, every path this CPU has
/// gives the bits of the baseline path, and 1, 2 and 3 threads give the bits of one thread
/// on batches of several chunks. (Agreement with the reference evaluator is
/// EmittedExampleTests' and EmittedRandomTests'; this is about paths agreeing with each other.)
@Suite(.serialized) struct CMultiversionTests {
    static let losses: [(loss: CompiledLoss, name: String)] = {
        var all = EmittedExampleTests.examples.filter { $0.loss.kind != .ranking }.map { ($0.loss, "mv_" + $0.name) }
        for (k, kind) in [LossKind.binary, .multiclass, .box].enumerated() {
            var rng = SeededGenerator(seed: RunSeed.value &* 7_919 &+ 5 + UInt64(k))
            let spec = RandomFormula(kind: kind, maxDepth: 6, maxNodes: 25)
            for i in 0..<6 { all.append((CompiledLoss.compile(spec.next(using: &rng)), "mvr_\(kind.rawValue)_\(i)")) }
        }
        return all
    }()

    typealias SetInt = @convention(c) (Int32) -> Int32
    typealias SetVoid = @convention(c) (Int32) -> Void

    /// The outputs' bit patterns, every NaN as one pattern: a NaN's sign and payload depend on
    /// which operand an instruction propagates (and a sum's on the order NaNs meet), which IEEE
    /// leaves open; whether a value is NaN, and every other bit, must agree.
    static func bits<T: LossReal>(_ o: KernelOutput<T>) -> [UInt64] {
        ([o.sum] + (o.loss + o.gradient).map { Double($0) }).map { $0.isNaN ? Double.nan.bitPattern : $0.bitPattern }
    }

    func check<T: LossReal>(_ lib: NativeLibrary, _ name: String, _ loss: CompiledLoss, as: T.Type) throws {
        let kernel = try NativeKernel(library: lib, prefix: name, kind: loss.kind)
        let setISA = unsafeBitCast(try #require(lib.symbol("\(name)_set_isa")), to: SetInt.self)
        let setThreads = unsafeBitCast(try #require(lib.symbol("\(name)_set_threads")), to: SetVoid.self)
        let classes = loss.kind == .multiclass ? 81 : 1
        // 70,001 samples: 3 chunks of 32,768 scalars; multiclass: 1,300 rows of 81 = 4 chunks.
        let n = loss.kind == .multiclass ? 1_300 : 70_001
        let batch = TestInputs.batch(loss.kind, n: n, classes: classes, seed: 11, as: T.self)
        setThreads(1)
        let best = setISA(-1)
        #expect(setISA(0) == 0)
        let base = try #require(kernel.run(batch))
        for level in 1...max(1, best) where level <= best {
            #expect(setISA(level) == level)
            let out = try #require(kernel.run(batch))
            #expect(Self.bits(out) == Self.bits(base), "\(name) \(T.self): ISA level \(level) differs from the baseline")
        }
        _ = setISA(-1)
        for t in [2, 3, 0] {
            setThreads(Int32(t))
            let out = try #require(kernel.run(batch))
            #expect(Self.bits(out) == Self.bits(base), "\(name) \(T.self): \(t) threads differ from 1")
        }
        setThreads(1)
    }

    @Test func pathsAndThreadCountsAgreeBitForBit() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try CHarness.build(CEmitter.bundle(Self.losses), tag: "multiversion", compiler: cc,
                                     flags: SystemCompiler.optimizeFlags + CHarness.strictFlags)
        for (loss, name) in Self.losses {
            try check(lib, name, loss, as: Float.self)
            try check(lib, name, loss, as: Double.self)
        }
    }

    /// `lossc build --fma` (`SystemCompiler.fmaFlags`): every ISA path agrees with the reference
    /// evaluator (the same judge as the default build's, `Oracle`: fused roundings are
    /// roundings), and within each path 1, 2 and 3 threads still give the bits of one.
    @Test func fmaPathsAgreeWithTheReferenceAndThreadsBitForBit() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try CHarness.build(CEmitter.bundle(Self.losses), tag: "multiversion-fma", compiler: cc,
                                     flags: SystemCompiler.fmaFlags + CHarness.strictFlags)
        var fused = false, best: Int32 = 0
        for (loss, name) in Self.losses {
            let kernel = try NativeKernel(library: lib, prefix: name, kind: loss.kind)
            let setISA = unsafeBitCast(try #require(lib.symbol("\(name)_set_isa")), to: SetInt.self)
            let setThreads = unsafeBitCast(try #require(lib.symbol("\(name)_set_threads")), to: SetVoid.self)
            best = setISA(-1)
            var baseline: [UInt64] = []
            for level in 0...max(0, best) {
                #expect(setISA(Int32(level)) == level)
                let bad = try EmittedRandomTests.disagreements(loss, kernel, seed: 5)
                #expect(bad.isEmpty, "\(name) at ISA level \(level): \(bad.prefix(2))")
                let n = loss.kind == .multiclass ? 1_300 : 70_001
                let batch = TestInputs.batch(loss.kind, n: n, classes: loss.kind == .multiclass ? 81 : 1, seed: 11, as: Float.self)
                setThreads(1)
                let one = try #require(kernel.run(batch))
                if level == 0 { baseline = Self.bits(one) } else if Self.bits(one) != baseline { fused = true }
                for t: Int32 in [2, 3] {
                    setThreads(t)
                    #expect(Self.bits(try #require(kernel.run(batch))) == Self.bits(one), "\(name) level \(level): \(t) threads differ from 1")
                }
                setThreads(1)
            }
            _ = setISA(-1)
        }
        // The flags took effect: on a CPU with AVX2+FMA some loss's fused path differs.
        if best >= 1 { #expect(fused, "no path differs from the baseline: contraction did not happen") }
    }

    /// Multiclass rows run four at a time (`CRowGroups`) give the bits of rows run one at a
    /// time (a build with `LOSSC_NO_ROW_GROUPS`): every multiclass example and random formula,
    /// float and double, every ISA path (on x86 the AVX2 and AVX-512 copies group rows, the
    /// baseline copy does not), rows of 7, 81 and 256 classes (grouped) and 300 (not), batches
    /// that leave 1 to 3 rows after the last group.
    @Test func rowGroupsGiveTheBitsOfSingleRows() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let losses = Self.losses.filter { $0.loss.kind == .multiclass }
        let source = CEmitter.bundle(losses)
        let grouped = try CHarness.build(source, tag: "groups", compiler: cc, flags: SystemCompiler.optimizeFlags + CHarness.strictFlags)
        let single = try CHarness.build(source, tag: "single", compiler: cc,
                                        flags: SystemCompiler.optimizeFlags + CHarness.strictFlags + ["-DLOSSC_NO_ROW_GROUPS"])
        func compare<T: LossReal>(_ name: String, as: T.Type) throws {
            let a = try NativeKernel(library: grouped, prefix: name, kind: .multiclass)
            let b = try NativeKernel(library: single, prefix: name, kind: .multiclass)
            let setA = unsafeBitCast(try #require(grouped.symbol("\(name)_set_isa")), to: SetInt.self)
            let setB = unsafeBitCast(try #require(single.symbol("\(name)_set_isa")), to: SetInt.self)
            for level in 0...max(0, setA(-1)) {
                #expect(setA(Int32(level)) == level && setB(Int32(level)) == level)
                for (classes, n) in [(7, 403), (81, 202), (256, 61), (300, 17)] {
                    let batch = TestInputs.batch(.multiclass, n: n, classes: classes, seed: UInt64(classes), as: T.self)
                    let x = try #require(a.run(batch)), y = try #require(b.run(batch))
                    let same = Self.bits(x) == Self.bits(y)  // (a bare comparison would print both arrays)
                    #expect(same, "\(name) \(T.self) C=\(classes) level \(level): grouped rows differ")
                }
            }
            _ = setA(-1); _ = setB(-1)
        }
        for (_, name) in losses {
            try compare(name, as: Float.self)
            try compare(name, as: Double.self)
        }
    }

    /// The check can fail: gcc in GNU mode contracts a*b+c into FMA in the AVX2 and AVX-512
    /// copies only, so focal's paths differ there (skipped on CPUs without AVX2 or without gcc).
    @Test func contractionWouldBeCaught() throws {
        guard let gcc = SystemCompiler.named("gcc") else { return CHarness.skip("gcc not on PATH") }
        let focal = try #require(EmittedExampleTests.examples.first { $0.name == "focal" }).loss
        let lib = try CHarness.build(CEmitter.emit(focal, name: "fma").source, tag: "fma", compiler: gcc,
                                     flags: ["-O3", "-fno-math-errno", "-ffp-contract=fast", "-std=gnu99"])
        let setISA = unsafeBitCast(try #require(lib.symbol("fma_set_isa")), to: SetInt.self)
        guard setISA(-1) >= 1 else { return CHarness.skip("no AVX2+FMA on this CPU") }
        let kernel = try NativeKernel(library: lib, prefix: "fma", kind: .binary)
        let batch = TestInputs.batch(.binary, n: 4_001, seed: 3, as: Float.self)
        let fused = try #require(kernel.run(batch))
        _ = setISA(0)
        let plain = try #require(kernel.run(batch))
        #expect(Self.bits(fused) != Self.bits(plain))
        _ = setISA(-1)
    }
}
