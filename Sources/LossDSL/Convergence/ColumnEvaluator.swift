/// The reference evaluator's semantics applied to a whole batch at once, one node at a time
/// over a column of samples, so the per-node dispatch is paid once per batch instead of once
/// per sample. Stage 1's sampling and stage 2's trainers run thousands of samples per
/// candidate; per-sample `ReferenceEvaluator` calls would cost tens of milliseconds.
///
/// It reads the operator table only (`Op.apply`, `Op.applyClassAxis`) in the same order as
/// `ReferenceEvaluator`, so its results are bit-identical to it (the tests check this).
public struct ColumnEvaluator<T: LossReal>: Sendable {
    public let graph: Graph
    public let roots: [NodeID]
    let params: [T]
    let order: [Int]

    public init(graph: Graph, roots: [NodeID], params: [Double]) {
        self.graph = graph
        self.roots = roots
        self.params = params.map { T($0) }
        let live = graph.reachable(from: roots)
        order = (0..<graph.count).filter { live[$0] }
    }

    /// One evaluated column: `values` holds one entry per sample, or `rows * classes` entries
    /// (sample-major) for a class vector; `uniform` columns hold one value for every sample.
    public struct Column: Sendable {
        public var values: [T]
        public var layout: Layout
        public enum Layout: Sendable { case uniform, scalar, classVector }

        /// The value of sample `row`, class `k` (broadcasting uniform and scalar columns).
        @inline(__always) public func at(_ row: Int, _ k: Int, classes: Int) -> T {
            switch layout {
            case .uniform: return values[0]
            case .scalar: return values[row]
            case .classVector: return values[row * classes + k]
            }
        }
    }

    /// Evaluates the roots for `rows` samples. `inputs[k]` is input k's column: `rows` values for
    /// a scalar input, `rows * classes` (sample-major) for a class vector, or a single value
    /// shared by every sample; inputs the graph does not use may be empty.
    public func evaluate(_ inputs: [[T]], rows: Int, classes: Int = 1) -> [Column] {
        var cols = [Column?](repeating: nil, count: graph.count)
        for i in order {
            let n = graph.nodes[i]
            switch n.op {
            case .constant: cols[i] = Column(values: [T(n.constant)], layout: .uniform)
            case .param: cols[i] = Column(values: [params[Int(n.index)]], layout: .uniform)
            case .input:
                let v = inputs[Int(n.index)]
                let layout: Column.Layout = v.count == 1 && rows != 1 ? .uniform
                    : (graph.shapes[i] == .classVector ? .classVector : .scalar)
                cols[i] = Column(values: v, layout: layout)
            default:
                let args = n.args.map { cols[Int($0)]! }
                switch n.op.shapeRule {
                case .elementwise: cols[i] = elementwise(n.op, args, rows: rows, classes: classes)
                case .classMap, .classReduce: cols[i] = classAxis(n.op, args, rows: rows, classes: classes)
                }
            }
        }
        return roots.map { cols[Int($0)]! }
    }

    private func elementwise(_ op: Op, _ args: [Column], rows: Int, classes: Int) -> Column {
        // The result's layout is the widest of its arguments'; narrower ones are broadcast.
        var layout = Column.Layout.uniform
        for a in args {
            if a.layout == .classVector { layout = .classVector } else if a.layout == .scalar, layout == .uniform { layout = .scalar }
        }
        let count = layout == .uniform ? 1 : (layout == .scalar ? rows : rows * classes)
        let a = args.map { expand($0, to: layout, rows: rows, classes: classes) }
        var out = [T](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            a[0].withUnsafeBufferPointer { x in
                switch a.count {
                case 1:
                    for k in 0..<count { o[k] = op.apply(x[k]) }
                case 2:
                    a[1].withUnsafeBufferPointer { y in
                        for k in 0..<count { o[k] = op.apply(x[k], y[k]) }
                    }
                default:
                    a[1].withUnsafeBufferPointer { y in
                        a[2].withUnsafeBufferPointer { z in
                            for k in 0..<count { o[k] = op.apply(x[k], y[k], z[k]) }
                        }
                    }
                }
            }
        }
        return Column(values: out, layout: layout)
    }

    /// A column in a wider layout (a copy only when the layouts differ).
    private func expand(_ c: Column, to layout: Column.Layout, rows: Int, classes: Int) -> [T] {
        if c.layout == layout { return c.values }
        switch (c.layout, layout) {
        case (.uniform, .scalar): return [T](repeating: c.values[0], count: rows)
        case (.uniform, .classVector): return [T](repeating: c.values[0], count: rows * classes)
        case (.scalar, .classVector):
            var out = [T](); out.reserveCapacity(rows * classes)
            for r in 0..<rows { for _ in 0..<classes { out.append(c.values[r]) } }
            return out
        default: return c.values
        }
    }

    private func classAxis(_ op: Op, _ args: [Column], rows: Int, classes: Int) -> Column {
        var a = [T](repeating: 0, count: classes), b = [T](), scratch = [T](repeating: 0, count: classes)
        if args.count > 1 { b = [T](repeating: 0, count: classes) }
        let maps = op.shapeRule == .classMap
        var out = [T](repeating: 0, count: maps ? rows * classes : rows)
        for r in 0..<rows {
            for k in 0..<classes { a[k] = args[0].at(r, k, classes: classes) }
            if args.count > 1 { for k in 0..<classes { b[k] = args[1].at(r, k, classes: classes) } }
            let s = op.applyClassAxis(a, b, into: &scratch)
            if maps { for k in 0..<classes { out[r * classes + k] = scratch[k] } } else { out[r] = s }
        }
        return Column(values: out, layout: maps ? .classVector : .scalar)
    }
}
