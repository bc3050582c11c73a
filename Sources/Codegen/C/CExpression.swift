import LossDSL

/// Spells one elementwise node as a C expression over its arguments' names, reading the
/// operator table's `cSpelling`. Every node becomes `const T t<id> = <expression>;`, so
/// arguments are always names or literals and no precedence question arises.
struct CExpression {
    let graph: Graph
    let precision: CPrecision
    /// The small integer exponent of a `pow` node written as products, if it is one.
    let integerExponent: (NodeID) -> Int?
    /// The value of a node written as a literal (constants; for ranking kernels, params too).
    let literal: (NodeID) -> Double?

    /// Per-sample kernels: `fast` says whether the version being written assumes the default
    /// integer exponents of `pow`.
    init(plan: KernelPlan, precision: CPrecision, fast: Bool) {
        let graph = plan.graph
        self.graph = graph
        self.precision = precision
        integerExponent = { plan.integerExponent(of: $0, fast: fast) }
        literal = { graph.constantValue($0) }
    }

    /// A graph whose params are fixed at emission (ranking kernels): params become literals,
    /// and a `pow` whose exponent is a literal small integer becomes products.
    init(graph: Graph, params: [Double], precision: CPrecision) {
        self.graph = graph
        self.precision = precision
        let literal: (NodeID) -> Double? = { id in
            let n = graph[id]
            return n.op == .param ? params[Int(n.index)] : graph.constantValue(id)
        }
        self.literal = literal
        integerExponent = { KernelPlan.productExponent(literal(graph[$0].args[1])) }
    }

    /// The name of a node's value: a literal for constants, `t<id>` otherwise.
    func name(_ id: NodeID) -> String {
        if let c = literal(id) { return CLiteral.c(c, precision) }
        return "t\(id)"
    }

    /// The right-hand side for elementwise node `id`.
    func rhs(_ id: NodeID) -> String {
        let n = graph[id]
        let a = n.args.map(name)
        if n.op == .pow, let e = integerExponent(id) {
            return Self.integerPower(a[0], e, one: CLiteral.c(1, precision))
        }
        switch n.op.info.cSpelling {
        case .infix(let s): return "\(a[0]) \(s) \(a[1])"
        case .prefix(let s): return "\(s)\(a[0])"
        case .libm(let f): return "\(Self.mathFunction(f, precision))(\(a.joined(separator: ", ")))"
        case .helper(let h): return "lossc_\(h)\(precision.helperSuffix)(\(a.joined(separator: ", ")))"
        case .structural:
            // stop_gradient is the identity on values; the other structural operators are
            // leaves and class-axis operators, which the schedule handles before this point.
            return a.first ?? CLiteral.c(0, precision)
        }
    }

    /// The C function for a libm operator: the emitter's branch-free version where the prelude
    /// has one (so the loop vectorizes), else the C library's (`expf` / `exp`).
    static func mathFunction(_ f: String, _ p: CPrecision) -> String {
        if CPrelude.vectorizedMath.contains(f) { return "lossc_\(f)\(p.helperSuffix)" }
        return p == .f32 ? f + "f" : f
    }

    /// `a^n` for a small integer n as products (binary powering), `1/a^-n` for n < 0.
    /// pow(a, 0) is 1 even for NaN, and pow(a, 1) is a, as in C's pow.
    static func integerPower(_ a: String, _ n: Int, one: String) -> String {
        func positive(_ k: Int) -> String {
            if k == 1 { return a }
            let half = positive(k / 2)
            let square = k / 2 == 1 ? "\(a) * \(a)" : "(\(half)) * (\(half))"
            return k % 2 == 0 ? square : "(\(square)) * \(a)"
        }
        if n == 0 { return one }
        return n > 0 ? positive(n) : "\(one) / (\(positive(-n)))"
    }
}
