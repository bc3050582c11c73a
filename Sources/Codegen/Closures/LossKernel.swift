import Foundation
import LossDSL

/// A loss compiled to Swift closures: the fast in-process way to evaluate a loss, its
/// per-sample values and its gradient on whole batches.
///
/// ```swift
/// let focal = try LossKernel<Float>(file: "examples/focal.loss", params: ["gamma": 2])
/// let r = try focal.evaluate(x: logits, y: labels, gradient: true)
/// print(r.value)                     // mean focal loss
/// let dx = r.gradient!               // d mean / d logit, one per element
/// ```
///
/// The loss's value and gradient graphs are scheduled once into flat programs
/// (`BlockProgram`); each instruction becomes a closure specialized for its operator, its
/// argument kinds and the element type, that runs over a block of samples, so dispatch is
/// paid once per block rather than once per element. Exp/log-like operators call vectorized
/// C block functions (`MathMode.vectorized`), or the same libm functions as the reference
/// evaluator (`MathMode.libm`, bit-identical with it).
///
/// A kernel is immutable and may be called from several threads at once. Each call takes a
/// `Workspace` from an internal pool (or uses the one you pass), so calls in a steady state
/// allocate nothing beyond the arrays the array-returning overloads give back.
public final class LossKernel<T: BlockReal>: Sendable {
    /// The compiled loss the kernel evaluates.
    public let loss: CompiledLoss
    /// How elementary functions are computed.
    public let math: MathMode
    private let valueEngine: Engine<T>
    private let gradientEngine: Engine<T>
    private let pool = WorkspacePool<T>()

    /// Samples per block (multiclass: elements, i.e. rows × classes, per block). Measured with
    /// `lossc bench closures` (closures / best hand-written Swift, three runs each, 2-core
    /// Zen 4 VM): 8192 gives focal 1.46–1.52x, BCE 1.44–1.49x, cross-entropy 1.50–1.52x, GIoU
    /// 1.50–1.63x; 4096 gives 1.54–1.56x, 1.47–1.51x, 1.56–1.59x, 1.50–1.60x; 1024 and 2048 are
    /// worse (the per-block cost of calling every instruction's closure), 16384 no better.
    static var blockElements: Int { 8192 }

    /// The loss's kind, which fixes the `evaluate` overload to call.
    public var kind: LossKind { loss.kind }
    /// The program of the loss alone (used when no gradient is asked for).
    public var valueProgram: BlockProgram { valueEngine.program }
    /// The program of the loss and its gradient.
    public var gradientProgram: BlockProgram { gradientEngine.program }

    /// Compiles an already compiled loss (its params are the formula's current values).
    public convenience init(compiled: CompiledLoss, math: MathMode = .vectorized) throws(KernelError) {
        try self.init(compiled: compiled, math: math, blockElements: Self.blockElements)
    }

    /// `blockElements`: samples per block (multiclass: elements per block); tests use small
    /// blocks to run many blocks on little data.
    init(compiled: CompiledLoss, math: MathMode, blockElements: Int) throws(KernelError) {
        guard compiled.kind.isSupported else {
            throw KernelError("'\(compiled.formula.name)' is a \(compiled.kind.rawValue) loss; the closure backend supports binary, multiclass and box losses")
        }
        loss = compiled
        self.math = math
        func program(_ roots: [NodeID]) -> BlockProgram {
            let lowered = BlockLowering.lower(compiled, roots: roots, mode: math, as: T.self)
            return BlockProgram(graph: lowered.graph, roots: lowered.roots, params: [], kind: compiled.kind, as: T.self)
        }
        let value = program([compiled.value]), full = program([compiled.value] + compiled.gradient)
        valueEngine = Engine.make(value, mode: math, blockElements: blockElements)
        gradientEngine = Engine.make(full, mode: math, blockElements: blockElements)
    }

    /// Compiles a parsed formula.
    public convenience init(formula: Formula, options: CompileOptions = CompileOptions(), math: MathMode = .vectorized) throws(KernelError) {
        try self.init(compiled: CompiledLoss.compile(formula, options: options), math: math)
    }

    /// Parses and compiles loss source text. `params` overrides the file's defaults by name.
    /// Throws `DiagnosticError` (its `render()` is what `lossc` prints) for a bad formula.
    public convenience init(source: String, path: String = "<string>", params: [String: Double] = [:],
                            options: CompileOptions = CompileOptions(), math: MathMode = .vectorized) throws {
        try self.init(formula: Formula.parse(source, path: path, params: params), options: options, math: math)
    }

