import LossDSL

/// Interval evaluation of a graph prepared once and run on many boxes of inputs: the inner
/// step of every convergence proof. It reads the operator table only (`Op.classInterval`,
/// `Op.hazards`), with class vectors bounded per group (true class, others; see
/// `ClassInterval`).
///
/// A box is *clean* when every live node's bound is finite and no operator can leave its
/// domain (log or sqrt of a negative, a fractional power of a negative, division by zero).
/// Only on a clean box do the root bounds describe real, finite values, so a proof accepts a
/// box only when it is clean.
public struct IntervalProgram: Sendable {
    /// The graph bounded.
    public let graph: Graph
    /// The nodes whose bounds `bounds` returns.
    public let roots: [NodeID]
    /// The number of classes the class-axis operators assume (1 for scalar kinds).
    public let classes: Int
    let params: [Double]
    let order: [Int]

    /// Prepares the live part of `graph` for `roots` (params as points; `classes` classes).
    public init(graph: Graph, roots: [NodeID], params: [Double], classes: Int = 1) {
        self.graph = graph
        self.roots = roots
        self.params = params
        self.classes = classes
        let live = graph.reachable(from: roots)
        order = (0..<graph.count).filter { live[$0] }
    }

    /// The result of bounding the graph over one box.
    public struct Bounds: Sendable {
        /// One bound per root.
        public var roots: [ClassInterval]
        /// Every live bound finite and no domain hazard: the root bounds are sound.
        public var clean: Bool
        /// Every live operator smooth over the box (`Op.isSmooth`): Taylor bounds are valid.
        public var smooth: Bool
    }

    /// Bounds the roots when input `k` ranges over `inputs[k]` (indices past the end, or inputs
    /// the caller leaves `nil`, are unbounded).
    public func bounds(_ inputs: [ClassInterval?]) -> Bounds {
        var b = [ClassInterval](repeating: ClassInterval(scalar: .everything), count: graph.count)
        var clean = true, smooth = true
        for i in order {
            let n = graph.nodes[i]
            switch n.op {
            case .constant: b[i] = ClassInterval(scalar: Interval(point: n.constant))
            case .param: b[i] = ClassInterval(scalar: Interval(point: params[Int(n.index)]))
            case .input:
                let k = Int(n.index)
                b[i] = k < inputs.count ? (inputs[k] ?? ClassInterval(scalar: .everything)) : ClassInterval(scalar: .everything)
            default:
                let args = n.args.map { b[Int($0)] }
                let r = n.op.classInterval(args, classes: classes)
                b[i] = r
                if smooth, !n.op.isSmooth(args.map(\.t)) || (args.contains { $0.t != $0.o } && !n.op.isSmooth(args.map(\.o))) {
                    smooth = false
                }
                if clean {
                    if !r.isFinite || hasHazard(n.op, args.map(\.t)) || (args.contains { $0.t != $0.o } && hasHazard(n.op, args.map(\.o))) {
                        clean = false
                    }
                }
            }
        }
        return Bounds(roots: roots.map { b[Int($0)] }, clean: clean, smooth: smooth)
    }

    private func hasHazard(_ op: Op, _ args: [Interval]) -> Bool {
        op.hazards(args).contains { h in
            if case .expOverflow = h { return false }  // an overflow to inf shows in the bounds
            return true
        }
    }
}
