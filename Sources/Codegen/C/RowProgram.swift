import LossDSL

/// The schedule of one row (one sample) of a `multiclass` loss: per-row scalars, and passes
/// over the class axis that stream the class vectors instead of storing them.
///
/// Every class-vector node is a function of the inputs at class k and of per-row scalars, so
/// it is recomputed at k in each pass that needs it (no per-row scratch of C values):
/// `softmax(a)` at k is `exp(a_k - m) / s` and `log_softmax(a)` is `(a_k - m) - log s`, where
/// the row statistics m (the max of a, 0 if not finite) and s (the sum of `exp(a_k - m)`) come
/// from two earlier passes. A reduction (`dot`, `sum`) is a pass of its own level. Pass L
/// computes every statistic of level L at once; the scalars that depend on them follow it.
public struct RowProgram: Sendable {
    /// A per-row statistic computed by a pass over the classes.
    /// `softmax(a)` and `log_softmax(a)` of the same `a` share its statistics.
    public enum Stat: Sendable, Hashable {
        /// The max over classes of node a (the argument of a class map), 0 if not finite.
        case max(NodeID)
        /// The sum over classes of `exp(a_k - max)`.
        case sumExp(NodeID)
        /// The value of a `dot` or `sum` node.
        case reduce(NodeID)
    }

    /// One loop over the classes.
    public struct Pass: Sendable {
        public var stats: [Stat] = []
        /// Class-vector nodes evaluated at each class, in id order.
        public var vectorNodes: [NodeID] = []
        /// Per-row scalar nodes computable once this pass is done, in id order.
        public var scalarsAfter: [NodeID] = []
        /// Class-map arguments whose `log s` is taken after this pass (for `log_softmax`).
        public var logSums: [NodeID] = []
    }

    /// Per-row scalars that need no pass (from `w` and invariants), in id order.
    public var scalarsBefore: [NodeID] = []
    public var passes: [Pass] = []
    /// Class-vector roots written out per class, and the nodes they need, in id order.
    public var outputNodes: [NodeID] = []
    /// The pass that also writes the class-vector output (the first one after every statistic
    /// the output needs), or nil when the output needs all of them and gets a pass of its own.
    public var outputPass: Int?

    public init(plan: KernelPlan, roots: [NodeID]) {
        let g = plan.graph
        let live = g.reachable(from: roots)
        var level = [Int](repeating: 0, count: g.count)
        var statsAt: [Int: [Stat]] = [:]
        var scalarsAt: [Int: [NodeID]] = [:]
        var logSumsAt: [Int: [NodeID]] = [:]
        for i in 0..<g.count where live[i] && !plan.isInvariant[i] {
            let n = g.nodes[i], id = NodeID(i)
            let argLevel = n.args.map { level[Int($0)] }.max() ?? 0
            switch n.op.shapeRule {
            case .classMap:
                level[i] = argLevel + 2
                let a = n.args[0]
                if !statsAt[argLevel + 1, default: []].contains(.max(a)) {
                    statsAt[argLevel + 1, default: []].append(.max(a))
                    statsAt[argLevel + 2, default: []].append(.sumExp(a))
                }
                if n.op == .logSoftmax, !logSumsAt[argLevel + 2, default: []].contains(a) {
                    logSumsAt[argLevel + 2, default: []].append(a)
                }
            case .classReduce:
                level[i] = argLevel + 1
                statsAt[argLevel + 1, default: []].append(.reduce(id))
            case .elementwise:
                level[i] = argLevel
                if g.shapes[i] == .scalar { scalarsAt[argLevel, default: []].append(id) }
            }
        }
        scalarsBefore = scalarsAt[0] ?? []
        let depth = statsAt.keys.max() ?? 0
        for l in stride(from: 1, through: depth, by: 1) {
            var pass = Pass()
            pass.stats = statsAt[l] ?? []
            var operands: [NodeID] = []
            for s in pass.stats {
                switch s {
                case .max(let a), .sumExp(let a): operands.append(a)
                case .reduce(let r): operands += g[r].args
                }
            }
            pass.vectorNodes = Self.vectorClosure(plan, operands)
            pass.scalarsAfter = scalarsAt[l] ?? []
            pass.logSums = logSumsAt[l] ?? []
            passes.append(pass)
        }
        outputNodes = Self.vectorClosure(plan, roots.filter { g.shapes[Int($0)] == .classVector })
        // Pass L (index L - 1) has every statistic of level < L; the output fits in the first
        // pass past the levels its nodes (and their per-row scalars) depend on.
        if !outputNodes.isEmpty {
            var need = 0
            for id in outputNodes { for a in g[id].args { need = max(need, level[Int(a)]) }; need = max(need, level[Int(id)]) }
            if need < passes.count { outputPass = need }
        }
    }

    /// The class-vector nodes needed to evaluate `operands` at one class, in id order:
    /// a walk through class-vector arguments (and class-map nodes' arguments) that stops at
    /// scalars, which are per-row values computed before the pass.
    /// With `cachedSoftmax`, a softmax reads its cached exponentials, not its argument.
    static func vectorClosure(_ plan: KernelPlan, _ operands: [NodeID], cachedSoftmax: Bool = false) -> [NodeID] {
        let g = plan.graph
        var seen = Set<NodeID>()
        var stack = operands.filter { g.shapes[Int($0)] == .classVector }
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            if cachedSoftmax, g[id].op == .softmax { continue }
            for a in g[id].args where g.shapes[Int(a)] == .classVector { stack.append(a) }
        }
        return seen.sorted()
    }
}
