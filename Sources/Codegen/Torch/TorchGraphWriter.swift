import LossDSL

/// Writes the graph of a per-sample loss as Python functions over torch tensors: one
/// statement per node, in id order (a topological order), reading `Op.torchSpelling`.
///
/// Three sorts of value appear:
/// - *tensors* `t<id>`: nodes that depend on the data (the kind's inputs);
/// - *floats*: constants (literals), params (`p<index>`) and nodes computed from params and
///   constants only (`k<id>`, the `KernelPlan`'s invariants), computed once per module in
///   float64 by `_invariants` and passed in as Python floats, so `torch.pow(t, 2.0)` keeps the
///   exponent a Python number (which torch specializes, and torch.compile folds);
/// - the inputs themselves (`x`, `y`, `w`; box coordinates are planes of `pred` and `target`).
/// Dead temporaries are deleted as soon as they are last read, so eager mode keeps few
/// full-size tensors alive at once.
struct TorchGraphWriter {
    let plan: KernelPlan
    var graph: Graph { plan.graph }
    var kind: LossKind { plan.kind }

    /// The tensor the module computes in (its dtype and device make 0-d constants).
    var reference: String { kind == .box ? "pred" : "x" }

    /// The helper names (`TorchSpelling.helper`) the value and gradient use.
    var helpersUsed: [String] {
        let live = graph.reachable(from: plan.allRoots)
        var names: [String] = []
        for i in 0..<graph.count where live[i] {
            if case .helper(let h, _) = graph.nodes[i].op.torchSpelling, !names.contains(h) { names.append(h) }
        }
        return names.sorted()
    }

    /// The invariants other than params, in the order `_invariants` returns them.
    var computedInvariants: [NodeID] { plan.invariants.filter { graph[$0].op != .param } }

    // MARK: invariants

    /// `_invariants(p)`: the param-only nodes as Python floats, computed with float64 tensors
    /// (so a division by a zero param gives inf, as in the kernels, not a Python exception).
    func invariantsFunction() -> String {
        var s = "def _invariants(p):\n"
        let list = computedInvariants
        guard !list.isEmpty else { return s + "    return ()\n\n\n" }
        let used = Set(list.flatMap { graph[$0].args })
        for (i, _) in plan.loss.formula.params.enumerated() where used.contains(where: { graph[$0].op == .param && graph[$0].index == i }) {
            s += "    p\(i) = torch.tensor(p[\(i)], dtype=torch.float64)\n"
        }
        for id in list {
            let args = graph[id].args.map { a -> String in
                let n = graph[a]
                switch n.op {
                case .constant: return "torch.tensor(\(PyNames.floatLiteral(n.constant)), dtype=torch.float64)"
                case .param: return "p\(n.index)"
                default: return "k\(a)"
                }
            }
            s += "    k\(id) = \(expression(id, args: args, literal: []))\n"
        }
        s += "    return (" + list.map { "k\($0).item()" }.joined(separator: ", ") + ",)\n\n\n"
        return s
    }

    // MARK: element functions

    /// Whether a node is a Python float in the element functions.
    func isFloat(_ id: NodeID) -> Bool { plan.isInvariant[Int(id)] }

    /// The name of a node's value in the element functions.
    func name(_ id: NodeID) -> String {
        let n = graph[id]
        switch n.op {
        case .constant: return PyNames.floatLiteral(n.constant)
        case .param: return "p\(n.index)"
        case .input where kind != .box: return ["x", "y", "w"][Int(n.index)]
        default: return plan.isInvariant[Int(id)] ? "k\(id)" : "t\(id)"
        }
    }

    /// The two forms of an element function: eager mode writes arithmetic into temporaries that
    /// die there (`a.mul_(b)`: no fresh full-size tensor, 2-3x cheaper per operation on the CPU);
    /// compiled mode is out of place, with logistic families sharing one exponential
    /// (`TorchLogisticFamily`), and lets Inductor fuse it.
    enum Form { case eager, compiled }

