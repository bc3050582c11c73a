import LossDSL

/// The reference evaluator's semantics applied to a whole batch at once, one node at a time
/// over a column of samples, so the per-node dispatch is paid once per batch instead of once
/// per sample. Stage 1's sampling and stage 2's trainers run thousands of samples per
/// candidate; per-sample `ReferenceEvaluator` calls would cost tens of milliseconds.
///
/// It reads the operator table only (`Op.apply`, `Op.applyClassAxis`) in the same order as
/// `ReferenceEvaluator`, so its results are bit-identical to it (the tests check this).
public struct ColumnEvaluator<T: LossReal>: Sendable {
    /// The graph evaluated.
    public let graph: Graph
    /// The nodes whose columns `evaluate` returns.
    public let roots: [NodeID]
    let params: [T]
    let order: [Int]
    // The live nodes' operators and arguments as flat arrays (no Node copies while evaluating).
    let ops: [Op]
    let arg0: [Int], arg1: [Int], arg2: [Int], arity: [Int]
    /// For each node, the node after whose evaluation its column is no longer needed (-1:
    /// a root, kept): columns are freed there, so memory follows the width of the graph,
    /// not its size (a 200,000-term sum holds a few columns at a time, not 200,000).
    let lastUse: [Int]

    /// Prepares the live part of `graph` for `roots`, with the params' values.
    public init(graph: Graph, roots: [NodeID], params: [Double]) {
        self.graph = graph
        self.roots = roots
        self.params = params.map { T($0) }
        let live = graph.reachable(from: roots)
        order = (0..<graph.count).filter { live[$0] }
        // Only live nodes are filled in (a compiled graph also holds the dead nodes of its passes).
        var ops = [Op](repeating: .constant, count: graph.count)
        var arity = [Int](repeating: 0, count: graph.count), a0 = arity, a1 = arity, a2 = arity
        for i in order {
            let args = graph.nodes[i].args
            ops[i] = graph.nodes[i].op
            arity[i] = args.count
            if args.count > 0 { a0[i] = Int(args[0]) }
            if args.count > 1 { a1[i] = Int(args[1]) }
            if args.count > 2 { a2[i] = Int(args[2]) }
        }
        self.ops = ops; self.arity = arity; arg0 = a0; arg1 = a1; arg2 = a2
        var last = [Int](repeating: -1, count: graph.count)
        for i in order {
            if arity[i] > 0 { last[a0[i]] = i }
            if arity[i] > 1 { last[a1[i]] = i }
            if arity[i] > 2 { last[a2[i]] = i }
        }
        for r in roots { last[Int(r)] = -1 }
        lastUse = last
    }

    /// One evaluated column: `values` holds one entry per sample, or `rows * classes` entries
    /// (sample-major) for a class vector; `uniform` columns hold one value for every sample.
    public struct Column: Sendable {
        /// The entries, laid out as `layout` says.
        public var values: [T]
        /// How `values` maps to samples and classes.
        public var layout: Layout
        /// One value for all samples, one per sample, or one per sample and class.
        public enum Layout: Int, Sendable { case uniform, scalar, classVector }

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
        var values = [[T]](repeating: [], count: graph.count)
        var layouts = [Column.Layout](repeating: .uniform, count: graph.count)
        for i in order {
            switch ops[i] {
            case .constant: values[i] = [T(graph.nodes[i].constant)]
            case .param: values[i] = [params[Int(graph.nodes[i].index)]]
            case .input:
                let v = inputs[Int(graph.nodes[i].index)]
                values[i] = v
                layouts[i] = v.count == 1 && rows != 1 ? .uniform : (graph.shapes[i] == .classVector ? .classVector : .scalar)
            case let op:
                let col: Column
                if op.shapeRule == .elementwise {
                    col = elementwise(op, i, values, layouts, rows: rows, classes: classes)
                } else {
                    var args = [Column(values: values[arg0[i]], layout: layouts[arg0[i]])]
                    if arity[i] > 1 { args.append(Column(values: values[arg1[i]], layout: layouts[arg1[i]])) }
                    col = classAxis(op, args, rows: rows, classes: classes)
                }
                values[i] = col.values
                layouts[i] = col.layout
                if lastUse[arg0[i]] == i { values[arg0[i]] = [] }
                if arity[i] > 1, lastUse[arg1[i]] == i { values[arg1[i]] = [] }
                if arity[i] > 2, lastUse[arg2[i]] == i { values[arg2[i]] = [] }
            }
        }
        return roots.map { Column(values: values[Int($0)], layout: layouts[Int($0)]) }
    }

    private func elementwise(_ op: Op, _ i: Int, _ values: [[T]], _ layouts: [Column.Layout], rows: Int, classes: Int) -> Column {
        // The result's layout is the widest of its arguments'; narrower ones are broadcast.
        let n = arity[i]
        var raw = layouts[arg0[i]].rawValue
        if n > 1 { raw = Swift.max(raw, layouts[arg1[i]].rawValue) }
        if n > 2 { raw = Swift.max(raw, layouts[arg2[i]].rawValue) }
        let layout = Column.Layout(rawValue: raw) ?? .classVector
        let count = layout == .uniform ? 1 : (layout == .scalar ? rows : rows * classes)
        func arg(_ a: Int) -> [T] { expand(values[a], layouts[a], to: layout, rows: rows, classes: classes) }
        let x = arg(arg0[i])
        var out = [T](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { x in
                switch n {
                case 1:
                    for k in 0..<count { o[k] = op.apply(x[k]) }
                case 2:
                    arg(arg1[i]).withUnsafeBufferPointer { y in
                        for k in 0..<count { o[k] = op.apply(x[k], y[k]) }
                    }
                default:
                    arg(arg1[i]).withUnsafeBufferPointer { y in
                        arg(arg2[i]).withUnsafeBufferPointer { z in
                            for k in 0..<count { o[k] = op.apply(x[k], y[k], z[k]) }
                        }
                    }
                }
            }
        }
        return Column(values: out, layout: layout)
    }

    /// A column in a wider layout (a copy only when the layouts differ).
    private func expand(_ v: [T], _ from: Column.Layout, to layout: Column.Layout, rows: Int, classes: Int) -> [T] {
        if from == layout { return v }
        switch (from, layout) {
        case (.uniform, .scalar): return [T](repeating: v[0], count: rows)
        case (.uniform, .classVector): return [T](repeating: v[0], count: rows * classes)
        case (.scalar, .classVector):
            var out = [T](); out.reserveCapacity(rows * classes)
            for r in 0..<rows { for _ in 0..<classes { out.append(v[r]) } }
            return out
        default: return v
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