    /// Reads, parses and compiles a `.loss` file. Throws `KernelError` when the file cannot be
    /// read and `DiagnosticError` for a bad formula.
    public convenience init(file path: String, params: [String: Double] = [:], options: CompileOptions = CompileOptions(),
                            math: MathMode = .vectorized) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("cannot read '\(path)'") }
        let formula = try Formula.parse(SourceFile(path: path, bytes: [UInt8](data)), params: params)
        try self.init(formula: formula, options: options, math: math)
    }

    // MARK: binary and multiclass

    /// Evaluates a binary or multiclass loss on arrays.
    ///
    /// - Parameters:
    ///   - x: the logits: one per sample (binary), or `classes` per sample, row-major (multiclass).
    ///   - y: the labels, shaped like `x` (multiclass: one-hot rows).
    ///   - w: one IoU / quality per sample, or nil for 1.
    ///   - classes: the number of classes of a multiclass loss; nil (or 1) for binary.
    ///   - reduction: mean or sum of the per-sample losses.
    ///   - perElement: also return each sample's loss.
    ///   - gradient: also return the gradient of the reduced loss with respect to `x`.
    public func evaluate(x: [T], y: [T], w: [T]? = nil, classes: Int? = nil, reduction: Reduction = .mean,
                         perElement: Bool = false, gradient: Bool = false) throws(KernelError) -> LossResult<T> {
        let (n, c) = try classificationShape(x: x.count, y: y.count, w: w?.count, classes: classes)
        var pe = perElement ? [T](repeating: 0, count: n) : nil
        var g = gradient ? [T](repeating: 0, count: n * c) : nil
        var sum = 0.0
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in
                withOptional(w) { wb in
                    withOptionalMutable(&pe) { peb in
                        withOptionalMutable(&g) { gb in
                            sum = run(CallBuffers(count: n, classes: c, x: xb.baseAddress, y: yb.baseAddress, w: wb?.baseAddress,
                                                  perElement: peb?.baseAddress, gradient: gb?.baseAddress,
                                                  gradientDivisor: reduction == .mean ? T(n) : nil), workspace: nil)
                        }
                    }
                }
            }
        }
        return LossResult(value: reduce(sum, n, reduction), count: n, perElement: pe, gradient: g)
    }

    /// Evaluates a binary or multiclass loss on buffers, without copying or allocating.
    ///
    /// Sizes as in `evaluate(x:y:w:classes:reduction:perElement:gradient:)`; `perElement`
    /// holds one value per sample and `gradient` as many as `x`. Output buffers must not
    /// overlap the inputs. Pass a `workspace` to use your own memory (one per thread);
    /// without one the kernel uses its pool. Returns the reduced loss.
    @discardableResult
    public func evaluate(x: UnsafeBufferPointer<T>, y: UnsafeBufferPointer<T>, w: UnsafeBufferPointer<T>? = nil,
                         classes: Int? = nil, reduction: Reduction = .mean,
                         perElement: UnsafeMutableBufferPointer<T>? = nil, gradient: UnsafeMutableBufferPointer<T>? = nil,
                         workspace: Workspace<T>? = nil) throws(KernelError) -> T {
        let (n, c) = try classificationShape(x: x.count, y: y.count, w: w?.count, classes: classes)
        try expect(perElement == nil || perElement?.count == n, "perElement has \(perElement?.count ?? 0) slots for \(n) samples")
        try expect(gradient == nil || gradient?.count == n * c, "gradient has \(gradient?.count ?? 0) slots for \(n * c) logits")
        let sum = run(CallBuffers(count: n, classes: c, x: x.baseAddress, y: y.baseAddress, w: w?.baseAddress,
                                  perElement: perElement?.baseAddress, gradient: gradient?.baseAddress,
                                  gradientDivisor: reduction == .mean ? T(n) : nil), workspace: workspace)
        return reduce(sum, n, reduction)
    }

    // MARK: box

    /// Evaluates a box loss on arrays of boxes, four coordinates `x1, y1, x2, y2` per box.
    ///
    /// - Parameters:
    ///   - predicted: the predicted boxes, `4 n` values.
    ///   - target: the target boxes, `4 n` values.
    ///   - gradient: also return the gradient of the reduced loss with respect to the
    ///     predicted coordinates, `4 n` values in the same layout.
    public func evaluate(predicted: [T], target: [T], reduction: Reduction = .mean,
                         perElement: Bool = false, gradient: Bool = false) throws(KernelError) -> LossResult<T> {
        let n = try boxShape(predicted: predicted.count, target: target.count)
        var pe = perElement ? [T](repeating: 0, count: n) : nil
        var g = gradient ? [T](repeating: 0, count: n * 4) : nil
        var sum = 0.0
        predicted.withUnsafeBufferPointer { pb in
            target.withUnsafeBufferPointer { tb in
                withOptionalMutable(&pe) { peb in
                    withOptionalMutable(&g) { gb in
                        sum = run(CallBuffers(count: n, classes: 1, x: pb.baseAddress, y: tb.baseAddress, w: nil,
                                              perElement: peb?.baseAddress, gradient: gb?.baseAddress,
                                              gradientDivisor: reduction == .mean ? T(n) : nil), workspace: nil)
                    }
                }
            }
        }
        return LossResult(value: reduce(sum, n, reduction), count: n, perElement: pe, gradient: g)
    }

    /// Evaluates a box loss on buffers, without copying or allocating (see the array overload
    /// for the layout). Returns the reduced loss.
    @discardableResult
    public func evaluate(predicted: UnsafeBufferPointer<T>, target: UnsafeBufferPointer<T>, reduction: Reduction = .mean,
                         perElement: UnsafeMutableBufferPointer<T>? = nil, gradient: UnsafeMutableBufferPointer<T>? = nil,
                         workspace: Workspace<T>? = nil) throws(KernelError) -> T {
        let n = try boxShape(predicted: predicted.count, target: target.count)
        try expect(perElement == nil || perElement?.count == n, "perElement has \(perElement?.count ?? 0) slots for \(n) boxes")
        try expect(gradient == nil || gradient?.count == n * 4, "gradient has \(gradient?.count ?? 0) slots for \(n * 4) coordinates")
        let sum = run(CallBuffers(count: n, classes: 1, x: predicted.baseAddress, y: target.baseAddress, w: nil,
                                  perElement: perElement?.baseAddress, gradient: gradient?.baseAddress,
                                  gradientDivisor: reduction == .mean ? T(n) : nil), workspace: workspace)
        return reduce(sum, n, reduction)
    }

    // MARK: internals

    private func run(_ call: CallBuffers<T>, workspace: Workspace<T>?) -> Double {
        let engine = call.gradient == nil ? valueEngine : gradientEngine
        if let workspace { return engine.run(call, workspace) }
        let ws = pool.take()
        defer { pool.give(ws) }
        return engine.run(call, ws)
    }

    private func reduce(_ sum: Double, _ n: Int, _ r: Reduction) -> T {
        r == .mean ? T(sum / Double(n)) : T(sum)
    }

    private func expect(_ ok: Bool, _ message: @autoclosure () -> String) throws(KernelError) {
        if !ok { throw KernelError(message()) }
    }

    /// The sample count and classes of a binary or multiclass call, or why the call is wrong.
    private func classificationShape(x: Int, y: Int, w: Int?, classes: Int?) throws(KernelError) -> (Int, Int) {
        let c: Int
        switch kind {
        case .binary:
            try expect(classes == nil || classes == 1, "'\(loss.formula.name)' is a binary loss: it has no classes (got classes: \(classes ?? 0))")
            c = 1
        case .multiclass:
            guard let classes, classes >= 1 else {
                throw KernelError("'\(loss.formula.name)' is a multiclass loss: pass classes: (at least 1)")
            }
            c = classes
        default:
            throw KernelError("'\(loss.formula.name)' is a \(kind.rawValue) loss: call evaluate(predicted:target:)")
        }
        try expect(x % c == 0, "x has \(x) values, not a whole number of rows of \(c) classes")
        try expect(y == x, "y has \(y) values but x has \(x)")
        try expect(w == nil || w == x / c, "w has \(w ?? 0) values for \(x / c) samples")
        return (x / c, c)
    }

    private func boxShape(predicted: Int, target: Int) throws(KernelError) -> Int {
        try expect(kind == .box, "'\(loss.formula.name)' is a \(kind.rawValue) loss: call evaluate(x:y:w:)")
        try expect(predicted % 4 == 0, "predicted has \(predicted) values, not 4 per box")
        try expect(target == predicted, "target has \(target) values but predicted has \(predicted)")
        return predicted / 4
    }
}

/// Calls `body` with the array's buffer, or nil.
private func withOptional<T, R>(_ a: [T]?, _ body: (UnsafeBufferPointer<T>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0) }
}

/// Calls `body` with the array's mutable buffer, or nil.
private func withOptionalMutable<T, R>(_ a: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) -> R) -> R {
    a?.withUnsafeMutableBufferPointer { body($0) } ?? body(nil)
}
