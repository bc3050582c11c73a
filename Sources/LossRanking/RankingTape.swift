import LossDSL

/// A flat evaluator for some roots of a ranking graph over a block of points, without
/// allocation per call: what the ranking kernels run for per-pair, per-positive and per-entry
/// expressions.
///
/// The caller names the inputs that vary over the block (e.g. d, sj, uj for the pairs of one
/// positive); every node that depends on none of them is *uniform* and is computed once by
/// `runUniform()`. Each register has a stride, 0 for uniform and 1 for varying ones, so an
/// instruction is one loop `dst[k] = op(a[k*sa], b[k*sb], c[k*sc])` with no branch on the kind
/// of its arguments. The math is `Op.apply`, the operator table's, in the same order as the
/// reference evaluator, so results are bit-identical to it.
final class RankingTape<T: LossReal> {
    private struct Instruction {
        let op: Op
        let dst: Int, a: Int, b: Int, c: Int
        let sa: Int, sb: Int, sc: Int
    }

    let blockSize: Int
    private let storage: UnsafeMutablePointer<T>
    private let size: Int
    /// Register offset of each live node (-1 elsewhere), and its stride (0 uniform, 1 varying).
    private var offset: [Int]
    private var stride: [Int]
    private var uniformCode: [Instruction] = []
    private var varyingCode: [Instruction] = []
    /// Register of each live input leaf, by graph input index.
    private var inputs: [Int: Int] = [:]
    private let roots: [NodeID]

    /// `varying`: the graph input indices that vary over a block.
    init(graph g: Graph, roots: [NodeID], params: [Double], varying: Set<Int>, blockSize: Int = 256) {
        self.blockSize = blockSize
        self.roots = roots
        let live = g.reachable(from: roots)
        offset = [Int](repeating: -1, count: g.count)
        stride = [Int](repeating: 0, count: g.count)
        // Register 0 is a constant zero for missing arguments.
        var next = 1
        let isVarying = g.varying(on: varying, from: roots)
        for i in 0..<g.count where live[i] {
            offset[i] = next
            stride[i] = isVarying[i] ? 1 : 0
            next += isVarying[i] ? blockSize : 1
        }
        size = next
        storage = .allocate(capacity: size)
        storage.initialize(repeating: 0, count: size)
        for i in 0..<g.count where live[i] {
            let n = g.nodes[i]
            switch n.op {
            case .constant: storage[offset[i]] = T(n.constant)
            case .param: storage[offset[i]] = T(params[Int(n.index)])
            case .input: inputs[Int(n.index)] = i
            default:
                precondition(n.op.shapeRule == .elementwise, "ranking graphs have no class axis")
                let r = n.args.map { offset[Int($0)] }, s = n.args.map { stride[Int($0)] }
                let ins = Instruction(op: n.op, dst: offset[i], a: r.first ?? 0, b: r.count > 1 ? r[1] : 0, c: r.count > 2 ? r[2] : 0,
                                      sa: s.first ?? 0, sb: s.count > 1 ? s[1] : 0, sc: s.count > 2 ? s[2] : 0)
                if isVarying[i] { varyingCode.append(ins) } else { uniformCode.append(ins) }
            }
        }
    }

    deinit { storage.deallocate() }

    var rootCount: Int { roots.count }

    /// Whether the roots depend on graph input `index`.
    func uses(_ index: Int) -> Bool { inputs[index] != nil }

    /// Sets a uniform input (ignored when the roots do not use it).
    func setUniform(_ index: Int, _ v: T) {
        if let n = inputs[index] { storage[offset[n]] = v }
    }

    /// The block buffer of a varying input, or nil when the roots do not use it.
    func varyingInput(_ index: Int) -> UnsafeMutablePointer<T>? {
        guard let n = inputs[index], stride[n] == 1 else { return nil }
        return storage + offset[n]
    }

    /// Computes the uniform nodes (after the uniform inputs are set).
    func runUniform() {
        let m = storage
        for ins in uniformCode { m[ins.dst] = ins.op.apply(m[ins.a], m[ins.b], m[ins.c]) }
    }

    /// Computes the varying nodes for the first `count` points of the block.
    func run(count: Int) {
        let m = storage
        for ins in varyingCode {
            ins.op.applyBlock(count, m + ins.dst, m + ins.a, ins.sa, m + ins.b, ins.sb, m + ins.c, ins.sc)
        }
    }

    /// Root `k`'s values: point `p` of the block is `values[p * stride]`.
    func root(_ k: Int) -> (values: UnsafePointer<T>, stride: Int) {
        let n = Int(roots[k])
        return (UnsafePointer(storage + offset[n]), stride[n])
    }
}

extension Op {
    /// `d[k] = apply(a[k*sa], b[k*sb], c[k*sc])` for k < count, with the operator chosen once
    /// outside the loop (`withElementFunction`): the loop is specialized for the operator's own
    /// math. A per-element switch costs more than most of the operators themselves.
    @inline(__always)
    func applyBlock<T: LossReal>(_ count: Int, _ d: UnsafeMutablePointer<T>, _ a: UnsafeMutablePointer<T>, _ sa: Int,
                                 _ b: UnsafeMutablePointer<T>, _ sb: Int, _ c: UnsafeMutablePointer<T>, _ sc: Int) {
        precondition(shapeRule == .elementwise && !isLeaf, "\(name) is not elementwise")
        withElementFunction(BlockLoop(count: count, d: d, a: a, sa: sa, b: b, sb: sb, c: c, sc: sc))
    }
}

/// One strided loop over a block, specialized for an element function.
private struct BlockLoop<T: LossReal>: ElementFunctionVisitor {
    let count: Int, d: UnsafeMutablePointer<T>
    let a: UnsafeMutablePointer<T>, sa: Int, b: UnsafeMutablePointer<T>, sb: Int, c: UnsafeMutablePointer<T>, sc: Int
    @inline(__always) func visit<F: ElementFunction>(_ f: F.Type) {
        for k in 0..<count { d[k] = F.apply(a[k &* sa], b[k &* sb], c[k &* sc]) }
    }
}
