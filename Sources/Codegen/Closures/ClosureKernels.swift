import LossDSL

/// The register file of one call: a pointer to each register's block (see `Workspace`).
typealias Registers<T> = UnsafeMutablePointer<UnsafeMutablePointer<T>>

/// One compiled instruction: computes its register for a block of `rows` samples with
/// `classes` classes each (`classes` is 1 except for `multiclass`).
typealias BlockOp<T> = @Sendable (_ regs: Registers<T>, _ rows: Int, _ classes: Int) -> Void

/// An instruction argument as the loop templates see it.
enum BlockArg<T: BlockReal> {
    /// A register of the instruction's own shape.
    case full(Int)
    /// A scalar register read by a class-vector instruction: one value per sample, the same
    /// on every class of that sample.
    case row(Int)
    /// A constant broadcast everywhere.
    case constant(T)
}

/// Loop templates: each returns a closure that runs one elementwise operation over a block,
/// specialized by the kinds of its arguments, so the per-element work is a tight loop over
/// raw pointers that the compiler vectorizes (no bounds or exclusivity checks on pointers).
///
/// Each template is generic over the element function's type `F` (see `ElementOp`), so the
/// specialized closure has the operator's math inlined into its loop.
enum Loops {
    @inline(__always)
    static func unary<T: BlockReal, F: ElementOp>(_ f: F.Type, _ a: BlockArg<T>, _ o: Int, vector: Bool, scratch: Int) -> BlockOp<T> {
        guard case .full(let ra) = a else { return general(f, [a], o, vector: vector, scratch: scratch) }
        return { regs, rows, classes in
            let n = vector ? rows * classes : rows
            let x = regs[ra], y = regs[o]
            for i in 0..<n { y[i] = F.apply(x[i], 0, 0) }
        }
    }

    @inline(__always)
    static func binary<T: BlockReal, F: ElementOp>(_ f: F.Type, _ a: BlockArg<T>, _ b: BlockArg<T>, _ o: Int, vector: Bool,
                                                   scratch: Int) -> BlockOp<T> {
        switch (a, b) {
        case (.full(let ra), .full(let rb)):
            return { regs, rows, classes in
                let n = vector ? rows * classes : rows
                let x = regs[ra], z = regs[rb], y = regs[o]
                for i in 0..<n { y[i] = F.apply(x[i], z[i], 0) }
            }
        case (.full(let ra), .constant(let c)):
            return { regs, rows, classes in
                let n = vector ? rows * classes : rows
                let x = regs[ra], y = regs[o]
                for i in 0..<n { y[i] = F.apply(x[i], c, 0) }
            }
        case (.constant(let c), .full(let rb)):
            return { regs, rows, classes in
                let n = vector ? rows * classes : rows
                let z = regs[rb], y = regs[o]
                for i in 0..<n { y[i] = F.apply(c, z[i], 0) }
            }
        case (.full(let ra), .row(let rb)):
            return { regs, rows, classes in
                let x = regs[ra], z = regs[rb], y = regs[o]
                for r in 0..<rows {
                    let s = z[r], base = r * classes
                    for k in base..<(base + classes) { y[k] = F.apply(x[k], s, 0) }
                }
            }
        case (.row(let ra), .full(let rb)):
            return { regs, rows, classes in
                let x = regs[ra], z = regs[rb], y = regs[o]
                for r in 0..<rows {
                    let s = x[r], base = r * classes
                    for k in base..<(base + classes) { y[k] = F.apply(s, z[k], 0) }
                }
            }
        default:
            return general(f, [a, b], o, vector: vector, scratch: scratch)
        }
    }

    /// Any argument kinds: arguments that are not full registers are first expanded into
    /// scratch registers (`scratch`, `scratch + 1`, …), then one loop runs over full blocks.
    @inline(__always)
    static func general<T: BlockReal, F: ElementOp>(_ f: F.Type, _ args: [BlockArg<T>], _ o: Int, vector: Bool,
                                                    scratch: Int) -> BlockOp<T> {
        return { regs, rows, classes in
            let n = vector ? rows * classes : rows
            let p0 = materialize(args[0], regs, scratch, rows, vector ? classes : 1)
            let p1 = args.count > 1 ? materialize(args[1], regs, scratch + 1, rows, vector ? classes : 1) : p0
            let p2 = args.count > 2 ? materialize(args[2], regs, scratch + 2, rows, vector ? classes : 1) : p0
            let y = regs[o]
            for i in 0..<n { y[i] = F.apply(p0[i], p1[i], p2[i]) }
        }
    }

    /// A pointer to a full block of the argument's values, expanding it into register `into`
    /// when it is a broadcast.
    @inline(__always)
    static func materialize<T: BlockReal>(_ a: BlockArg<T>, _ regs: Registers<T>, _ into: Int,
                                          _ rows: Int, _ classes: Int) -> UnsafeMutablePointer<T> {
        switch a {
        case .full(let r): return regs[r]
        case .constant(let c):
            let p = regs[into]
            p.update(repeating: c, count: rows * classes)
            return p
        case .row(let r):
            let p = regs[into], s = regs[r]
            for i in 0..<rows { (p + i * classes).update(repeating: s[i], count: classes) }
            return p
        }
    }

    /// A fused pair (see `FusedOp`) over four registers (unused ones repeat the first).
    @inline(__always)
    static func fused<T: BlockReal, K: FusedOp>(_ k: K.Type, _ p: (Int, Int, Int, Int), _ o: Int, vector: Bool) -> BlockOp<T> {
        return { regs, rows, classes in
            let n = vector ? rows * classes : rows
            let a = regs[p.0], b = regs[p.1], c = regs[p.2], d = regs[p.3], y = regs[o]
            for i in 0..<n { y[i] = K.apply(a[i], b[i], c[i], d[i]) }
        }
    }

    /// A C block function (`CLossMath`) over the block.
    @inline(__always)
    static func vectorFunction<T: BlockReal>(_ fn: VectorFunction, _ a: BlockArg<T>, _ o: Int, vector: Bool,
                                             scratch: Int) -> BlockOp<T> {
        return { regs, rows, classes in
            let x = materialize(a, regs, scratch, rows, vector ? classes : 1)
            T.apply(fn, x, regs[o], vector ? rows * classes : rows)
        }
    }
}
