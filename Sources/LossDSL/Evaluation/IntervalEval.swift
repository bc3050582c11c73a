/// Interval evaluation of a graph: a bound on every node's value when each input ranges over
/// an interval. The basis of the hazard check and of the convergence proofs (sign of a
/// derivative on a region). Linear in the number of nodes.
public struct IntervalEval: Sendable {
    public let graph: Graph
    public var classes: ClosedRange<Int> = 2...1000

    public init(graph: Graph) { self.graph = graph }

    /// Bounds for every live node. `inputs[k]` bounds input k (each class of a class vector);
    /// params are points. Where an operator's domain is violated, the bound passed on is the
    /// one of its valid part (the hazard itself is reported separately), so one hazard does
    /// not hide the rest.
    public func bounds(roots: [NodeID], inputs: [Interval], params: [Double]) -> [Interval] {
        let live = graph.reachable(from: roots)
        var b = [Interval](repeating: .everything, count: graph.count)
        for i in 0..<graph.count where live[i] {
            let n = graph.nodes[i]
            switch n.op {
            case .constant: b[i] = Interval(point: n.constant)
            case .param: b[i] = Interval(point: params[Int(n.index)])
            case .input: b[i] = inputs[Int(n.index)]
            default:
                var args = n.args.map { b[Int($0)] }
                switch n.op {
                case .log, .sqrt: args[0].lo = Swift.max(args[0].lo, 0)
                case .log1p: args[0].lo = Swift.max(args[0].lo, -1)
                default: break
                }
                b[i] = n.op.interval(args, classes: classes)
            }
        }
        return b
    }
}

/// A place where a formula can produce NaN or an infinity from inputs in its domain.
public struct Hazard: Sendable {
    public let node: NodeID
    public let kind: DomainHazard
    /// The bound of the offending argument.
    public let argument: Interval
}

/// Finds log/sqrt of values that can be negative or zero, divisions by values that can be
/// zero, and exps that can overflow in float32, over the kind's input domain (README
/// documents the domains), on the stabilized graph.
public enum HazardCheck {
    public static func hazards(graph: Graph, root: NodeID, kind: LossKind, params: [Double]) -> [Hazard] {
        let bounds = IntervalEval(graph: graph).bounds(roots: [root], inputs: kind.inputs.map(\.domain), params: params)
        let live = graph.reachable(from: [root])
        var out: [Hazard] = []
        for i in 0..<graph.count where live[i] {
            let n = graph.nodes[i]
            guard !n.op.isLeaf else { continue }
            let args = n.args.map { bounds[Int($0)] }
            for h in n.op.hazards(args) {
                let arg = (n.op == .div ? args[1] : args[0])
                out.append(Hazard(node: NodeID(i), kind: h, argument: arg))
            }
        }
        return out
    }

    /// Hazards of a compiled loss as diagnostics pointing at the source that produced them.
    public static func diagnostics(_ loss: CompiledLoss) -> [Diagnostic] {
        let f = loss.optimizedFormula
        return hazards(graph: f.graph, root: f.roots[0], kind: loss.kind, params: loss.formula.paramValues).map { h in
            let span = f.origins[h.node]
            let arg = "its argument ranges over \(h.argument)"
            switch h.kind {
            case .logOfNegative:
                return Diagnostic("hazard-log-negative", .error, at: span, "log of a value that can be negative (NaN): \(arg)",
                                  hint: "a raw logit can be negative: use log(sigmoid(x)) for a log-probability, or guard the argument")
            case .logOfZero:
                return Diagnostic("hazard-log-zero", .warning, at: span, "log of a value that can be 0 (-inf): \(arg)",
                                  hint: "keep the argument away from 0, e.g. log(a + 1e-7), or use a form that is positive by construction")
            case .sqrtOfNegative:
                return Diagnostic("hazard-sqrt-negative", .error, at: span, "sqrt of a value that can be negative (NaN): \(arg)",
                                  hint: "use sqrt(abs(a)) or sqrt(relu(a)) if that is what you mean")
            case .powOfNegative:
                return Diagnostic("hazard-pow-negative", .error, at: span, "a fractional power of a value that can be negative (NaN): \(arg)",
                                  hint: "use an integer exponent, or raise abs(a) or relu(a)")
            case .divisionByZero:
                return Diagnostic("hazard-division-by-zero", .warning, at: span, "division by a value that can be 0: the divisor ranges over \(h.argument)",
                                  hint: "keep the divisor away from 0, e.g. a / (b + 1e-7)")
            case .expOverflow(let doubleOK):
                return Diagnostic("hazard-exp-overflow", .warning, at: span,
                                  "exp can overflow in float32\(doubleOK ? "" : " and float64"): \(arg); expf overflows above 88.72",
                                  hint: "use softplus(a) for log(1 + exp(a)), sigmoid(a) for 1/(1 + exp(-a)), log_softmax for log(softmax), or exp(min(a, 88))")
            }
        }
    }
}

