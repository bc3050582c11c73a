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
            let log = ins.op == .logSoftmax ? o : ins.logSoftmaxDest
            return ClassAxisLoops.softmax(args[0], soft: ins.op == .softmax ? o : nil, log: log, exactOrder: exact, scratch: scratch)
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

    /// `pow(a, e)` for exponents whose result needs no libm call (see `PowTwoOp` and friends).
    private func power(_ a: BlockArg<T>, _ e: T, _ o: Int, _ vector: Bool) -> BlockOp<T>? {
        let s = scratch
        switch e {
        case 0: return Loops.unary(PowZeroOp.self, a, o, vector: vector, scratch: s)
        case 1: return Loops.unary(PowOneOp.self, a, o, vector: vector, scratch: s)
        case 2: return Loops.unary(PowTwoOp.self, a, o, vector: vector, scratch: s)
        case 3: return Loops.unary(PowThreeOp.self, a, o, vector: vector, scratch: s)
        case -1: return Loops.unary(PowMinusOneOp.self, a, o, vector: vector, scratch: s)
        case 0.5: return Loops.unary(PowHalfOp.self, a, o, vector: vector, scratch: s)
        default: return nil
        }
    }

    /// The loop of an elementwise operator, with the table's math inlined into it.
    private func elementwise(_ op: Op, _ a: [BlockArg<T>], _ o: Int, _ v: Bool) -> BlockOp<T> {
        let s = scratch
        func u<F: ElementOp>(_ f: F.Type) -> BlockOp<T> { Loops.unary(f, a[0], o, vector: v, scratch: s) }
        func b<F: ElementOp>(_ f: F.Type) -> BlockOp<T> { Loops.binary(f, a[0], a[1], o, vector: v, scratch: s) }
        switch op {
        case .neg: return u(NegOp.self)
        case .exp: return u(ExpOp.self)
        case .log: return u(LogOp.self)
        case .abs: return u(AbsOp.self)
        case .sqrt: return u(SqrtOp.self)
        case .softplus: return u(SoftplusOp.self)
        case .sigmoid: return u(SigmoidOp.self)
        case .tanh: return u(TanhOp.self)
        case .sin: return u(SinOp.self)
        case .cos: return u(CosOp.self)
        case .relu: return u(ReluOp.self)
        case .scaledGD: return u(ScaledGDOp.self)
        case .scaledALF: return u(ScaledALFOp.self)
        case .scaledERF: return u(ScaledERFOp.self)
        case .scaledERFC: return u(ScaledERFCOp.self)
        case .log1p: return u(Log1pOp.self)
        case .expm1: return u(Expm1Op.self)
        case .sign: return u(SignOp.self)
        case .step: return u(StepOp.self)
        case .cosh: return u(CoshOp.self)
        case .stopGradient: return u(StopGradientOp.self)
        case .add: return b(AddOp.self)
        case .sub: return b(SubOp.self)
        case .mul: return b(MulOp.self)
        case .div: return b(DivOp.self)
        case .pow: return b(PowOp.self)
        case .min: return b(MinOp.self)
        case .max: return b(MaxOp.self)
        case .select: return Loops.general(SelectOp.self, a, o, vector: v, scratch: s)
        case .constant, .input, .param, .softmax, .logSoftmax, .dot, .sum:
            // Leaves and class-axis operators never reach here (the scheduler and `closure`
            // handle them); NaN keeps this total without trapping.
            return Loops.general(NaNOp.self, a, o, vector: v, scratch: s)
        }
    }
}
