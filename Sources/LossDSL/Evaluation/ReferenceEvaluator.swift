/// One input value of a sample: a scalar, or a class vector (multiclass x and y).
public enum InputValue<T: LossReal>: Sendable {
    case scalar(T)
    case vector([T])
}

/// The reference evaluator: walks the graph node by node for one sample at a time, in
/// Float or Double. Slow and obviously correct; it is the oracle every backend is tested
/// against. A scalar where a class vector is expected is broadcast over the classes.
public struct ReferenceEvaluator<T: LossReal>: Sendable {
    public let graph: Graph
    public let roots: [NodeID]
    public let params: [T]
    private let order: [Int]

    public init(graph: Graph, roots: [NodeID], params: [Double]) {
        self.graph = graph
        self.roots = roots
        self.params = params.map { T($0) }
        let live = graph.reachable(from: roots)
        order = (0..<graph.count).filter { live[$0] }
    }

    /// Evaluates the roots for one sample. `inputs` is indexed like the kind's inputs
    /// (entries for inputs the graph does not use are ignored). Each result is a scalar
    /// (`[v]`) or a class vector.
    public func evaluate(_ inputs: [InputValue<T>]) -> [[T]] {
        var classes = 1
        for v in inputs { if case .vector(let a) = v { classes = a.count } }
        var scalars = [T](repeating: 0, count: graph.count)
        var vectors = [[T]](repeating: [], count: graph.count)
        var scratch = [T](repeating: 0, count: classes)

        func vec(_ id: NodeID) -> [T] {
            let v = vectors[Int(id)]
            return v.isEmpty ? [T](repeating: scalars[Int(id)], count: classes) : v
        }

        for i in order {
            let n = graph.nodes[i]
            switch n.op {
            case .constant: scalars[i] = T(n.constant)
            case .param: scalars[i] = params[Int(n.index)]
            case .input:
                switch inputs[Int(n.index)] {
                case .scalar(let v): scalars[i] = v
                case .vector(let v): vectors[i] = v
                }
            default:
                switch n.op.shapeRule {
                case .classMap:
                    let a = vec(n.args[0])
                    if scratch.count != a.count { scratch = [T](repeating: 0, count: a.count) }
                    _ = n.op.applyClassAxis(a, [], into: &scratch)
                    vectors[i] = scratch
                case .classReduce:
                    let a = vec(n.args[0])
                    let b = n.args.count > 1 ? vec(n.args[1]) : []
                    scalars[i] = n.op.applyClassAxis(a, b, into: &scratch)
                case .elementwise:
                    if graph.shapes[i] == .scalar {
                        let a = n.args.map { scalars[Int($0)] }
                        scalars[i] = n.op.apply(a[0], a.count > 1 ? a[1] : 0, a.count > 2 ? a[2] : 0)
                    } else {
                        let a = n.args.map { vec($0) }
                        vectors[i] = (0..<classes).map { k in
                            n.op.apply(a[0][k], a.count > 1 ? a[1][k] : 0, a.count > 2 ? a[2][k] : 0)
                        }
                    }
                }
            }
        }
        return roots.map { r in vectors[Int(r)].isEmpty ? [scalars[Int(r)]] : vectors[Int(r)] }
    }
}

extension CompiledLoss {
    /// Evaluates the loss and its gradient for one sample with the reference evaluator.
    /// `inputs` follows the kind's input order; box losses take the coordinates
    /// (inputs 3...10) and ignore i, u, e. Multiclass gradients have C entries
    /// (`classes` says how many when the gradient is broadcast).
    public func evaluate<T: LossReal>(_ inputs: [InputValue<T>], as: T.Type = T.self) -> (loss: T, gradient: [T]) {
        let ev = ReferenceEvaluator<T>(graph: graph, roots: [value] + gradient, params: formula.paramValues)
        return Self.unpack(ev.evaluate(inputs), inputs: inputs)
    }

    /// Splits evaluator output into the loss and a flat gradient (broadcast gradients expanded).
    public static func unpack<T: LossReal>(_ out: [[T]], inputs: [InputValue<T>]) -> (loss: T, gradient: [T]) {
        var classes = 1
        for v in inputs { if case .vector(let a) = v { classes = a.count } }
        var grad: [T] = []
        for g in out.dropFirst() {
            if g.count == 1, classes > 1, case .vector? = inputs.first { grad += [T](repeating: g[0], count: classes) } else { grad += g }
        }
        return (out[0][0], grad)
    }

    /// A reusable evaluator for many samples.
    public func evaluator<T: LossReal>(_: T.Type) -> ReferenceEvaluator<T> {
        ReferenceEvaluator<T>(graph: graph, roots: [value] + gradient, params: formula.paramValues)
    }
}