    /// A function `NAME(ARGS, p, k)` returning the roots, each broadcast to its output shape.
    func elementFunction(_ functionName: String, roots: [NodeID], form: Form = .eager) -> String {
        let inputs = kind == .box ? "pred, target" : "x, y, w"
        var s = "def \(functionName)(\(inputs), p, k):\n"
        let nodes = plan.elementNodes(roots).filter { !(graph[$0].op == .input && kind != .box) }
        // Params and invariants read by these nodes or returned as roots.
        var floats = Set(plan.invariantsRead(by: nodes, fast: false))
        for r in roots where plan.isInvariant[Int(r)] && graph[r].op != .constant { floats.insert(r) }
        let computed = computedInvariants
        for id in plan.invariants where floats.contains(id) {
            let n = graph[id]
            s += n.op == .param ? "    p\(n.index) = p[\(n.index)]\n" : "    k\(id) = k[\(computed.firstIndex(of: id)!)]\n"
        }
        if kind == .box {
            // The coordinates as four contiguous planes: elementwise ops on pred[..., k] (stride
            // 4) run about 1.6x slower in eager mode than on one contiguous copy.
            s += "    pred_planes = pred.movedim(-1, 0).contiguous()\n"
            s += "    target_planes = target.movedim(-1, 0).contiguous()\n"
        }
        let family = TorchLogisticFamily(graph, nodes: form == .compiled ? nodes : [], isFloat: isFloat)
        // The last statement reading each temporary (roots are read by the return); a family
        // member reads its base directly.
        var lastUse: [NodeID: Int] = [:], lastMember: [NodeID: Int] = [:]
        for (position, id) in nodes.enumerated() {
            for a in graph[id].args { lastUse[a] = position }
            if let m = family.members[id] { lastUse[m.base] = position; lastMember[m.base] = position }
        }
        for r in roots { lastUse[r] = nodes.count }
        var started = Set<NodeID>()
        // Temporaries that own their memory (results of arithmetic): the only in-place targets.
        // A helper may return its argument (`_pow(a, 1.0)`), a view may share an input's storage.
        var fresh = Set<NodeID>()
        let fromPrediction = self.fromPrediction
        for (position, id) in nodes.enumerated() {
            let n = graph[id]
            if n.op == .input {
                let side = n.index <= 6 ? "pred_planes" : "target_planes"
                s += "    t\(id) = \(side)[\((Int(n.index) - 3) % 4)]\n"
            } else if let m = family.members[id] {
                if started.insert(m.base).inserted { s += family.shared(m.base, name(m.base)) }
                s += "    t\(id) = \(family.expression(graph, id, name(m.base)))\n"
            } else if form == .eager, let inPlace = inPlaceExpression(id, position: position, lastUse: lastUse, fresh: &fresh, fromPrediction: fromPrediction) {
                s += "    t\(id) = \(inPlace)\n"
            } else {
                let literal = Set(n.args.filter(isFloat))
                s += "    t\(id) = \(expression(id, args: n.args.map(name), literal: literal))\n"
            }
            var read = Set(n.args)
            if let m = family.members[id] { read.insert(m.base) }
            var dead = read.filter { !isFloat($0) && lastUse[$0] == position && name($0).hasPrefix("t") }.sorted().map { "t\($0)" }
            if let m = family.members[id], lastMember[m.base] == position { dead += family.temporaries(m.base) }
            if !dead.isEmpty { s += "    del " + dead.joined(separator: ", ") + "\n" }
        }
        s += "    return " + outputs(roots).joined(separator: ", ") + "\n\n\n"
        return s
    }

