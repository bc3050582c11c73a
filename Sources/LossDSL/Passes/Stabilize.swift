/// Stabilization: rewrites that keep values finite where exact math is finite, in the
/// spirit of PyTensor's `stabilize` phase. Each rule is one entry of `Stabilize.rules`,
/// tried on every node after its arguments are rewritten, until none applies.
public enum Stabilize {
    /// One rewrite rule: `apply` returns the replacement for node `n`, or nil.
    public struct Rule: Sendable {
        public let name: String
        /// The operators of the nodes the rule can rewrite (`before`'s outermost operator): the
        /// pass tries a rule only on those, instead of calling every rule on every node.
        public let on: [Op]
        public let before: String
        public let after: String
        let apply: @Sendable (inout Graph, NodeID) -> NodeID?
    }

    /// For each operator (by raw value), the rules that can rewrite its nodes, in table order.
    static let rulesByOp: [[Rule]] = Op.allCases.map { op in rules.filter { $0.on.contains(op) } }

    /// The rule table.
    public static let rules: [Rule] = [
        Rule(name: "log-sigmoid", on: [.log], before: "log(sigmoid(a))", after: "-softplus(-a)") { g, n in
            guard let s = g.match(n, .log), let a = g.match(s, .sigmoid) else { return nil }
            return g.make(.neg, g.make(.softplus, g.make(.neg, a)))
        },
        Rule(name: "one-minus-sigmoid", on: [.sub], before: "1 - sigmoid(a)", after: "sigmoid(-a)  (so log(1 - sigmoid(a)) -> -softplus(a))") { g, n in
            guard g[n].op == .sub, g.constantValue(g[n].args[0]) == 1, let a = g.match(g[n].args[1], .sigmoid) else { return nil }
            return g.make(.sigmoid, g.make(.neg, a))
        },
        Rule(name: "log-softmax", on: [.log], before: "log(softmax(a))", after: "log_softmax(a)") { g, n in
            guard let s = g.match(n, .log), let a = g.match(s, .softmax) else { return nil }
            return g.make(.logSoftmax, a)
        },
        Rule(name: "log1p", on: [.log], before: "log(1 + a), log(1 - a)", after: "log1p(a), log1p(-a)") { g, n in
            guard let s = g.match(n, .log) else { return nil }
            if let (one, a) = g.matchBinary(s, .add), g.constantValue(one) == 1 { return g.make(.log1p, a) }
            if let (a, one) = g.matchBinary(s, .add), g.constantValue(one) == 1 { return g.make(.log1p, a) }
            if let (one, a) = g.matchBinary(s, .sub), g.constantValue(one) == 1 { return g.make(.log1p, g.make(.neg, a)) }
            return nil
        },
        Rule(name: "expm1", on: [.sub, .add], before: "exp(a) - 1, exp(a) + (-1)", after: "expm1(a)") { g, n in
            if let (e, one) = g.matchBinary(n, .sub), g.constantValue(one) == 1, let a = g.match(e, .exp) { return g.make(.expm1, a) }
            for (e, m) in g.bothOrders(n, .add) where g.constantValue(m) == -1 {
                if let a = g.match(e, .exp) { return g.make(.expm1, a) }
            }
            return nil
        },
        Rule(name: "softplus", on: [.log1p], before: "log1p(exp(a))", after: "softplus(a)") { g, n in
            guard let e = g.match(n, .log1p), let a = g.match(e, .exp) else { return nil }
            return g.make(.softplus, a)
        },
        Rule(name: "sigmoid", on: [.div], before: "1 / (1 + exp(a))", after: "sigmoid(-a)") { g, n in
            guard let (one, d) = g.matchBinary(n, .div), g.constantValue(one) == 1 else { return nil }
            for (o, e) in g.bothOrders(d, .add) where g.constantValue(o) == 1 {
                if let a = g.match(e, .exp) { return g.make(.sigmoid, g.make(.neg, a)) }
            }
            return nil
        },
        Rule(name: "softplus-reflection", on: [.add], before: "a + softplus(-a)", after: "softplus(a)  (so a - log(sigmoid(a)) -> softplus(a))") { g, n in
            for (a, sp) in g.bothOrders(n, .add) {
                if let m = g.match(sp, .softplus), g.match(m, .neg) == a { return g.make(.softplus, a) }
            }
            return nil
        },
        Rule(name: "softplus-minus-argument", on: [.sub, .add], before: "softplus(a) - a, a - softplus(a)", after: "softplus(-a), -softplus(-a)") { g, n in
            // softplus(a) = a + softplus(-a): for large a the difference is far below an ulp of a and
            // cancels to 0 (then log of it is -inf where exact math gives -a).
            if let (sp, a) = g.matchBinary(n, .sub), g.match(sp, .softplus) == a { return g.make(.softplus, g.make(.neg, a)) }
            if let (a, sp) = g.matchBinary(n, .sub), g.match(sp, .softplus) == a { return g.make(.neg, g.make(.softplus, g.make(.neg, a))) }
            for (sp, m) in g.bothOrders(n, .add) {
                if let a = g.match(m, .neg), g.match(sp, .softplus) == a { return g.make(.softplus, m) }
            }
            return nil
        },
        Rule(name: "log-exp", on: [.log], before: "log(exp(a))", after: "a") { g, n in
            guard let e = g.match(n, .log) else { return nil }
            return g.match(e, .exp)
        },
        Rule(name: "erfc", on: [.sub], before: "1 - scaled_erf(a), 1 - scaled_erfc(a)", after: "scaled_erfc(a), scaled_erf(a)") { g, n in
            guard let (one, s) = g.matchBinary(n, .sub), g.constantValue(one) == 1 else { return nil }
            if let a = g.match(s, .scaledERF) { return g.make(.scaledERFC, a) }
            if let a = g.match(s, .scaledERFC) { return g.make(.scaledERF, a) }
            return nil
        },
        Rule(name: "softmax", on: [.div], before: "exp(a) / sum(exp(a))", after: "softmax(a)") { g, n in
            guard let (e, s) = g.matchBinary(n, .div), let a = g.match(e, .exp), g.match(s, .sum) == e else { return nil }
            return g.make(.softmax, a)
        },
        Rule(name: "ratio-complement", on: [.div], before: "(a - b) / a", after: "1 - b / a") { g, n in
            // CSE-Autoloss-A's (e - (i + 2)) / e: for a large a and a small b, a - b rounds away
            // b's digits, and the quotient rule's tangent (da·a - (a - b)·da) / a² subtracts two
            // nearly equal products: the float32 gradient was off by up to 47% on disjoint
            // boxes. 1 - b/a keeps b/a exact to an ulp, and its tangent has no such difference.
            guard let (num, a) = g.matchBinary(n, .div), let (a2, b) = g.matchBinary(num, .sub), a2 == a else { return nil }
            return g.make(.sub, g.constant(1), g.make(.div, b, a))
        },
        Rule(name: "sqrt-square", on: [.sqrt], before: "sqrt(a * a)", after: "abs(a)") { g, n in
            guard let m = g.match(n, .sqrt), let (a, b) = g.matchBinary(m, .mul), a == b else { return nil }
            return g.make(.abs, a)
        },
    ]

