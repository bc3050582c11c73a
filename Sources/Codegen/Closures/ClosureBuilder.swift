import LossDSL

/// How the closures compute the elementary functions.
public enum MathMode: String, Sendable, CaseIterable {
    /// The fast path: `exp`, `log`, `log1p`, `expm1`, `tanh`, `sigmoid` and `softplus` run as
    /// vectorized C block functions (a few ulps from libm), `pow` with exponent 0, ±1, 2, 3 or
    /// 1/2 becomes multiplications or a square root, and class-axis sums use four accumulators.
    /// (Fusion, register reuse and the shared exp of sigmoid/softplus are exact: both modes.)
    case vectorized
    /// Exactly the reference evaluator's arithmetic: the same libm call per element and the
    /// same order of operations, so results are bit-identical with `ReferenceEvaluator`.
    /// Slower; for testing and for users who need libm's results.
    case libm
}

/// Builds the closure of each instruction of a `BlockProgram`, for one element type.
///
/// The operator table's one dispatch (`Op.withElementFunction`) hands each loop template the
/// operator's own element function (`OpMath`), so nothing here lists or restates an operator.
/// The vector C function an operator uses is read from its C spelling (`VectorFunction`).
struct ClosureBuilder<T: BlockReal> {
    let program: BlockProgram
    let mode: MathMode
    /// The first scratch register (after the program's registers; see `Workspace`).
    var scratch: Int { program.registerCount }
    /// Scratch registers the closures may use.
    static var scratchCount: Int { 4 }

    func build() -> [BlockOp<T>] { program.instructions.map(closure) }

    func closure(_ ins: BlockProgram.Instruction) -> BlockOp<T> {
        let vector = program.registerShapes[ins.dest] == .classVector
        let args = ins.args.map { a -> BlockArg<T> in
            switch a {
            case .constant(let c): return .constant(T(c))
            case .register(let r): return vector && program.registerShapes[r] == .scalar ? .row(r) : .full(r)
            }
        }
        let o = ins.dest, exact = mode == .libm
        switch ins.op.shapeRule {
        case .classMap:
            let log = ins.op == .logSoftmax ? o : ins.logSoftmaxDest
            return ClassAxisLoops.softmax(args[0], soft: ins.op == .softmax ? o : nil, log: log, exactOrder: exact, scratch: scratch)
        case .classReduce:
            return ClassAxisLoops.reduce(args[0], args.count > 1 ? args[1] : nil, o, exactOrder: exact, scratch: scratch)
        case .elementwise:
            break
        }
        if let inner = ins.inner {
            // The scheduler only fuses cheap operators with all arguments in registers.
            return fused(ins, inner: inner, vector) ?? Loops.general(NaNOp.self, args, o, vector: vector, scratch: scratch)
        }
        if !exact, let fn = VectorFunction(op: ins.op) {
            return Loops.vectorFunction(fn, args[0], o, vector: vector, scratch: scratch)
        }
        if !exact, ins.op == .pow, case .constant(let e) = args[1], let special = power(args[0], e, o, vector) {
            return special
        }
        return elementwise(ins.op, args, o, vector)
    }

    /// `pow(a, e)` for the exponents the lowering leaves (1/2; see `PowHalfOp`).
    private func power(_ a: BlockArg<T>, _ e: T, _ o: Int, _ vector: Bool) -> BlockOp<T>? {
        e == 0.5 ? Loops.unary(PowHalfOp.self, a, o, vector: vector, scratch: scratch) : nil
    }

    /// The loop of an elementwise operator, with the table's math inlined into it.
    private func elementwise(_ op: Op, _ a: [BlockArg<T>], _ o: Int, _ v: Bool) -> BlockOp<T> {
        ElementOps.visit(op, Single(args: a, o: o, vector: v, scratch: scratch))
    }

    /// A fused pair: every argument is a register (the scheduler puts constants in constant
    /// registers), the inner operator's arguments first.
    private func fused(_ ins: BlockProgram.Instruction, inner: Op, _ vector: Bool) -> BlockOp<T>? {
        let regs = ins.args.compactMap { a -> Int? in if case .register(let r) = a { r } else { nil } }
        guard regs.count == ins.args.count, !regs.isEmpty else { return nil }
        let k = min(inner.arity, regs.count)
        let p = (regs[0], k > 1 ? regs[1] : regs[0], k > 2 ? regs[2] : regs[0], regs.count > k ? regs[k] : regs[0])
        let outer = Outer<T>(inner: inner, second: ins.innerPosition == 1, p: p, o: ins.dest, vector: vector)
        return ElementOps.fusable(ins.op, outer) ?? nil
    }

    private struct Single: ElementOpVisitor {
        let args: [BlockArg<T>], o: Int, vector: Bool, scratch: Int
        func visit<F: ElementOp>(_ f: F.Type) -> BlockOp<T> {
            switch args.count {
            case 1: return Loops.unary(f, args[0], o, vector: vector, scratch: scratch)
            case 2: return Loops.binary(f, args[0], args[1], o, vector: vector, scratch: scratch)
            default: return Loops.general(f, args, o, vector: vector, scratch: scratch)
            }
        }
    }

    private struct Outer<U: BlockReal>: ElementOpVisitor {
        let inner: Op, second: Bool, p: (Int, Int, Int, Int), o: Int, vector: Bool
        func visit<F: ElementOp>(_: F.Type) -> BlockOp<U>? {
            ElementOps.fusable(inner, Inner<U, F>(second: second, p: p, o: o, vector: vector))
        }
    }

    private struct Inner<U: BlockReal, OuterOp: ElementOp>: ElementOpVisitor {
        let second: Bool, p: (Int, Int, Int, Int), o: Int, vector: Bool
        func visit<F: ElementOp>(_: F.Type) -> BlockOp<U> {
            second ? Loops.fused(FuseSecond<F, OuterOp>.self, p, o, vector: vector)
                : Loops.fused(FuseFirst<F, OuterOp>.self, p, o, vector: vector)
        }
    }
}