    /// `a.OP_(b)` for node `id` when it is `a OP b` (or `-a`, or `b OP a` for + and *) and `a`
    /// is a fresh temporary read for the last time here, of the result's shape: computed from
    /// the prediction, which the module expands to the broadcast shape of all inputs, and of the
    /// result's class-axis shape. Nil when no argument qualifies.
    func inPlaceExpression(_ id: NodeID, position: Int, lastUse: [NodeID: Int], fresh: inout Set<NodeID>,
                           fromPrediction: [Bool]) -> String? {
        let n = graph[id]
        let methods = ["+": "add_", "-": "sub_", "*": "mul_", "/": "div_"]
        func target(_ a: NodeID) -> Bool {
            fresh.contains(a) && lastUse[a] == position && fromPrediction[Int(a)] && graph.shape(a) == graph.shape(id)
                && n.args.filter({ $0 == a }).count == 1
        }
        // Arithmetic owns its result, in place or not.
        switch n.op.torchSpelling {
        case .infix, .prefix: fresh.insert(id)
        default: return nil
        }
        switch n.op.torchSpelling {
        case .prefix("-") where target(n.args[0]):
            return "\(name(n.args[0])).neg_()"
        case .infix(let op) where methods[op] != nil && target(n.args[0]):
            return "\(name(n.args[0])).\(methods[op]!)(\(name(n.args[1])))"
        case .infix(let op) where (op == "+" || op == "*") && target(n.args[1]):
            return "\(name(n.args[1])).\(methods[op]!)(\(name(n.args[0])))"
        default:
            return nil
        }
    }

    /// Whether each node depends on the prediction (`x`, or `pred`'s coordinates).
    var fromPrediction: [Bool] {
        var out = [Bool](repeating: false, count: graph.count)
        for i in 0..<graph.count {
            let n = graph.nodes[i]
            if n.op == .input { out[i] = kind == .box ? (3...6).contains(Int(n.index)) : n.index == 0 }
            else { out[i] = n.args.contains { out[Int($0)] } }
        }
        return out
    }

    /// The roots as returned: each broadcast to its output shape (a tensor even when it is a
    /// float); for `box`, the four coordinate gradients stacked into one (..., 4) tensor.
    func outputs(_ roots: [NodeID]) -> [String] {
        func full(_ id: NodeID, _ shape: String) -> String { "_full(\(name(id)), \(shape), \(reference))" }
        let value: String
        switch kind {
        case .box: value = full(roots[0], "pred.shape[:-1]")
        case .multiclass: value = full(roots[0], "x[:, :1].shape")
        default: value = full(roots[0], "x.shape")
        }
        guard roots.count > 1 else { return [value] }
        let gradients = roots.dropFirst()
        if kind == .box { return [value, "torch.stack([" + gradients.map { full($0, "pred.shape[:-1]") }.joined(separator: ", ") + "], -1)"] }
        return [value] + gradients.map { full($0, "x.shape") }
    }

    /// The Python expression of node `id` over argument texts `args`; `literal` holds the
    /// arguments that are Python floats (made 0-d tensors where a torch function needs one).
    func expression(_ id: NodeID, args: [String], literal: Set<NodeID>) -> String {
        TorchGraphWriter.expression(graph, id, args: args, literal: literal, reference: reference)
    }

    /// `expression(_:args:literal:)` for any graph: `reference` names the tensor whose dtype and
    /// device 0-d constants take (the ranking emitter shares this writer; its graphs have no
    /// class-axis operators).
    static func expression(_ graph: Graph, _ id: NodeID, args: [String], literal: Set<NodeID>, reference: String) -> String {
        let n = graph[id]
        func tensor(_ k: Int) -> String { literal.contains(n.args[k]) ? "_k(\(args[k]), \(reference))" : args[k] }
        switch n.op.torchSpelling {
        case .infix(let op): return "\(args[0]) \(op) \(args[1])"
        case .prefix(let op): return "\(op)\(args[0])"
        case .function(let f, let numbers):
            return "\(f)(" + args.indices.map { numbers && $0 > 0 ? args[$0] : tensor($0) }.joined(separator: ", ") + ")"
        case .helper(let h, let numbers):
            return "_\(h)(" + args.indices.map { numbers && $0 > 0 ? args[$0] : tensor($0) }.joined(separator: ", ") + ")"
        case .classMap(let f):
            let a = graph.shape(n.args[0]) == .classVector ? args[0] : "torch.broadcast_to(\(tensor(0)), x.shape)"
            return "\(f)(\(a), 1)"
        case .classSum(let product):
            let operand = product ? "\(tensor(0)) * \(tensor(1))" : tensor(0)
            if n.args.allSatisfy({ graph.shape($0) == .scalar }) { return "(\(operand)) * x.shape[1]" }
            return "torch.sum(\(operand), 1, keepdim=True)"
        case .identity: return args[0]
        case .leaf: return args.first ?? "0.0"
        }
    }
}
