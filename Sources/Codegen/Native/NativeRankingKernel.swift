import Foundation
import LossDSL
import LossRanking

/// An emitted ranking kernel (`CRankingEmitter`) built with the system compiler and loaded
/// with `dlopen`: the C backend of ranking losses, callable from Swift (`lossc bench ranking`,
/// the tests). It calls the `_ws` entries with one workspace, so its memory is reused from
/// call to call: not thread-safe, one kernel per thread (as `RankingKernel`).
public final class NativeRankingKernel {
    /// The loaded library (kept open as long as the kernel lives).
    public let library: NativeLibrary
    /// Whether the loss's gradient reaches u (else `du` is nil, as `RankingKernel` returns).
    public let reachesU: Bool
    private let f32: UnsafeMutableRawPointer, f64: UnsafeMutableRawPointer
    private let workspace: UnsafeMutableRawPointer?
    private let freeWorkspace: UnsafeMutableRawPointer

    typealias EntryF = @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                       UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Double
    typealias EntryD = @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafePointer<Double>?, UnsafePointer<Double>?, UnsafePointer<Double>?,
                                       UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?) -> Double

    /// The kernels of `prefix` in a loaded library.
    public init(library: NativeLibrary, prefix: String, reachesU: Bool) throws(NativeError) {
        guard let a = library.symbol("\(prefix)_f32_ws"), let b = library.symbol("\(prefix)_f64_ws"),
              let new = library.symbol("\(prefix)_workspace_new"), let free = library.symbol("\(prefix)_workspace_free") else {
            throw NativeError(message: "\(library.path) has no \(prefix)_f32_ws / \(prefix)_f64_ws / \(prefix)_workspace_new")
        }
        self.library = library
        self.reachesU = reachesU
        f32 = a; f64 = b; freeWorkspace = free
        // NULL (out of memory) is fine: the _ws entries then allocate per call.
        workspace = unsafeBitCast(new, to: (@convention(c) () -> UnsafeMutableRawPointer?).self)()
    }

    deinit { unsafeBitCast(freeWorkspace, to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)(workspace) }

    /// The loss of a batch and its gradient (`gradient` false: the value only, with `ds` empty and
    /// `du` nil; the C code then skips its reverse pass). The loss is NaN when the C code's memory runs out.
    public func evaluate<T: LossReal>(_ batch: RankingBatch<T>, gradient: Bool = true) -> RankingResult<T> {
        var ds = [T](repeating: 0, count: gradient ? batch.count : 0)
        var du = [T](repeating: 0, count: gradient && reachesU ? batch.count : 0)
        let n = Int64(batch.count)
        let loss: Double = batch.s.withUnsafeBufferPointer { s in
            batch.y.withUnsafeBufferPointer { y in
                batch.u.withUnsafeBufferPointer { u in
                    ds.withUnsafeMutableBufferPointer { gs in
                        du.withUnsafeMutableBufferPointer { gu in
                            let gsp = gradient ? gs.baseAddress : nil, gup = gradient && reachesU ? gu.baseAddress : nil
                            if T.self == Float.self {
                                let fn = unsafeBitCast(f32, to: EntryF.self)
                                return fn(workspace, n, rebound(s.baseAddress), rebound(y.baseAddress), rebound(u.baseAddress), rebound(gsp), rebound(gup))
                            }
                            let fn = unsafeBitCast(f64, to: EntryD.self)
                            return fn(workspace, n, rebound(s.baseAddress), rebound(y.baseAddress), rebound(u.baseAddress), rebound(gsp), rebound(gup))
                        }
                    }
                }
            }
        }
        return RankingResult(loss: T(loss), ds: ds, du: reachesU && gradient ? du : nil)
    }
}

/// A typed pointer of a generic buffer as the concrete type the caller checked `T` to be.
private func rebound<T, U>(_ p: UnsafePointer<T>?) -> UnsafePointer<U>? { p.map { UnsafeRawPointer($0).assumingMemoryBound(to: U.self) } }
private func rebound<T, U>(_ p: UnsafeMutablePointer<T>?) -> UnsafeMutablePointer<U>? {
    p.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: U.self) }
}

extension NativeLoader {
    /// The emitted C of a ranking loss, built (or found in the cache) and loaded.
    public func loadRanking(_ f: RankingFormula, name: String? = nil) throws(NativeError) -> NativeRankingKernel {
        let plan = RankingPlan(f)
        let source = try Self.emitRanking(plan, name: name)
        return try NativeRankingKernel(library: try cachedLibrary(source.source), prefix: source.prefix,
                                       reachesU: plan.derivatives.reachesU)
    }

    /// Builds a shared library of a ranking loss at `output` (`lossc build`); returns the emitted pair.
    @discardableResult
    public func buildRankingLibrary(_ f: RankingFormula, name: String? = nil, output: String, command: String? = nil) throws(NativeError) -> CSource {
        let source = try Self.emitRanking(RankingPlan(f), name: name, command: command)
        try build(source.source, compiler: try requireCompiler(), to: output, keepSourceAs: nil)
        return source
    }

    /// The emitted C, with an unsupported construct as a `NativeError`.
    static func emitRanking(_ plan: RankingPlan, name: String?, command: String? = nil) throws(NativeError) -> CSource {
        do { return try CRankingEmitter.emit(plan, name: name, command: command) } catch { throw NativeError(message: error.message) }
    }
}
