import LossDSL

/// How the closures compute the elementary functions.
public enum MathMode: String, Sendable, CaseIterable {
    /// The fast path: `exp`, `log`, `log1p`, `expm1`, `tanh`, `sigmoid` and `softplus` run as
    /// vectorized C block functions (a few ulps from libm), `pow` with exponent 0, ±1, 2, 3 or
    /// 1/2 becomes multiplications or a square root, and class-axis sums use four accumulators.
    case vectorized
    /// Exactly the reference evaluator's arithmetic: the same libm call per element and the
    /// same order of operations, so results are bit-identical with `ReferenceEvaluator`.
    /// Slower; for testing and for users who need libm's results.
    case libm
}

/// Builds the closure of each instruction of a `BlockProgram`, for one element type.
///
/// One exhaustive `switch` maps each operator to a loop template; the element math inside
/// each loop is the operator table's own (`Op.apply`), so nothing here restates an operator.
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
            return ClassAxisLoops.softmax(args[0], o, log: ins.op == .logSoftmax, exactOrder: exact, scratch: scratch)
        case .classReduce:
            return ClassAxisLoops.reduce(args[0], args.count > 1 ? args[1] : nil, o, exactOrder: exact, scratch: scratch)
        case .elementwise:
            break
        }
        if !exact, let fn = VectorFunction(op: ins.op) {
            return Loops.vectorFunction(fn, args[0], o, vector: vector, scratch: scratch)
        }
        if !exact, ins.op == .pow, case .constant(let e) = args[1], let special = power(args[0], e, o, vector) {
            return special
        }
        return elementwise(ins.op, args, o, vector)
    }

    /// `pow(a, e)` for exponents whose result needs no libm call (exact special cases agree
    /// with C99 pow: pow(NaN, 0) = 1, pow(-0, 1/2) = +0, pow(-inf, 1/2) = +inf).
    private func power(_ a: BlockArg<T>, _ e: T, _ o: Int, _ vector: Bool) -> BlockOp<T>? {
        let s = scratch
        switch e {
        case 0: return Loops.unary(a, o, vector: vector, scratch: s) { _ in 1 }
        case 1: return Loops.unary(a, o, vector: vector, scratch: s) { $0 }
        case 2: return Loops.unary(a, o, vector: vector, scratch: s) { $0 * $0 }
        case 3: return Loops.unary(a, o, vector: vector, scratch: s) { $0 * $0 * $0 }
        case -1: return Loops.unary(a, o, vector: vector, scratch: s) { 1 / $0 }
        case 0.5: return Loops.unary(a, o, vector: vector, scratch: s) { $0 == -T.infinity ? T.infinity : $0.squareRoot() + 0 }
        default: return nil
        }
    }

    /// The loop of an elementwise operator, with the table's math inlined into it.
    private func elementwise(_ op: Op, _ a: [BlockArg<T>], _ o: Int, _ v: Bool) -> BlockOp<T> {
        let s = scratch
        func u(_ f: @escaping @Sendable (T) -> T) -> BlockOp<T> { Loops.unary(a[0], o, vector: v, scratch: s, f) }
        func b(_ f: @escaping @Sendable (T, T) -> T) -> BlockOp<T> { Loops.binary(a[0], a[1], o, vector: v, scratch: s, f) }
        switch op {
        case .neg: return u { Op.neg.apply($0) }
        case .exp: return u { Op.exp.apply($0) }
        case .log: return u { Op.log.apply($0) }
        case .abs: return u { Op.abs.apply($0) }
        case .sqrt: return u { Op.sqrt.apply($0) }
        case .softplus: return u { Op.softplus.apply($0) }
        case .sigmoid: return u { Op.sigmoid.apply($0) }
        case .tanh: return u { Op.tanh.apply($0) }
        case .sin: return u { Op.sin.apply($0) }
        case .cos: return u { Op.cos.apply($0) }
        case .relu: return u { Op.relu.apply($0) }
        case .scaledGD: return u { Op.scaledGD.apply($0) }
        case .scaledALF: return u { Op.scaledALF.apply($0) }
        case .scaledERF: return u { Op.scaledERF.apply($0) }
        case .scaledERFC: return u { Op.scaledERFC.apply($0) }
        case .log1p: return u { Op.log1p.apply($0) }
        case .expm1: return u { Op.expm1.apply($0) }
        case .sign: return u { Op.sign.apply($0) }
        case .step: return u { Op.step.apply($0) }
        case .cosh: return u { Op.cosh.apply($0) }
        case .stopGradient: return u { Op.stopGradient.apply($0) }
        case .add: return b { Op.add.apply($0, $1) }
        case .sub: return b { Op.sub.apply($0, $1) }
        case .mul: return b { Op.mul.apply($0, $1) }
        case .div: return b { Op.div.apply($0, $1) }
        case .pow: return b { Op.pow.apply($0, $1) }
        case .min: return b { Op.min.apply($0, $1) }
        case .max: return b { Op.max.apply($0, $1) }
        case .select:
            return Loops.ternary(a[0], a[1], a[2], o, vector: v, scratch: s) { Op.select.apply($0, $1, $2) }
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum:
            // Leaves and class-axis operators never reach here (the scheduler and `closure`
            // handle them); NaN keeps this total without trapping.
            return Loops.general(a, o, vector: v, scratch: s) { _, _, _ in .nan }
        }
    }
}
