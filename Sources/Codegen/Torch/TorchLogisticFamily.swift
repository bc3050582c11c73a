import LossDSL

/// The sigmoids and softpluses of one tensor `b` and of `-b`, written over one shared
/// `e = exp(-|b|)` for `torch.compile`.
///
/// Stabilization leaves focal-type losses with `sigmoid(x)`, `sigmoid(-x)`, `softplus(x)` and
/// `softplus(-x)` side by side: four exponentials and two `log1p`s per element, which is what
/// Inductor's fused CPU loop spends its time on. With `e = exp(-|b|)`, `r = 1/(1 + e)` and
/// `l = log1p(e)`, each is exact algebra and as stable as the operator's own formula:
///
///     sigmoid(b)  = where(b >= 0, r, e·r)      softplus(b)  = relu(b)  + l
///     sigmoid(-b) = where(b >= 0, e·r, r)      softplus(-b) = relu(-b) + l
///
/// (NaN stays NaN: |NaN| compares false and e is NaN; ±inf give e = 0 and the limits.)
/// In eager mode the same rewrite costs more full-size tensor passes than it saves, so the
/// module calls the shared form only while compiling (`torch.compiler.is_compiling()`).
struct TorchLogisticFamily {
    /// For each member node: the shared base and whether the member reads `-base`.
    let members: [NodeID: (base: NodeID, negated: Bool)]
    /// Per base: whether a sigmoid and whether a softplus read it.
    let uses: [NodeID: (sigmoid: Bool, softplus: Bool)]

    /// The families among `nodes` (two or more members of one base; a lone operator keeps its
    /// own spelling). `isFloat` nodes (params, invariants) are left alone.
    init(_ graph: Graph, nodes: [NodeID], isFloat: (NodeID) -> Bool) {
        var byBase: [NodeID: [(NodeID, Bool)]] = [:]
        for id in nodes {
            let n = graph[id]
            guard n.op == .sigmoid || n.op == .softplus, !isFloat(n.args[0]) else { continue }
            let a = graph[n.args[0]]
            if a.op == .neg { byBase[a.args[0], default: []].append((id, true)) } else { byBase[n.args[0], default: []].append((id, false)) }
        }
        var members: [NodeID: (base: NodeID, negated: Bool)] = [:], uses: [NodeID: (sigmoid: Bool, softplus: Bool)] = [:]
        for (base, list) in byBase where list.count >= 2 {
            for (id, negated) in list { members[id] = (base, negated) }
            uses[base] = (list.contains { graph[$0.0].op == .sigmoid }, list.contains { graph[$0.0].op == .softplus })
        }
        self.members = members
        self.uses = uses
    }

    /// The shared temporaries' names for `base`.
    static func names(_ base: NodeID) -> (e: String, r: String, l: String, positive: String) {
        ("f\(base)_e", "f\(base)_r", "f\(base)_l", "f\(base)_pos")
    }

    /// The statements computing the shared values of `base` (named `b` in the element function).
    func shared(_ base: NodeID, _ b: String) -> String {
        let n = Self.names(base), use = uses[base] ?? (false, false)
        var s = "    \(n.e) = torch.exp(-torch.abs(\(b)))\n"
        if use.sigmoid { s += "    \(n.r) = 1.0 / (1.0 + \(n.e))\n    \(n.positive) = \(b) >= 0\n" }
        if use.softplus { s += "    \(n.l) = torch.log1p(\(n.e))\n" }
        return s
    }

    /// The expression of member `id` (a sigmoid or softplus of `b` or `-b`).
    func expression(_ graph: Graph, _ id: NodeID, _ b: String) -> String {
        guard let (base, negated) = members[id] else { return "" }
        let n = Self.names(base)
        if graph[id].op == .sigmoid {
            let small = "\(n.e) * \(n.r)"
            return negated ? "torch.where(\(n.positive), \(small), \(n.r))" : "torch.where(\(n.positive), \(n.r), \(small))"
        }
        return "torch.relu(\(negated ? "-" : "")\(b)) + \(n.l)"
    }

    /// The temporaries of `base`, to delete after its last member.
    func temporaries(_ base: NodeID) -> [String] {
        let n = Self.names(base), use = uses[base] ?? (false, false)
        return [n.e] + (use.sigmoid ? [n.r, n.positive] : []) + (use.softplus ? [n.l] : [])
    }
}