    /// Rewrites the live part of a graph with the rule table (after canonicalization).
    public static func run(_ g: Graph, roots: [NodeID], origins: SourceOrigins = [:], trace: ((String) -> Void)? = nil)
        -> (graph: Graph, roots: [NodeID], origins: SourceOrigins) {
        GraphRewriter.rebuild(g, roots: roots, origins: origins) { graph, node in
            var n = graph.canonical(node.op, node.args)
            var changed = true, rounds = 0
            while changed, rounds < 8 {
                changed = false; rounds += 1
                for rule in rulesByOp[Int(graph[n].op.rawValue)] {
                    if let r = rule.apply(&graph, n), r != n {
                        trace?(rule.name)
                        n = r; changed = true
                        break
                    }
                }
            }
            return n
        }
    }
}

extension Graph {
    /// The single argument of `n` if `n` is `op(a)`.
    func match(_ n: NodeID, _ op: Op) -> NodeID? { self[n].op == op ? self[n].args[0] : nil }
    /// The arguments of `n` if it is the binary `op(a, b)`.
    func matchBinary(_ n: NodeID, _ op: Op) -> (NodeID, NodeID)? {
        self[n].op == op ? (self[n].args[0], self[n].args[1]) : nil
    }
    /// For a commutative `op(a, b)`: both (a, b) and (b, a).
    func bothOrders(_ n: NodeID, _ op: Op) -> [(NodeID, NodeID)] {
        guard let (a, b) = matchBinary(n, op) else { return [] }
        return [(a, b), (b, a)]
    }
}
